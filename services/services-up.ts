import { resolve } from 'node:path';
import { externalServers } from './external.ts';
import { assertPortFree, freePorts } from './free-port.ts';
import { mlflowHealthy, temporalHealthy } from './health.ts';
import { startMlflow } from './mlflow-server.ts';
import { isOurProcess, stopProcessGroup } from './processes.ts';
import { readServicesState, writeServicesState } from './services-state.ts';
import type { MlflowRecord, TemporalRecord } from './services-state.ts';
import { withStateLock } from './state-lock.ts';
import { startTemporal } from './temporal-server.ts';
import type { ServicesInfo, ServicesUpOptions } from './types.ts';

type Recorded = TemporalRecord | MlflowRecord;

/**
 * Whether a recorded server can be kept. A live but unhealthy one is stopped so that the fresh
 * server does not leave it behind.
 */
async function keepIfHealthy<R extends Recorded>(record: R | undefined, healthy: (r: R) => Promise<boolean>): Promise<R | undefined> {
  if (!record || !(await isOurProcess(record.pid, record.command))) return undefined;
  if (await healthy(record)) return record;
  await stopProcessGroup(record.pid);
  return undefined;
}

/**
 * Runs `start` on the configured ports, free ones where none is configured. Another process can
 * take a free port before the server binds it (seen under load): then it tries new ones. Busy
 * configured ports fail at once, so a port conflict after that is one of the free ones.
 */
async function onFreePorts<R>(configured: Array<[string, number | undefined]>, start: (ports: number[]) => Promise<R>, attempts = 3): Promise<R> {
  for (const [what, port] of configured) if (port !== undefined) await assertPortFree(port, what);
  for (let attempt = 1; ; attempt++) {
    const free = await freePorts(configured.length);
    try {
      return await start(configured.map(([, port], i) => port ?? free[i]!));
    } catch (error) {
      const portTaken = /address already in use/i.test((error as Error).message);
      if (!portTaken || attempt >= attempts || configured.every(([, port]) => port !== undefined)) throw error;
    }
  }
}

/**
 * Starts local Temporal and MLflow servers for `stateDir`, or reuses the healthy ones an earlier
 * call recorded there (whatever ports are asked for now). A server named by TEMPORAL_ADDRESS or
 * MLFLOW_TRACKING_URI is external and nothing starts for it. Either everything needed ends up
 * running, or what this call started is stopped again and the error carries the server's log.
 */
export async function servicesUp(options: ServicesUpOptions): Promise<ServicesInfo> {
  const stateDir = resolve(options.stateDir);
  const env = options.env ?? process.env;
  const external = externalServers(env);

  return withStateLock(stateDir, async () => {
    const previous = await readServicesState(stateDir);
    const keptTemporal = await keepIfHealthy(previous.temporal, (r) => temporalHealthy(r.address));
    const keptMlflow = await keepIfHealthy(previous.mlflow, (r) => mlflowHealthy(r.uri));

    const [temporalStart, mlflowStart] = await Promise.allSettled([
      external.temporalAddress || keptTemporal
        ? undefined
        : onFreePorts([['Temporal', options.temporalPort], ['Temporal UI', options.temporalUiPort]], ([port, uiPort]) => startTemporal(stateDir, { port: port!, uiPort: uiPort! }, env)),
      external.mlflowUri || keptMlflow
        ? undefined
        : onFreePorts([['MLflow', options.mlflowPort]], ([port]) => startMlflow(stateDir, port!, env)),
    ]);

    const failures = [temporalStart, mlflowStart].filter((s) => s.status === 'rejected');
    if (failures.length > 0) {
      for (const started of [temporalStart, mlflowStart]) {
        if (started.status === 'fulfilled' && started.value) await stopProcessGroup(started.value.pid);
      }
      await writeServicesState(stateDir, { temporal: keptTemporal, mlflow: keptMlflow });
      const reasons = failures.map((f) => String((f as PromiseRejectedResult).reason?.message ?? f));
      throw new Error(`services up failed in ${stateDir}:\n${reasons.join('\n\n')}`);
    }

    const temporal = keptTemporal ?? (temporalStart as PromiseFulfilledResult<TemporalRecord | undefined>).value;
    const mlflow = keptMlflow ?? (mlflowStart as PromiseFulfilledResult<MlflowRecord | undefined>).value;
    // A live recorded server stays recorded while the env points elsewhere, so `down` still stops it.
    await writeServicesState(stateDir, { temporal, mlflow });

    const mlflowUri = external.mlflowUri ?? mlflow!.uri;
    return {
      stateDir,
      temporalAddress: external.temporalAddress ?? temporal!.address,
      temporalUiUrl: external.temporalAddress ? undefined : temporal!.uiUrl,
      mlflowUri,
      mlflowUiUrl: mlflowUri,
      external: { temporal: Boolean(external.temporalAddress), mlflow: Boolean(external.mlflowUri) },
      local: { temporal: external.temporalAddress ? undefined : temporal, mlflow: external.mlflowUri ? undefined : mlflow },
      reused: { temporal: Boolean(keptTemporal) && !external.temporalAddress, mlflow: Boolean(keptMlflow) && !external.mlflowUri },
    };
  });
}
