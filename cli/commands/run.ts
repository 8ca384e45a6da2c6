// medsynth run SPEC: validate, start the experiment workflow, follow it to the end.
import type { Client } from '@temporalio/client';
import protos from '@temporalio/proto';
import { connectClient, newRunId, startExperiment } from '../../client.ts';
import { UserError } from '../../errors.ts';
import { loadSpecFile, readSpecFile, resolveSpecPaths, specHash } from '../../experiments/load.ts';
import { collectProvenance } from '../../experiments/provenance.ts';
import type { Experiment } from '../../experiments/schema.ts';
import { namespace, taskQueues } from '../../temporal.config.ts';
import { createWorker } from '../../worker.ts';
import type { ExperimentInput, ExperimentResult } from '../../workflows/messages.ts';
import { stack as connectStack, type Stack } from '../context.ts';
import { followExperiment } from '../follow.ts';
import { formatResult } from '../summary.ts';

export interface RunOptions {
  id?: string;
  /** run a cpu worker inside this process for the duration of the run */
  worker: boolean;
  detach: boolean;
  data?: string;
  dryRun: boolean;
}

export async function prepareInput(specPath: string, data?: string): Promise<ExperimentInput> {
  let spec: Experiment = await loadSpecFile(specPath);
  if (data) spec = { ...spec, dataset: { ...spec.dataset, path: data } };
  spec = resolveSpecPaths(spec);
  return { spec, specHash: specHash(spec), provenance: await collectProvenance(specPath) };
}

async function cpuPollers(client: Client): Promise<number> {
  const res = await client.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueues.cpu },
    taskQueueType: protos.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return res.pollers?.length ?? 0;
}

/** Serves the cpu and gpu queues from this process until `follow` settles, then stops both workers. */
export async function withWorkers<T>(stack: Stack, follow: () => Promise<T>): Promise<T> {
  const config = { temporalAddress: stack.temporalAddress, mlflowUri: stack.mlflowUri, paths: stack.paths, temporalUiUrl: stack.temporalUiUrl, logLevel: 'ERROR' as const };
  const workers = [await createWorker({ ...config, queue: 'cpu' }), await createWorker({ ...config, queue: 'gpu' })];
  try {
    const followed = follow();
    // Both workers must have stopped before their connections close, whatever the outcome.
    await Promise.allSettled(workers.map(({ worker }) => worker.runUntil(followed)));
    return await followed;
  } finally {
    await Promise.all(workers.map(({ connection }) => connection.close()));
  }
}

/** Warns when no worker polls the cpu queue and this process serves none. */
export async function warnWithoutWorker(client: Client, inProcess: boolean): Promise<void> {
  if (!inProcess && (await cpuPollers(client)) === 0) {
    process.stderr.write(
      `warning: no worker polls queue "${taskQueues.cpu}"; the run waits until one starts ("medsynth worker --queue cpu"), or pass --worker\n`,
    );
  }
}

/** Starts one experiment and, unless detached, follows it; with `worker`, serves it in-process. */
export async function runExperiment(input: ExperimentInput, stack: Stack, opts: RunOptions): Promise<ExperimentResult | null> {
  const client = await connectClient(stack.temporalAddress);
  try {
    if (opts.detach && opts.worker) throw new UserError('--detach and --worker exclude each other: an in-process worker ends with the command');
    await warnWithoutWorker(client, opts.worker);
    const workflowId = opts.id ?? newRunId(input.spec.name);
    const handle = await startExperiment(client, input, workflowId);
    process.stderr.write(`started ${workflowId}\n`);
    if (opts.detach) return null;
    return opts.worker ? await withWorkers(stack, () => followExperiment(handle)) : await followExperiment(handle);
  } finally {
    await client.connection.close();
  }
}

export async function runCommand(specPath: string, opts: RunOptions): Promise<void> {
  const { spec } = await readSpecFile(specPath);
  if (spec.sweep) {
    // a spec with a sweep: section stands for its trials, never for one run
    const { sweepCommand } = await import('./sweep.ts');
    return sweepCommand(specPath, opts);
  }
  const input = await prepareInput(specPath, opts.data);
  if (opts.dryRun) {
    process.stdout.write(`${JSON.stringify(input, null, 2)}\n`);
    return;
  }
  const stack = await connectStack({ start: true });
  const result = await runExperiment(input, stack, opts);
  if (result) process.stdout.write(`${formatResult(result, stack)}\n`);
}
