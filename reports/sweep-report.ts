// One self-contained HTML page per sweep, on the report base: its settings and provenance, the
// leaderboard (the same query as `medsynth leaderboard`), a heatmap of the objective over the first
// two axes (or a line over the only one), and a link to every trial's own page.
import { UserError } from '../errors.ts';
import { leaderboardSql, withStore } from '../store/index.ts';
import { renderPage, writePage } from './html.ts';
import { heatmap, lineChart } from './plots.ts';
import type { ReportDeps } from './run-report.ts';

type Row = Record<string, unknown>;

const label = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** Mean objective per (x, y) cell: random sweeps may draw a combination twice. */
function cells(trials: Row[], xAxis: string, yAxis: string | null) {
  const sums = new Map<string, { x: string; y: string; total: number; n: number }>();
  for (const t of trials) {
    const overrides = t.overrides as Record<string, unknown>;
    const x = label(overrides[xAxis]);
    const y = yAxis ? label(overrides[yAxis]) : '';
    const cell = sums.get(`${x}\u0000${y}`) ?? sums.set(`${x}\u0000${y}`, { x, y, total: 0, n: 0 }).get(`${x}\u0000${y}`)!;
    if (typeof t.objective === 'number') {
      cell.total += t.objective;
      cell.n += 1;
    }
  }
  return [...sums.values()].map((c) => ({ x: c.x, y: c.y, value: c.n ? c.total / c.n : null }));
}

export async function renderSweepReport(deps: ReportDeps, sweepId: string): Promise<string> {
  const db = await withStore(
    deps.paths.store,
    async (store) => {
      const sweep = await store.getSweep(sweepId);
      if (!sweep) throw new UserError(`no sweep "${sweepId}" in ${deps.paths.store} (medsynth query "select sweep_id, status from sweeps" lists them)`);
      const spec = JSON.parse(sweep.spec_json) as { sweep: { axes: Record<string, unknown[]> } };
      const axes = Object.keys(spec.sweep.axes);
      const board = await store.query(leaderboardSql(sweepId, { metric: sweep.objective, mode: sweep.mode as 'min' | 'max', axes }));
      const trials = (await store.getTrials(sweepId)).map((t) => ({
        ...t,
        started_at: t.started_at?.toISOString() ?? null,
        ended_at: t.ended_at?.toISOString() ?? null,
        overrides: JSON.parse(t.overrides_json) as Record<string, unknown>,
      }));
      return { sweep, spec, axes, board, trials };
    },
    { readOnly: true },
  );
  const { sweep, axes } = db;
  const objective = `${sweep.objective} (${sweep.mode === 'min' ? 'lower' : 'higher'} is better)`;
  const plots: string[] = [];
  if (axes.length >= 2) {
    plots.push(await heatmap({ title: `${sweep.objective}, mean per cell`, x: axes[0]!, y: axes[1]!, value: sweep.mode === 'min' ? '↓ better' : '↑ better', cells: cells(db.trials, axes[0]!, axes[1]!) }));
  } else if (axes.length === 1 && db.trials.every((t) => typeof t.overrides[axes[0]!] === 'number')) {
    const points = cells(db.trials, axes[0]!, null)
      .filter((c) => c.value !== null)
      .map((c) => ({ x: Number(c.x), y: c.value! }));
    plots.push(await lineChart({ title: sweep.objective, x: axes[0]!, y: sweep.objective, series: [{ name: sweep.objective, points }] }));
  }
  // successive halving: each trial's score at the rungs it reached
  const rungSeries = db.trials
    .map((t) => ({ name: `trial ${t.trial_index}${t.status === 'PRUNED' ? ' (pruned)' : ''}`, points: (JSON.parse(t.rung_scores_json ?? '[]') as Array<{ step: number; score: number }>).map((r) => ({ x: r.step, y: r.score })) }))
    .filter((series) => series.points.length > 0);
  if (rungSeries.length) plots.push(await lineChart({ title: 'rung scores (KID, lower is better)', x: 'training step', y: 'KID', series: rungSeries }));
  const runIdColumn = db.board.columns.findIndex((c) => c.name === 'run_id');
  const mlflowUi = deps.mlflow.http.baseUrl;
  const tags = sweep.mlflow_run_id ? (await deps.mlflow.getRun(sweep.mlflow_run_id)).data.tags : [];
  return renderPage('sweep.njk', {
    version: tags.find((t) => t.key === 'medsynth.version')?.value ?? '',
    sweep,
    axes,
    objective,
    plots,
    board: {
      columns: db.board.columns.map((c) => c.name),
      rows: db.board.rows.map((row) => ({ cells: row, page: `../../${String(row[runIdColumn])}/report/index.html` })),
    },
    trials: db.trials,
    links: {
      mlflow: sweep.mlflow_run_id ? `${mlflowUi}/#/experiments/${sweep.mlflow_experiment_id}/runs/${sweep.mlflow_run_id}` : null,
      temporal: deps.temporalUiUrl ? `${deps.temporalUiUrl}/namespaces/default/workflows/${encodeURIComponent(sweepId)}` : null,
    },
  });
}

export async function writeSweepReport(deps: ReportDeps, sweepId: string, file: string): Promise<{ file: string; bytes: number }> {
  return writePage(file, await renderSweepReport(deps, sweepId));
}
