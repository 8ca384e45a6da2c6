// medsynth worker --queue cpu|gpu: serve a task queue until interrupted.
import type { TaskQueue } from '../../temporal.config.ts';
import { createWorker } from '../../worker.ts';
import { stack as connectStack } from '../context.ts';

export async function workerCommand(opts: { queue: TaskQueue; taskQueue?: string }): Promise<void> {
  const stack = await connectStack({ start: false });
  const { worker, connection } = await createWorker({
    queue: opts.queue,
    temporalAddress: stack.temporalAddress,
    mlflowUri: stack.mlflowUri,
    paths: stack.paths,
    temporalUiUrl: stack.temporalUiUrl,
    taskQueueName: opts.taskQueue,
  });
  process.stderr.write(`worker polling queue "${opts.taskQueue ?? opts.queue}" on ${stack.temporalAddress} (Ctrl-C stops it after its current tasks)\n`);
  try {
    await worker.run(); // the SDK shuts down gracefully on SIGINT/SIGTERM
  } finally {
    await connection.close();
  }
}
