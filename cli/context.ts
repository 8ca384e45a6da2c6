// Where the CLI's commands find the stack: local services under MEDSYNTH_HOME, or the servers
// that TEMPORAL_ADDRESS / MLFLOW_TRACKING_URI name.
import { resolveServices, servicesUp } from '../services/index.ts';
import { resolvePaths, type Paths } from '../settings.ts';

export interface Stack {
  paths: Paths;
  temporalAddress: string;
  mlflowUri: string;
  temporalUiUrl?: string;
  mlflowUiUrl: string;
}

/** `start`: bring local services up first (idempotent); otherwise only read where they are. */
export async function stack({ start }: { start: boolean }): Promise<Stack> {
  const paths = resolvePaths();
  if (start) await servicesUp({ stateDir: paths.services });
  return { paths, ...(await resolveServices(paths.services)) };
}
