// medsynth worker --queue cpu|gpu: serve a task queue until interrupted.
import type { TaskQueue } from '../../temporal.config.ts';
import { UserError } from '../../errors.ts';
import { createWorker } from '../../worker.ts';
import { stack as connectStack } from '../context.ts';

/** How many activities a worker runs at once: --slots, else MEDSYNTH_WORKER_SLOTS, else one trainer per gpu worker. */
export function workerSlots(queue: TaskQueue, flag: number | undefined, env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (flag !== undefined) return flag;
  const fromEnv = env.MEDSYNTH_WORKER_SLOTS;
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`MEDSYNTH_WORKER_SLOTS="${fromEnv}": expected a positive whole number`);
    return n;
  }
  return queue === 'gpu' ? 1 : undefined;
}

export async function workerCommand(opts: { queue: TaskQueue; taskQueue?: string; slots?: number }): Promise<void> {
  const slots = workerSlots(opts.queue, opts.slots);
  const stack = await connectStack({ start: false });
  const { worker, connection } = await createWorker({
    queue: opts.queue,
    temporalAddress: stack.temporalAddress,
    mlflowUri: stack.mlflowUri,
    paths: stack.paths,
    temporalUiUrl: stack.temporalUiUrl,
    taskQueueName: opts.taskQueue,
    slots,
  });
  process.stderr.write(
    `worker polling queue "${opts.taskQueue ?? opts.queue}" on ${stack.temporalAddress}, ${slots ?? 'unlimited'} activit${slots === 1 ? 'y' : 'ies'} at once (Ctrl-C stops it after its current tasks)\n`,
  );
  try {
    await worker.run(); // the SDK shuts down gracefully on SIGINT/SIGTERM
  } finally {
    await connection.close();
  }
}
