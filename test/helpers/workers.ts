// In-process workers for workflow tests: a cpu worker (workflows + cpu activities) and a gpu worker
// on private task queues, against the test services, with this test's folders.
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Paths } from '../../settings.ts';
import { createWorker, workflowsPath } from '../../worker.ts';
import { testServices } from './services.ts';

export interface TestWorkers {
  /** the cpu queue (start workflows here) */
  queue: string;
  gpuQueue: string;
  close: () => Promise<void>;
}

export async function startTestWorkers(name: string, paths: Paths): Promise<TestWorkers> {
  const services = testServices();
  const queue = `test-${name}-${process.pid}-${Date.now()}`;
  const gpuQueue = `${queue}-gpu`;
  const workflowBundle = await bundleWorkflowCode({ workflowsPath, logger: undefined });
  const closers: Array<() => Promise<void>> = [];
  for (const kind of ['cpu', 'gpu'] as const) {
    const created = await createWorker({ queue: kind, taskQueueName: kind === 'cpu' ? queue : gpuQueue, workflowBundle, temporalAddress: services.temporalAddress, mlflowUri: services.mlflowUri, paths });
    const running = created.worker.run();
    closers.push(async () => {
      created.worker.shutdown();
      await running;
      await created.connection.close();
    });
  }
  return { queue, gpuQueue, close: async () => void (await Promise.all(closers.map((c) => c()))) };
}
