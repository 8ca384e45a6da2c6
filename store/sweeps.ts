// Sweeps and their trials. Writes are upserts keyed by the sweep id (and trial index), so an
// activity retried after a crash never duplicates a row; the leaderboard is one query over
// trials and the metrics their runs logged.
import { TIMESTAMPTZ, jsToDuckDBValue, quotedIdentifier, quotedString } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';

export interface SweepRow {
  sweep_id: string;
  experiment: string;
  spec_hash: string;
  spec_json: string;
  method: string;
  objective: string;
  mode: string;
  n_trials: number;
  max_parallel: number;
  gpu_slots: number;
  temporal_run_id: string | null;
  mlflow_experiment_id: string | null;
  mlflow_run_id: string | null;
  git_commit: string | null;
  status: string;
  best_run_id: string | null;
  best_value: number | null;
  started_at: Date | null;
  ended_at: Date | null;
  error: string | null;
}

export interface TrialRow {
  sweep_id: string;
  trial_index: number;
  run_id: string;
  overrides_json: string;
  status: string;
  objective: number | null;
  /** successive halving: [{step, score}] at each rung reached */
  rung_scores_json: string | null;
  /** the rung step it was stopped at (PRUNED) */
  pruned_at: number | null;
  started_at: Date | null;
  ended_at: Date | null;
  error: string | null;
}

export type SweepUpsert = Pick<SweepRow, 'sweep_id'> & Partial<SweepRow>;
export type TrialUpsert = Pick<TrialRow, 'sweep_id' | 'trial_index'> & Partial<TrialRow>;

const value = (v: unknown): DuckDBValue => (v instanceof Date ? jsToDuckDBValue(v, TIMESTAMPTZ) : (v as DuckDBValue));

/** Inserts the row or updates only the columns given (undefined: left as is; null: cleared). */
async function upsert(conn: DuckDBConnection, table: string, keys: readonly string[], row: Record<string, unknown>): Promise<void> {
  const columns = Object.keys(row).filter((c) => row[c] !== undefined);
  const updates = columns.filter((c) => !keys.includes(c)).map((c) => `${quotedIdentifier(c)} = excluded.${quotedIdentifier(c)}`);
  const placeholders = columns.map((_, i) => `$${i + 1}`).join(', ');
  await conn.run(
    `INSERT INTO ${quotedIdentifier(table)} (${columns.map(quotedIdentifier).join(', ')}) VALUES (${placeholders})
     ON CONFLICT (${keys.join(', ')}) ${updates.length ? `DO UPDATE SET ${updates.join(', ')}` : 'DO NOTHING'}`,
    columns.map((c) => value(row[c])),
  );
}

export const upsertSweep = (conn: DuckDBConnection, row: SweepUpsert) => upsert(conn, 'sweeps', ['sweep_id'], { ...row });
export const upsertTrial = (conn: DuckDBConnection, row: TrialUpsert) => upsert(conn, 'trials', ['sweep_id', 'trial_index'], { ...row });

export async function getSweep(conn: DuckDBConnection, sweepId: string): Promise<SweepRow | null> {
  const reader = await conn.runAndReadAll('SELECT * FROM sweeps WHERE sweep_id = $1', [sweepId]);
  return (reader.getRowObjectsJS()[0] as unknown as SweepRow | undefined) ?? null;
}

export async function getTrials(conn: DuckDBConnection, sweepId: string): Promise<TrialRow[]> {
  const reader = await conn.runAndReadAll('SELECT * FROM trials WHERE sweep_id = $1 ORDER BY trial_index', [sweepId]);
  return reader.getRowObjectsJS().map((r) => ({ ...r, trial_index: Number(r.trial_index), pruned_at: r.pruned_at === null ? null : Number(r.pruned_at) }) as unknown as TrialRow);
}

export interface LeaderboardOptions {
  metric: string;
  mode: 'min' | 'max';
  /** the swept spec paths, one column each */
  axes: readonly string[];
  byCategory?: boolean;
  /**
   * A prompt search: candidates that went on to later rounds rank first, and each metric is read
   * at its last step (the most images a candidate was scored on) instead of step 0.
   */
  halving?: boolean;
}

/**
 * The leaderboard as one SELECT (literals inlined, so it can also be COPYed to a file): each
 * trial's value of `metric` from the metrics its run logged, ranked best first; trials without a
 * value rank last. By category: one ranking per category.
 */
export function leaderboardSql(sweepId: string, opts: LeaderboardOptions): string {
  const rounds = opts.halving ? 'json_array_length(t.rung_scores_json) DESC NULLS LAST, ' : '';
  const order = `${rounds}m.value ${opts.mode === 'min' ? 'ASC' : 'DESC'} NULLS LAST, t.trial_index`;
  const step = opts.halving ? `(SELECT max(step) FROM metrics WHERE run_id = t.run_id AND name = ${quotedString(opts.metric)})` : '0';
  const axisColumns = opts.axes.map((axis) => `json_extract_string(t.overrides_json, ${quotedString(`$."${axis}"`)}) AS ${quotedIdentifier(axis)}`);
  const category = opts.byCategory ? 'm.category' : `''`;
  const partition = opts.byCategory ? 'PARTITION BY m.category ' : '';
  return `SELECT ${opts.byCategory ? 'm.category AS category, ' : ''}
      row_number() OVER (${partition}ORDER BY ${order}) AS rank,
      t.trial_index AS trial, t.run_id, t.status,${axisColumns.map((c) => `\n      ${c},`).join('')}
      m.value AS ${quotedIdentifier(opts.metric)}
    FROM trials t
    LEFT JOIN metrics m ON m.run_id = t.run_id AND m.name = ${quotedString(opts.metric)} AND m.step = ${step}
      AND ${opts.byCategory ? `m.category <> ''` : `m.category = ${category}`}
    WHERE t.sweep_id = ${quotedString(sweepId)}
    ORDER BY ${opts.byCategory ? 'm.category NULLS LAST, ' : ''}rank`;
}
