// The one worker entry: registers the workflows and the activities of a task queue.
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities/index.ts';
import type { Paths } from './settings.ts';
import { maxHeartbeatThrottleInterval, namespace, taskQueues, type TaskQueue } from './temporal.config.ts';
import { MlflowClient } from './tracking/mlflow-client.ts';
import { UserError } from './errors.ts';

export const workflowsPath = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

export interface WorkerConfig {
  queue: TaskQueue;
  temporalAddress: string;
  mlflowUri: string;
  paths: Paths;
  /** Serve this queue name instead of the standard one (tests use a private queue per file). */
  taskQueueName?: string;
  /** A pre-built bundle (tests build it once); otherwise workflows are bundled from source. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export async function createWorker(config: WorkerConfig): Promise<{ worker: Worker; connection: NativeConnection }> {
  const activities = createActivities({ paths: config.paths, mlflow: new MlflowClient(config.mlflowUri) });
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const byQueue: Record<TaskQueue, Partial<WorkerOptions>> = {
    // Workflows run on the cpu queue; their train/generate activities will be routed to gpu.
    cpu: config.workflowBundle ? { workflowBundle: config.workflowBundle, activities } : { workflowsPath, activities },
    gpu: {},
  };
  const options = byQueue[config.queue];
  if (!options.activities && !options.workflowsPath && !options.workflowBundle) {
    await connection.close();
    throw new UserError(`no activities run on queue "${config.queue}" yet: train and generate arrive with the trainer`);
  }
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue: config.taskQueueName ?? taskQueues[config.queue],
    maxHeartbeatThrottleInterval,
    ...options,
  });
  return { worker, connection };
}
