// The one worker entry: registers the workflows and the activities of a task queue.
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, nodeDeps, type Activities } from './activities/index.ts';
import type { Paths } from './settings.ts';
import { maxHeartbeatThrottleInterval, namespace, taskQueues, type TaskQueue } from './temporal.config.ts';
import { MlflowClient } from './tracking/mlflow-client.ts';

export const workflowsPath = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

/**
 * Which activities each queue serves; workflows run on the cpu queue. Only cpu activities open
 * DuckDB; gpu nodes share nothing with the cpu node but Temporal and the MLflow server.
 */
const queueActivities: Record<TaskQueue, ReadonlyArray<keyof Activities>> = {
  cpu: ['startRun', 'ingest', 'recordDataset', 'prepareTraining', 'recordTraining', 'preparePrompts', 'recordGeneration', 'evaluate', 'finishRun', 'report',
    'startSweep', 'recordTrial', 'finishSweep', 'sweepReport', 'startPromptSearch', 'scorePrompts', 'recordCandidates', 'promptReport',
    'scanChallenge', 'scoreTeam', 'finishChallenge', 'challengeReport', 'prepareUtility', 'recordUtility'],
  gpu: ['train', 'generate', 'classify'],
};

export interface WorkerConfig {
  queue: TaskQueue;
  temporalAddress: string;
  mlflowUri: string;
  paths: Paths;
  /** Serve this queue name instead of the standard one (tests use private queues). */
  taskQueueName?: string;
  /** A pre-built bundle (tests build it once); otherwise workflows are bundled from source. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** the Temporal UI that reports link to, when known */
  temporalUiUrl?: string;
  /** activities run at once (maxConcurrentActivityTaskExecutions); the SDK's default when absent */
  slots?: number;
  /** SDK log level of this process (default WARN) */
  logLevel?: LogLevel;
}

type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
let runtimeInstalled = false;
/**
 * The SDK logs every worker state change at INFO: too chatty beside progress bars. A worker
 * inside `medsynth run` logs errors only (the run's own outcome is printed anyway);
 * MEDSYNTH_LOG_LEVEL overrides either.
 */
export function quietRuntime(level: LogLevel): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger((process.env.MEDSYNTH_LOG_LEVEL as LogLevel | undefined) ?? level) });
  } catch {
    // another part of this process installed the runtime first; keep its logger
  }
}

export async function createWorker(config: WorkerConfig): Promise<{ worker: Worker; connection: NativeConnection }> {
  quietRuntime(config.logLevel ?? 'WARN');
  const all = createActivities(nodeDeps(config.paths, new MlflowClient(config.mlflowUri), config.temporalUiUrl));
  const activities = Object.fromEntries(queueActivities[config.queue].map((name) => [name, all[name]]));
  const workflows: Partial<WorkerOptions> =
    config.queue !== 'cpu' ? {} : config.workflowBundle ? { workflowBundle: config.workflowBundle } : { workflowsPath };
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue: config.taskQueueName ?? taskQueues[config.queue],
    maxHeartbeatThrottleInterval,
    activities,
    ...(config.slots ? { maxConcurrentActivityTaskExecutions: config.slots } : {}),
    ...workflows,
  });
  return { worker, connection };
}
