// medsynth status [ID] / medsynth cancel ID: read and steer experiment runs.
import { connectClient, getHandle, readLiveState } from '../../client.ts';
import type { ExperimentResult } from '../../workflows/messages.ts';
import { rootMessage } from '../../errors.ts';
import { stack as connectStack } from '../context.ts';
import { faultNotices, stageViews } from '../follow.ts';
import type { WorkflowHandle } from '@temporalio/client';
import { sweepProgressQuery, type SweepResult } from '../../workflows/sweep-messages.ts';
import type { Stack } from '../context.ts';
import type { ChallengeResult } from '../../workflows/challenge-messages.ts';
import { promptSearchProgressQuery, type PromptSearchResult } from '../../workflows/prompt-search-messages.ts';
import { formatResult } from '../summary.ts';

export async function statusCommand(id: string | undefined, opts: { limit: number }): Promise<void> {
  const stack = await connectStack({ start: false });
  const client = await connectClient(stack.temporalAddress);
  try {
    if (!id) {
      const rows: string[] = [];
      for await (const wf of client.workflow.list({ query: "WorkflowType = 'experiment' OR WorkflowType = 'sweep' OR WorkflowType = 'promptSearch' OR WorkflowType = 'challenge'" })) {
        const kind = wf.type === 'sweep' ? 'sweep ' : wf.type === 'promptSearch' ? 'prompt search ' : wf.type === 'challenge' ? 'challenge ' : '';
        rows.push(`${wf.status.name.padEnd(11)} ${wf.startTime.toISOString()}  ${kind}${wf.workflowId}`);
        if (rows.length >= opts.limit) break;
      }
      process.stdout.write(rows.length ? `${rows.join('\n')}\n` : 'no experiment runs yet\n');
      return;
    }
    const handle = await getHandle(client, id);
    const description = await handle.describe();
    if (description.type === 'sweep') return await sweepStatus(handle, description.status.name, stack);
    if (description.type === 'promptSearch') return await promptSearchStatus(handle, description.status.name, stack);
    if (description.type === 'challenge') {
      const { formatChallengeResult } = await import('./challenge.ts');
      process.stdout.write(`challenge ${id}: ${description.status.name}\n`);
      if (description.status.name === 'COMPLETED') process.stdout.write(`${formatChallengeResult((await handle.result()) as unknown as ChallengeResult)}\n`);
      else if (description.status.name !== 'RUNNING') await handle.result().catch((err: unknown) => process.stdout.write(`  ${rootMessage(err)}\n`));
      return;
    }
    process.stdout.write(`${id}: ${description.status.name} (started ${description.startTime.toISOString()})\n`);
    if (description.status.name === 'RUNNING') {
      const live = await readLiveState(handle);
      for (const v of stageViews(live, new Map())) {
        const detail = v.state === 'running' && v.total > 1 ? ` ${v.done}/${v.total}` : '';
        process.stdout.write(`  ${v.stage.padEnd(8)} ${v.state}${detail}\n`);
      }
      for (const line of faultNotices(live, new Set())) process.stdout.write(`  ${line}\n`);
    } else if (description.status.name === 'COMPLETED') {
      const result = (await handle.result()) as ExperimentResult;
      process.stdout.write(`${formatResult(result, stack)}\n`);
    } else {
      await handle.result().catch((err: unknown) => process.stdout.write(`  ${rootMessage(err)}\n`));
    }
  } finally {
    await client.connection.close();
  }
}

async function sweepStatus(handle: WorkflowHandle, status: string, stack: Stack): Promise<void> {
  const { formatSweepResult, trialLine } = await import('./sweep.ts');
  process.stdout.write(`sweep ${handle.workflowId}: ${status}\n`);
  if (status === 'COMPLETED') {
    process.stdout.write(`${formatSweepResult((await handle.result()) as SweepResult, stack)}\n`);
    return;
  }
  const progress = await handle.query(sweepProgressQuery).catch(() => null);
  for (const t of progress?.trials ?? []) process.stdout.write(`  ${trialLine(t)}  (${t.id})\n`);
  if (progress) process.stdout.write(`  gpu slots: ${progress.gpu.held.length}/${progress.gpu.slots} held, ${progress.gpu.waiting} waiting\n`);
  if (status !== 'RUNNING') await handle.result().catch((err: unknown) => process.stdout.write(`  ${rootMessage(err)}\n`));
}

async function promptSearchStatus(handle: WorkflowHandle, status: string, stack: Stack): Promise<void> {
  const { formatPromptSearchResult } = await import('./prompts.ts');
  process.stdout.write(`prompt search ${handle.workflowId}: ${status}\n`);
  if (status === 'COMPLETED') {
    process.stdout.write(`${formatPromptSearchResult((await handle.result()) as PromptSearchResult, stack)}\n`);
    return;
  }
  const p = await handle.query(promptSearchProgressQuery).catch(() => null);
  if (p) {
    process.stdout.write(`  ${p.stage}, round ${p.round + 1} of ${p.rounds}: ${p.generated}/${p.budget} images generated\n`);
    for (const c of p.candidates) {
      const r = c.rounds.at(-1);
      process.stdout.write(`  ${c.category}: ${c.status.toLowerCase()}${r ? ` KID ${Number(r.kid.toPrecision(4))} on ${r.images} images` : ''}  "${c.prompt}"\n`);
    }
  }
  if (status !== 'RUNNING') await handle.result().catch((err: unknown) => process.stdout.write(`  ${rootMessage(err)}\n`));
}

export async function cancelCommand(id: string): Promise<void> {
  const stack = await connectStack({ start: false });
  const client = await connectClient(stack.temporalAddress);
  try {
    const handle = await getHandle(client, id);
    await handle.cancel();
    process.stdout.write(`cancellation requested for ${id}; its MLflow and DuckDB runs are marked KILLED when it stops\n`);
  } finally {
    await client.connection.close();
  }
}
