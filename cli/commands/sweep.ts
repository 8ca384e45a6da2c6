// medsynth sweep SPEC: expand the spec's sweep into validated trials, start the sweep workflow,
// and follow it trial by trial; medsynth leaderboard SWEEP ranks its trials from DuckDB.
import type { Client, WorkflowHandle } from '@temporalio/client';
import cliProgress from 'cli-progress';
import { connectClient, newRunId, startSweep } from '../../client.ts';
import { UserError } from '../../errors.ts';
import { readSpecFile, resolveSpecPaths, specHash } from '../../experiments/load.ts';
import { collectProvenance } from '../../experiments/provenance.ts';
import { expandSweep, sweepObjective } from '../../experiments/sweep.ts';
import { betterIs } from '../../metrics/keys.ts';
import { formatTable, leaderboardSql, withStore } from '../../store/index.ts';
import { sweepProgressQuery, type SweepInput, type SweepProgress, type SweepResult, type TrialState } from '../../workflows/sweep-messages.ts';
import { stack as connectStack, type Stack } from '../context.ts';
import { warnWithoutWorker, withWorkers, type RunOptions } from './run.ts';

export async function prepareSweep(specPath: string, opts: { id?: string; data?: string }): Promise<SweepInput> {
  const { raw, spec: parsed } = await readSpecFile(specPath);
  const withData = opts.data ? { ...raw, dataset: { ...(raw.dataset as object), path: opts.data } } : raw;
  const spec = resolveSpecPaths(opts.data ? { ...parsed, dataset: { ...parsed.dataset, path: opts.data } } : parsed);
  const sweepId = opts.id ?? newRunId(spec.name);
  return {
    sweepId,
    spec,
    specHash: specHash(spec),
    provenance: await collectProvenance(specPath),
    trials: expandSweep(withData, spec, sweepId),
    objective: sweepObjective(spec),
  };
}

const describeOverrides = (o: Record<string, unknown>) =>
  Object.entries(o)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');

/** One trial as the CLI shows it, while following a sweep and in `medsynth status SWEEP`. */
export function trialLine(t: TrialState): string {
  const value = t.objective === null ? '' : ` objective ${Number(t.objective.toPrecision(5))}`;
  const rung = t.prunedAt !== null ? ` at step ${t.prunedAt} (rung KID ${Number(t.rungs.at(-1)!.score.toPrecision(4))})` : '';
  return `trial ${t.index} ${t.status.toLowerCase()}${rung}${value}  ${describeOverrides(t.overrides)}${t.error ? `: ${t.error}` : ''}`;
}

/** Prints each trial as it changes state (and a bar of finished trials on a terminal) until the sweep ends. */
export async function followSweep(handle: WorkflowHandle, opts: { intervalMs?: number } = {}): Promise<SweepResult> {
  const result = handle.result().then(
    (value: SweepResult) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  let settled = false;
  void result.then(() => (settled = true));
  const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: ' trials [{bar}] {value}/{total} done · gpu {gpu}', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  const seen = new Map<number, string>();
  const show = (p: SweepProgress) => {
    const done = p.trials.filter((t) => !['PENDING', 'RUNNING'].includes(t.status)).length;
    if (bar && !seen.size) bar.start(p.trials.length, 0, { gpu: '' });
    for (const t of p.trials) {
      if (t.status === 'PENDING' || seen.get(t.index) === t.status) continue;
      seen.set(t.index, t.status);
      if (bar) bar.stop();
      process.stderr.write(`${trialLine(t)}\n`);
      if (bar) bar.start(p.trials.length, done, { gpu: '' });
    }
    bar?.update(done, { gpu: `${p.gpu.held.length}/${p.gpu.slots} slots held, ${p.gpu.waiting} waiting` });
  };
  try {
    while (!settled) {
      const progress = await handle.query(sweepProgressQuery).catch(() => null);
      if (progress) show(progress);
      await Promise.race([result, new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000))]);
    }
  } finally {
    bar?.stop();
  }
  const outcome = await result;
  if (!outcome.ok) throw outcome.error;
  for (const t of outcome.value.trials) if (seen.get(t.index) !== t.status) process.stderr.write(`${trialLine(t)}\n`);
  return outcome.value;
}

export function formatSweepResult(result: SweepResult, stack: Stack): string {
  const counts = new Map<string, number>();
  for (const t of result.trials) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
  const lines = [
    `sweep ${result.sweepId} ${result.status.toLowerCase()}: ${[...counts].map(([s, n]) => `${n} ${s.toLowerCase()}`).join(', ')}`,
    result.best
      ? `best: trial ${result.best.index} (${result.best.id}) ${result.objective.metric} ${result.best.objective}  ${describeOverrides(result.best.overrides)}`
      : `best: none (no finished trial recorded ${result.objective.metric})`,
  ];
  if (result.report) lines.push(`report: ${result.report.file}`);
  lines.push(
    `leaderboard: medsynth leaderboard ${result.sweepId}`,
    `MLflow parent run: ${stack.mlflowUiUrl}/#/experiments/${result.mlflowExperimentId}/runs/${result.mlflowRunId}`,
  );
  return lines.join('\n');
}

export async function sweepCommand(specPath: string, opts: RunOptions): Promise<void> {
  const input = await prepareSweep(specPath, opts);
  if (opts.dryRun) {
    const { sweepId, specHash: hash, objective, spec, trials } = input;
    const summary = { sweepId, specHash: hash, objective, sweep: spec.sweep, trials: trials.map((t) => ({ index: t.index, id: t.id, overrides: t.overrides, specHash: t.specHash })) };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  if (opts.detach && opts.worker) throw new UserError('--detach and --worker exclude each other: an in-process worker ends with the command');
  const stack = await connectStack({ start: true });
  const client: Client = await connectClient(stack.temporalAddress);
  try {
    await warnWithoutWorker(client, opts.worker);
    const handle = await startSweep(client, input);
    const settings = input.spec.sweep!;
    process.stderr.write(
      `started sweep ${input.sweepId}: ${input.trials.length} trials (${settings.method}), ${settings.maxParallel} in parallel, ${settings.gpuSlots} GPU slots; ranked by ${input.objective.metric} (${input.objective.mode})\n`,
    );
    if (opts.detach) {
      process.stdout.write(`follow it with: medsynth status ${input.sweepId}\n`);
      return;
    }
    const result = opts.worker ? await withWorkers(stack, () => followSweep(handle)) : await followSweep(handle);
    process.stdout.write(`${formatSweepResult(result, stack)}\n`);
  } finally {
    await client.connection.close();
  }
}

export interface LeaderboardCliOptions {
  metric?: string;
  byCategory: boolean;
  out?: string;
  maxRows: number;
}

export async function leaderboardCommand(sweepId: string, opts: LeaderboardCliOptions): Promise<void> {
  const stack = await connectStack({ start: false });
  await withStore(
    stack.paths.store,
    async (store) => {
      const sweep = await store.getSweep(sweepId);
      if (!sweep) throw new UserError(`no sweep "${sweepId}" in ${stack.paths.store} (medsynth query "select sweep_id, status from sweeps" lists them)`);
      const metric = opts.metric ?? sweep.objective;
      const mode = opts.metric ? betterIs(metric) : (sweep.mode as 'min' | 'max');
      // a prompt search's candidates: by category (their scores are per category), later rounds first
      const halving = sweep.method === 'prompts';
      const axes = halving ? ['prompt', 'source'] : sweep.method === 'challenge' ? ['team', 'kind'] : Object.keys((JSON.parse(sweep.spec_json) as { sweep: { axes: Record<string, unknown> } }).sweep.axes);
      if (halving && !opts.byCategory) process.stderr.write(`${sweepId} is a prompt search: its candidates rank within their category (--by-category)\n`);
      const sql = leaderboardSql(sweepId, { metric, mode, axes, byCategory: opts.byCategory || halving, halving });
      if (opts.out) {
        const written = await store.writeQueryResult(sql, opts.out);
        process.stdout.write(`wrote ${written.rows} rows to ${written.path} (${written.format})\n`);
        return;
      }
      const result = await store.query(sql);
      const known = await store.query(`SELECT count(*) FROM metrics m JOIN trials t USING (run_id) WHERE t.sweep_id = $1 AND m.name = $2`, [sweepId, metric]);
      if (Number(known.rows[0]![0]) === 0) process.stderr.write(`warning: no trial of ${sweepId} recorded ${metric} (yet); see medsynth query "select distinct name from metrics"\n`);
      process.stdout.write(`${sweepId}: ${metric}, ${mode === 'min' ? 'lower' : 'higher'} is better\n`);
      process.stdout.write(`${formatTable(result, { maxRows: opts.maxRows })}\n`);
    },
    { readOnly: true },
  );
}
