// Dataset versions: what ingestion produced, keyed by manifest hash, and their Parquet/CSV exports.

import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { quotedString } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { IngestResult, ManifestRow, PromptSet, RejectRow, Split } from '../datasets/types.ts';
import { UnknownDatasetError } from './errors.ts';
import { inTransaction, writeRows } from './sql.ts';

const imageColumns = [
  'manifest_hash', 'idx', 'sha256', 'path', 'source_paths', 'bytes', 'width', 'height', 'format',
  'normalisations', 'label', 'labels', 'prompts', 'split', 'extra',
];

/** The columns of an exported manifest, in ManifestRow's order. */
const manifestSelect =
  'sha256, path, source_paths, bytes, width, height, format, normalisations, label, labels, prompts, split, extra';

/**
 * Saves a dataset version in one transaction. Saving the same manifest hash again replaces its rows
 * cleanly (paths may have moved) and keeps the first created_at.
 */
export async function saveDataset(conn: DuckDBConnection, result: IngestResult, manifestParquet?: string): Promise<void> {
  const hash = result.manifestHash;
  await inTransaction(conn, async () => {
    for (const table of ['images', 'rejects', 'prompt_sets']) {
      await conn.run(`DELETE FROM ${table} WHERE manifest_hash = $1`, [hash]);
    }
    await conn.run(
      `INSERT INTO datasets (manifest_hash, name, format, source, n_images, n_rejects, n_duplicates_merged, stats_json, manifest_parquet)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (manifest_hash) DO UPDATE SET
         name = excluded.name, format = excluded.format, source = excluded.source, n_images = excluded.n_images,
         n_rejects = excluded.n_rejects, n_duplicates_merged = excluded.n_duplicates_merged,
         stats_json = excluded.stats_json, manifest_parquet = coalesce(excluded.manifest_parquet, datasets.manifest_parquet)`,
      [
        hash, result.name, result.format, result.source, result.rows.length, result.rejects.length,
        result.stats.duplicatesMerged, JSON.stringify(result.stats), manifestParquet ?? null,
      ],
    );
    await writeRows(conn, 'images', imageColumns, result.rows.map((row, idx) => imageRow(hash, idx, row)), 'error');
    await writeRows(conn, 'rejects', ['manifest_hash', 'source', 'reason', 'detail'], rejectRows(hash, result.rejects), 'error');
    const prompts = result.promptSets.flatMap((set) => set.prompts.map((prompt, idx) => [hash, set.name, idx, prompt]));
    await writeRows(conn, 'prompt_sets', ['manifest_hash', 'name', 'idx', 'prompt'], prompts, 'error');
  });
}

function imageRow(hash: string, idx: number, r: ManifestRow): unknown[] {
  return [
    hash, idx, r.sha256, r.path, r.sourcePaths, r.bytes, r.width, r.height, r.format,
    r.normalisations, r.label, r.labels, r.prompts, r.split, r.extra,
  ];
}

/** The table keys rejects by (source, reason); should ingestion repeat one, the first detail is kept. */
function rejectRows(hash: string, rejects: readonly RejectRow[]): unknown[][] {
  const byKey = new Map<string, unknown[]>();
  for (const r of rejects) {
    const key = JSON.stringify([r.source, r.reason]);
    if (!byKey.has(key)) byKey.set(key, [hash, r.source, r.reason, r.detail]);
  }
  return [...byKey.values()];
}

/** Reads a dataset version back as ingestion produced it, or null when the store lacks it. */
export async function loadDataset(conn: DuckDBConnection, hash: string): Promise<IngestResult | null> {
  const head = (
    await conn.runAndReadAll('SELECT name, format, source, stats_json FROM datasets WHERE manifest_hash = $1', [hash])
  ).getRowsJS()[0];
  if (!head) return null;
  const [name, format, source, statsJson] = head as [string, string, string, string];
  return {
    name,
    format,
    source,
    rows: await loadManifest(conn, hash),
    rejects: await loadRejects(conn, hash),
    promptSets: await loadPromptSets(conn, hash),
    manifestHash: hash,
    stats: JSON.parse(statsJson) as IngestResult['stats'],
  };
}

export async function loadManifest(conn: DuckDBConnection, hash: string): Promise<ManifestRow[]> {
  const reader = await conn.runAndReadAll(`SELECT ${manifestSelect} FROM images WHERE manifest_hash = $1 ORDER BY idx`, [hash]);
  return reader.getRowsJS().map((r) => ({
    sha256: r[0] as string,
    path: r[1] as string,
    sourcePaths: r[2] as string[],
    bytes: Number(r[3]),
    width: r[4] as number,
    height: r[5] as number,
    format: r[6] as string,
    normalisations: r[7] as string[],
    label: r[8] as string | null,
    labels: r[9] as string[],
    prompts: r[10] as string[],
    split: r[11] as Split,
    extra: r[12] as string | null,
  }));
}

async function loadRejects(conn: DuckDBConnection, hash: string): Promise<RejectRow[]> {
  const reader = await conn.runAndReadAll(
    'SELECT source, reason, detail FROM rejects WHERE manifest_hash = $1 ORDER BY source, reason',
    [hash],
  );
  return reader.getRowsJS().map(([source, reason, detail]) => ({
    source: source as string,
    reason: reason as string,
    detail: detail as string,
  }));
}

async function loadPromptSets(conn: DuckDBConnection, hash: string): Promise<PromptSet[]> {
  const reader = await conn.runAndReadAll(
    'SELECT name, list(prompt ORDER BY idx) FROM prompt_sets WHERE manifest_hash = $1 GROUP BY name ORDER BY name',
    [hash],
  );
  return reader.getRowsJS().map(([name, prompts]) => ({ name: name as string, prompts: prompts as string[] }));
}

/** Writes the images of a dataset version as Parquet, in manifest order. Returns the row count. */
export async function exportManifestParquet(conn: DuckDBConnection, hash: string, filePath: string): Promise<number> {
  const sql = `SELECT ${manifestSelect} FROM images WHERE manifest_hash = $1 ORDER BY idx`;
  return copyDatasetRows(conn, hash, sql, filePath, "FORMAT parquet, COMPRESSION zstd");
}

/** Writes the rejects of a dataset version as CSV with a header. Returns the row count. */
export async function exportRejects(conn: DuckDBConnection, hash: string, filePath: string): Promise<number> {
  const sql = 'SELECT source, reason, detail FROM rejects WHERE manifest_hash = $1 ORDER BY source, reason';
  return copyDatasetRows(conn, hash, sql, filePath, 'FORMAT csv, HEADER true');
}

async function copyDatasetRows(
  conn: DuckDBConnection,
  hash: string,
  select: string,
  filePath: string,
  options: string,
): Promise<number> {
  const known = await conn.runAndReadAll('SELECT 1 FROM datasets WHERE manifest_hash = $1', [hash]);
  if (known.currentRowCount === 0) throw new UnknownDatasetError(hash);
  const target = resolve(filePath);
  await mkdir(dirname(target), { recursive: true });
  const result = await conn.run(`COPY (${select}) TO ${quotedString(target)} (${options})`, [hash]);
  return result.rowsChanged;
}
