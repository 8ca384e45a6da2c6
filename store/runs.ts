// Runs and what they log: params, metrics, artifacts, the datasets they used. Every write is idempotent,
// so an activity that is retried after a crash never duplicates a row.

import { TIMESTAMPTZ, jsToDuckDBValue } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { ParamConflictError } from './errors.ts';
import { inTransaction, writeRows } from './sql.ts';
import type { ArtifactRecord, MetricPoint, RunRow, RunUpsert } from './types.ts';
import { asDate, asString } from './values.ts';

const runColumns = [
  'run_id', 'name', 'experiment', 'spec_hash', 'spec_json', 'dataset_manifest_hash', 'temporal_workflow_id',
  'temporal_run_id', 'mlflow_experiment_id', 'mlflow_run_id', 'git_commit', 'status', 'started_at', 'ended_at', 'error',
] as const satisfies readonly (keyof RunRow)[];

type RunColumn = (typeof runColumns)[number];
const timeColumns = new Set<RunColumn>(['started_at', 'ended_at']);

function runValue(column: RunColumn, value: unknown): DuckDBValue {
  if (value === null) return null;
  if (timeColumns.has(column)) return jsToDuckDBValue(value as Date, TIMESTAMPTZ);
  return String(value);
}

/** Inserts the run or updates only the columns given. */
export async function upsertRun(conn: DuckDBConnection, run: RunUpsert): Promise<void> {
  // The run id is the Temporal workflow id, so a new row records it in both columns unless told otherwise.
  const withDefaults: RunUpsert = { temporal_workflow_id: run.run_id, ...run };
  const columns = runColumns.filter((c) => withDefaults[c] !== undefined);
  const values = columns.map((c) => runValue(c, withDefaults[c]));
  const updated = runColumns
    .filter((c) => c !== 'run_id' && run[c] !== undefined)
    .map((c) => `${c} = excluded.${c}`);
  const onConflict = updated.length > 0 ? `DO UPDATE SET ${updated.join(', ')}` : 'DO NOTHING';
  const placeholders = values.map((_, i) => `$${i + 1}`).join(', ');
  await conn.run(
    `INSERT INTO runs (${columns.join(', ')}) VALUES (${placeholders}) ON CONFLICT (run_id) ${onConflict}`,
    values,
  );
}

export async function getRun(conn: DuckDBConnection, runId: string): Promise<RunRow | null> {
  const reader = await conn.runAndReadAll(`SELECT ${runColumns.join(', ')} FROM runs WHERE run_id = $1`, [runId]);
  const row = reader.getRowsJS()[0];
  if (!row) return null;
  const record: Record<string, unknown> = {};
  runColumns.forEach((c, i) => {
    record[c] = timeColumns.has(c) ? asDate(row[i]) : asString(row[i]);
  });
  return record as unknown as RunRow;
}

/** Params are immutable: the same value again is fine, a different one throws ParamConflictError. */
export async function logParams(conn: DuckDBConnection, runId: string, params: Record<string, string>): Promise<void> {
  await inTransaction(conn, async () => {
    const existing = new Map(
      (await conn.runAndReadAll('SELECT key, value FROM params WHERE run_id = $1', [runId]))
        .getRowsJS()
        .map(([key, value]) => [String(key), String(value)]),
    );
    const fresh: string[][] = [];
    for (const [key, value] of Object.entries(params)) {
      if (typeof value !== 'string') throw new TypeError(`param "${key}" must be a string, got ${typeof value}`);
      const old = existing.get(key);
      if (old === undefined) fresh.push([runId, key, value]);
      else if (old !== value) throw new ParamConflictError(runId, key, old, value);
    }
    await writeRows(conn, 'params', ['run_id', 'key', 'value'], fresh, 'error');
  });
}

export async function getParams(conn: DuckDBConnection, runId: string): Promise<Record<string, string>> {
  const reader = await conn.runAndReadAll('SELECT key, value FROM params WHERE run_id = $1 ORDER BY key', [runId]);
  return Object.fromEntries(reader.getRowsJS().map(([key, value]) => [String(key), String(value)]));
}

/** A point logged again under the same (name, step, category) overwrites the earlier value. */
export async function logMetrics(conn: DuckDBConnection, runId: string, points: readonly MetricPoint[]): Promise<void> {
  const recordedAt = new Date();
  const byKey = new Map<string, unknown[]>();
  for (const point of points) {
    if (!point.name) throw new TypeError('a metric needs a name');
    if (!Number.isSafeInteger(point.step)) throw new TypeError(`metric "${point.name}": step must be an integer, got ${point.step}`);
    if (typeof point.value !== 'number') throw new TypeError(`metric "${point.name}": value must be a number`);
    const category = point.category ?? '';
    byKey.set(JSON.stringify([point.name, point.step, category]), [runId, point.step, point.name, point.value, category, recordedAt]);
  }
  const columns = ['run_id', 'step', 'name', 'value', 'category', 'recorded_at'];
  await writeRows(conn, 'metrics', columns, [...byKey.values()], 'replace');
}

export async function getMetrics(conn: DuckDBConnection, runId: string, name?: string): Promise<Required<MetricPoint>[]> {
  const reader = await conn.runAndReadAll(
    `SELECT name, step, value, category FROM metrics WHERE run_id = $1 AND ($2::VARCHAR IS NULL OR name = $2)
     ORDER BY name, category, step`,
    [runId, name ?? null],
  );
  return reader.getRowsJS().map(([n, step, value, category]) => ({
    name: String(n),
    step: Number(step),
    value: value as number,
    category: String(category),
  }));
}

/** Recording the same path again (a retried upload) replaces the row. */
export async function recordArtifact(conn: DuckDBConnection, artifact: ArtifactRecord): Promise<void> {
  const columns = ['run_id', 'path', 'sha256', 'kind', 'bytes', 'uri', 'local_path', 'recorded_at'] as const;
  const row: Record<string, unknown> = { ...artifact, recorded_at: new Date() };
  await writeRows(conn, 'artifacts', columns, [columns.map((c) => row[c] ?? null)], 'replace');
}

export async function linkRunDataset(conn: DuckDBConnection, runId: string, manifestHash: string, role = ''): Promise<void> {
  await conn.run('INSERT OR IGNORE INTO run_datasets (run_id, manifest_hash, role) VALUES ($1, $2, $3)', [
    runId,
    manifestHash,
    role,
  ]);
}

export interface GeneratedImage {
  sha256: string;
  path: string;
  prompt: string;
  seed: number;
  /** the trainer's provenance row, as JSON */
  provenance: string;
}

/** Idempotent: an image generated again for the same run replaces its row. */
export async function saveGeneratedImages(conn: DuckDBConnection, runId: string, images: readonly GeneratedImage[]): Promise<number> {
  const rows = images.map((i) => [runId, i.sha256, i.path, i.prompt, i.seed, i.provenance]);
  return writeRows(conn, 'generated_images', ['run_id', 'sha256', 'path', 'prompt', 'seed', 'provenance'], rows, 'replace');
}
