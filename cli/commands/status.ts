// medsynth status [ID] / medsynth cancel ID: read and steer experiment runs.
import { connectClient, getHandle, readLiveState } from '../../client.ts';
import type { ExperimentResult } from '../../workflows/messages.ts';
import { stack as connectStack } from '../context.ts';
import { formatResult } from '../summary.ts';

export async function statusCommand(id: string | undefined, opts: { limit: number }): Promise<void> {
  const stack = await connectStack({ start: false });
  const client = await connectClient(stack.temporalAddress);
  try {
    if (!id) {
      const rows: string[] = [];
      for await (const wf of client.workflow.list({ query: "WorkflowType = 'experiment'" })) {
        rows.push(`${wf.status.name.padEnd(11)} ${wf.startTime.toISOString()}  ${wf.workflowId}`);
        if (rows.length >= opts.limit) break;
      }
      process.stdout.write(rows.length ? `${rows.join('\n')}\n` : 'no experiment runs yet\n');
      return;
    }
    const handle = await getHandle(client, id);
    const description = await handle.describe();
    process.stdout.write(`${id}: ${description.status.name} (started ${description.startTime.toISOString()})\n`);
    if (description.status.name === 'RUNNING') {
      const live = await readLiveState(handle);
      for (const [stage, state] of Object.entries(live.progress?.stages ?? {})) {
        const hb = Object.values(live.activityProgress)[0];
        const detail = state === 'running' && hb ? ` ${hb.done}/${hb.total}` : '';
        process.stdout.write(`  ${stage.padEnd(7)} ${state}${detail}\n`);
      }
    } else if (description.status.name === 'COMPLETED') {
      const result = (await handle.result()) as ExperimentResult;
      process.stdout.write(`${formatResult(result, stack)}\n`);
    } else {
      await handle.result().catch((err: Error) => {
        let e: unknown = err;
        while (e instanceof Error && e.cause instanceof Error) e = e.cause;
        process.stdout.write(`  ${(e as Error).message}\n`);
      });
    }
  } finally {
    await client.connection.close();
  }
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
