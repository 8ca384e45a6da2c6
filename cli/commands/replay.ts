// medsynth replay RUN: re-check a recorded run's inputs and workflow history, re-execute it as a new
// run tagged replay_of, and compare every artifact; exit 1 when anything differs beyond --tolerance.
import { nodeDeps } from '../../activities/index.ts';
import { replayRun } from '../../audit/replay.ts';
import { connectClient } from '../../client.ts';
import { MlflowClient } from '../../tracking/mlflow-client.ts';
import { stack as connectStack } from '../context.ts';
import { warnWithoutWorker, withWorkers } from './run.ts';

export interface ReplayCliOptions {
  skipTrain: boolean;
  tolerance: number;
  id?: string;
  worker: boolean;
}

export async function replayCommand(runId: string, opts: ReplayCliOptions): Promise<void> {
  const stack = await connectStack({ start: true });
  const client = await connectClient(stack.temporalAddress);
  try {
    await warnWithoutWorker(client, opts.worker);
    const deps = nodeDeps(stack.paths, new MlflowClient(stack.mlflowUri), stack.temporalUiUrl);
    const replay = () => replayRun(client, deps, runId, { skipTrain: opts.skipTrain, tolerance: opts.tolerance, ...(opts.id ? { replayId: opts.id } : {}) });
    const audit = opts.worker ? await withWorkers(stack, replay) : await replay();
    for (const c of audit.comparisons.filter((c) => c.verdict !== 'identical')) process.stdout.write(`  ${c.verdict}: ${c.artifact}: ${c.detail}\n`);
    for (const d of audit.inputs.code) process.stdout.write(`  code: ${d}\n`);
    process.stdout.write(`${audit.summary}\naudit: ${audit.file}\npage: ${audit.page}\n`);
    if (audit.verdict === 'differs') process.exitCode = 1;
  } finally {
    await client.connection.close();
  }
}
