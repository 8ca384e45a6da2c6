// The sweeps and trials tables and the leaderboard query, on a real DuckDB file.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { leaderboardSql, openStore } from '../../store/index.ts';
import type { Store } from '../../store/index.ts';
import { makeTempDir } from './fixtures.ts';

let store: Store;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  const temp = await makeTempDir();
  cleanup = temp.cleanup;
  store = await openStore(join(temp.dir, 'store.duckdb'));
});
afterEach(async () => {
  await store.close();
  await cleanup();
});

const metric = 'eval.features.fd_efficientnet_lite0';

async function threeTrials(): Promise<void> {
  const overrides = [{ 'method.rank': 4, 'method.learningRate': 1e-4 }, { 'method.rank': 16, 'method.learningRate': 1e-4 }, { 'method.rank': 4, 'method.learningRate': 5e-5 }];
  for (const [i, o] of overrides.entries()) {
    await store.upsertTrial({ sweep_id: 's', trial_index: i, run_id: `s-t${i}`, overrides_json: JSON.stringify(o), status: 'PENDING' });
  }
  // trial 2 failed before it was scored
  await store.upsertTrial({ sweep_id: 's', trial_index: 2, status: 'FAILED', error: 'boom' });
  await store.logMetrics('s-t0', [{ name: metric, step: 0, value: 12 }, { name: metric, step: 0, value: 30, category: 'polyp' }, { name: metric, step: 0, value: 5, category: 'cecum' }]);
  await store.logMetrics('s-t1', [{ name: metric, step: 0, value: 9 }, { name: metric, step: 0, value: 40, category: 'polyp' }, { name: metric, step: 0, value: 3, category: 'cecum' }]);
  // a metric of another sweep's run with the same name must not leak in
  await store.logMetrics('other', [{ name: metric, step: 0, value: 1 }]);
}

const rowsOf = async (sql: string) => (await store.query(sql)).rows;

describe('sweeps and trials', () => {
  it('upserts trials without touching the columns not given', async () => {
    await threeTrials();
    const trials = await store.getTrials('s');
    expect(trials.map((t) => [t.trial_index, t.status, t.error])).toEqual([[0, 'PENDING', null], [1, 'PENDING', null], [2, 'FAILED', 'boom']]);
    expect(JSON.parse(trials[2]!.overrides_json)).toEqual({ 'method.rank': 4, 'method.learningRate': 5e-5 });
  });

  it('ranks the trials by the metric (lower first for a distance), the unscored last, one column per axis', async () => {
    await threeTrials();
    const board = await store.query(leaderboardSql('s', { metric, mode: 'min', axes: ['method.rank', 'method.learningRate'] }));
    expect(board.columns.map((c) => c.name)).toEqual(['rank', 'trial', 'run_id', 'status', 'method.rank', 'method.learningRate', metric]);
    expect(board.rows.map((r) => [Number(r[0]), r[2], r[6]])).toEqual([[1, 's-t1', 9], [2, 's-t0', 12], [3, 's-t2', null]]);
    expect(board.rows[0]![4]).toBe('16');
    const max = await rowsOf(leaderboardSql('s', { metric, mode: 'max', axes: [] }));
    expect(max.map((r) => r[2])).toEqual(['s-t0', 's-t1', 's-t2']);
  });

  it('a prompt search: candidates that reached later rounds first, each read at its last step', async () => {
    const kid = 'prompt.kid_efficientnet_lite0';
    const candidates = [
      { rounds: [{ step: 2, score: 0.1 }], kids: [[2, 0.1]] },
      { rounds: [{ step: 2, score: 0.4 }, { step: 8, score: 0.5 }], kids: [[2, 0.4], [8, 0.5]] },
      { rounds: [{ step: 2, score: 0.3 }, { step: 8, score: 0.2 }], kids: [[2, 0.3], [8, 0.2]] },
    ];
    for (const [i, c] of candidates.entries()) {
      await store.upsertTrial({ sweep_id: 'p', trial_index: i, run_id: `p-c${i}`, overrides_json: JSON.stringify({ category: 'polyp', prompt: `prompt ${i}` }), status: 'FINISHED', rung_scores_json: JSON.stringify(c.rounds) });
      await store.logMetrics(`p-c${i}`, c.kids.map(([step, value]) => ({ name: kid, step: step!, value: value!, category: 'polyp' })));
    }
    const board = await rowsOf(leaderboardSql('p', { metric: kid, mode: 'min', axes: ['prompt'], byCategory: true, halving: true }));
    expect(board.map((r) => [r[0], Number(r[1]), r[3], r[5], r[6]])).toEqual([
      ['polyp', 1, 'p-c2', 'prompt 2', 0.2],
      ['polyp', 2, 'p-c1', 'prompt 1', 0.5],
      ['polyp', 3, 'p-c0', 'prompt 0', 0.1],
    ]);
  });

  it('ranks within each category with --by-category', async () => {
    await threeTrials();
    const board = await rowsOf(leaderboardSql('s', { metric, mode: 'min', axes: [], byCategory: true }));
    expect(board.map((r) => [r[0], Number(r[1]), r[3]])).toEqual([
      ['cecum', 1, 's-t1'],
      ['cecum', 2, 's-t0'],
      ['polyp', 1, 's-t0'],
      ['polyp', 2, 's-t1'],
      [null, 1, 's-t2'],
    ]);
  });

  it('is a query that can be written to a file as it is', async () => {
    await threeTrials();
    const out = join(store.path, '..', 'board.csv');
    const written = await store.writeQueryResult(leaderboardSql('s', { metric, mode: 'min', axes: ['method.rank'] }), out);
    expect(written.rows).toBe(3);
  });
});
