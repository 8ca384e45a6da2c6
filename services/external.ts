/** External servers named by the environment; the empty string counts as unset. */
export function externalServers(env: NodeJS.ProcessEnv): { temporalAddress?: string; mlflowUri?: string } {
  const temporalAddress = env.TEMPORAL_ADDRESS?.trim() || undefined;
  const mlflowUri = env.MLFLOW_TRACKING_URI?.trim().replace(/\/+$/, '') || undefined;
  if (mlflowUri && !/^https?:\/\//.test(mlflowUri)) {
    throw new Error(`MLFLOW_TRACKING_URI=${mlflowUri}: medsynth talks to MLflow over REST and needs an http(s):// tracking server`);
  }
  return { temporalAddress, mlflowUri };
}
