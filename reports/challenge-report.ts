// One self-contained HTML page per challenge, on the report base: the leaderboard (the headline
// metric of the first protocol with its bootstrap interval, and which teams cannot be told apart),
// every protocol's numbers per team, and each rejected team with its reasons.
import { challengeMetric, rankTeams } from '../challenge/leaderboard.ts';
import { UserError } from '../errors.ts';
import { withStore } from '../store/index.ts';
import { renderPage, writePage } from './html.ts';
import type { ReportDeps } from './run-report.ts';

export async function renderChallengeReport(deps: ReportDeps, challengeId: string): Promise<string> {
  const db = await withStore(
    deps.paths.store,
    async (store) => {
      const row = await store.getSweep(challengeId);
      if (!row || row.method !== 'challenge') throw new UserError(`no challenge "${challengeId}" in ${deps.paths.store} (medsynth query "select sweep_id from sweeps where method = 'challenge'" lists them)`);
      const settings = (JSON.parse(row.spec_json) as { challenge: { protocols: string[]; baseModel: { id: string }; dir: string; real: string; bootstrap: number } }).challenge;
      const trials = await store.getTrials(challengeId);
      const metrics = await store.query(
        `select t.trial_index, m.name, m.value from trials t join metrics m on m.run_id = t.run_id where t.sweep_id = ? and m.category = '' and m.step = 0 order by m.name`,
        [challengeId],
      );
      return { row, settings, trials, metrics: metrics.rows.map(([i, name, value]) => ({ index: Number(i), name: String(name), value: Number(value) })) };
    },
    { readOnly: true },
  );
  const metric = challengeMetric(db.settings.protocols);
  const teams = db.trials.map((t) => {
    const { team, kind } = JSON.parse(t.overrides_json) as { team: string; kind: string };
    const values = Object.fromEntries(db.metrics.filter((m) => m.index === t.trial_index).map((m) => [m.name, m.value]));
    return { team, kind, status: t.status, error: t.error, values };
  });
  const prefix = `eval.${metric.protocol}.`;
  const board = rankTeams(
    teams.filter((t) => t.status === 'SCORED' && typeof t.values[metric.name] === 'number').map((t) => ({ team: t.team, value: t.values[metric.name]!, low: t.values[`${prefix}${metric.low}`] ?? null, high: t.values[`${prefix}${metric.high}`] ?? null })),
    metric.mode,
  );
  const columns = [...new Set(db.metrics.map((m) => m.name))].filter((n) => !/_ci_(low|high)$/.test(n)).sort();
  return renderPage('challenge.njk', {
    version: '',
    challenge: db.row,
    settings: db.settings,
    metric: `${metric.name} (${metric.mode === 'min' ? 'lower' : 'higher'} is better)`,
    board,
    columns,
    scored: teams.filter((t) => t.status === 'SCORED'),
    rejected: teams.filter((t) => t.status !== 'SCORED'),
  });
}

export async function writeChallengeReport(deps: ReportDeps, challengeId: string, file: string): Promise<{ file: string; bytes: number }> {
  return writePage(file, await renderChallengeReport(deps, challengeId));
}
