import { resolve } from 'node:path';
import { externalServers } from './external.ts';
import { mlflowHealthy, temporalHealthy } from './health.ts';
import { isOurProcess } from './processes.ts';
import { readServicesState } from './services-state.ts';
import type { MlflowRecord, TemporalRecord } from './services-state.ts';
import type { ServiceStatus, ServicesStatus } from './types.ts';

async function localStatus(record: TemporalRecord | MlflowRecord | undefined, endpoint: string | undefined, healthy: () => Promise<boolean>): Promise<ServiceStatus> {
  if (!record || !(await isOurProcess(record.pid, record.command))) return { state: 'stopped' };
  const { pid, logPath, startedAt } = record;
  return { state: (await healthy()) ? 'running' : 'unhealthy', endpoint, pid, logPath, startedAt };
}

/** What runs for `stateDir`: recorded servers are checked for life and health; env-named ones are external. */
export async function servicesStatus(stateDir: string, env: NodeJS.ProcessEnv = process.env): Promise<ServicesStatus> {
  const dir = resolve(stateDir);
  const external = externalServers(env);
  const state = await readServicesState(dir);
  const [temporal, mlflow] = await Promise.all([
    external.temporalAddress
      ? temporalHealthy(external.temporalAddress).then((reachable): ServiceStatus => ({ state: 'external', endpoint: external.temporalAddress, reachable }))
      : localStatus(state.temporal, state.temporal?.address, () => temporalHealthy(state.temporal!.address)),
    external.mlflowUri
      ? mlflowHealthy(external.mlflowUri).then((reachable): ServiceStatus => ({ state: 'external', endpoint: external.mlflowUri, reachable }))
      : localStatus(state.mlflow, state.mlflow?.uri, () => mlflowHealthy(state.mlflow!.uri)),
  ]);
  return { stateDir: dir, temporal, mlflow };
}
