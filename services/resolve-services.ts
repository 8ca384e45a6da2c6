import { resolve } from 'node:path';
import { UserError } from '../errors.ts';
import { externalServers } from './external.ts';
import { isOurProcess } from './processes.ts';
import { readServicesState } from './services-state.ts';
import type { ServiceEndpoints } from './types.ts';

// a user's fix (start the services), so a UserError: one line, exit 1, no stack trace
const notRunning = (what: string, envVar: string, stateDir: string) =>
  new UserError(`${what} is not running for ${stateDir}: start it with \`medsynth services up\`, or set ${envVar} to use an existing server`);

/**
 * Where to connect: the env's external servers first, else the local ones recorded by
 * `servicesUp`. Checks only that the recorded processes are alive; connecting tells the rest.
 */
export async function resolveServices(stateDir: string, env: NodeJS.ProcessEnv = process.env): Promise<ServiceEndpoints> {
  const dir = resolve(stateDir);
  const external = externalServers(env);
  const state = external.temporalAddress && external.mlflowUri ? {} : await readServicesState(dir);

  const temporal = external.temporalAddress ? undefined : state.temporal;
  if (!external.temporalAddress && !(temporal && (await isOurProcess(temporal.pid, temporal.command)))) {
    throw notRunning('Temporal', 'TEMPORAL_ADDRESS', dir);
  }
  const mlflow = external.mlflowUri ? undefined : state.mlflow;
  if (!external.mlflowUri && !(mlflow && (await isOurProcess(mlflow.pid, mlflow.command)))) {
    throw notRunning('MLflow', 'MLFLOW_TRACKING_URI', dir);
  }
  const mlflowUri = external.mlflowUri ?? mlflow!.uri;
  return {
    temporalAddress: external.temporalAddress ?? temporal!.address,
    temporalUiUrl: temporal?.uiUrl,
    mlflowUri,
    mlflowUiUrl: mlflowUri,
    external: { temporal: Boolean(external.temporalAddress), mlflow: Boolean(external.mlflowUri) },
  };
}
