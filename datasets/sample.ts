// A small local sample of a Kvasir-VQA source: the first `limit` images (by first appearance in
// the source's files) with their QA rows in the files they appear in first, copied once into one parquet file under a cache
// folder and reused from then on. The source is a kvasir-vqa dataset spec, read through the same
// path as ingestion (adapters/parquet-source.ts): `hub` reads hf://datasets/<id> with DuckDB's
// httpfs after the checks in hub-reachable.ts, `path` reads local parquet. The file is written
// under a temporary name and renamed once complete, so an interrupted fetch never leaves a
// partial file at the cache path.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { UserError } from '../errors.ts';
import type { DatasetSpec } from '../experiments/schema.ts';
import { EXPECTED, firstLine, openParquetSource, sqlString } from './adapters/parquet-source.ts';
import { BadInputError } from './errors.ts';
import { checkHubDataset, loadHttpfs } from './hub-reachable.ts';
import { HUB_CHECK_TIMEOUT_MS } from './sample-defaults.ts';

export interface SampleOptions {
  /** A kvasir-vqa dataset spec: `hub` (read when no `path` is set) or a local `path`. */
  source: DatasetSpec;
  /** How many distinct images (img_id) the sample holds at most. */
  limit: number;
  /** Folder of the cached samples, e.g. MEDSYNTH_HOME/samples. */
  cacheDir: string;
  /** Hub sources: how long the reachability checks may wait in all (default HUB_CHECK_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Hub sources: base URL of the hub API for the reachability check (default https://huggingface.co). */
  endpoint?: string;
  /** Told what is being fetched once the checks have passed. */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface Sample {
  file: string;
  images: number;
  /** false when the cached file was reused and the source not read. */
  fetched: boolean;
}

/** The cache file of a source and limit: <name>-<limit>.parquet, name from the hub id or path. */
export function sampleFile(source: DatasetSpec, limit: number, cacheDir: string): string {
  const from = !source.path && source.hub ? source.hub.split('/').pop()! : path.basename(source.path ?? 'sample', path.extname(source.path ?? ''));
  const name = from.toLowerCase().replace(/[^a-z0-9._-]+/g, '-');
  return path.join(cacheDir, `${name}-${limit}.parquet`);
}

export async function fetchKvasirVqaSample(opts: SampleOptions): Promise<Sample> {
  if (!Number.isInteger(opts.limit) || opts.limit < 1) throw new UserError(`sample limit ${opts.limit}: expected a positive whole number of images`);
  const file = sampleFile(opts.source, opts.limit, opts.cacheDir);
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  const interrupt = () => db.interrupt();
  opts.signal?.addEventListener('abort', interrupt);
  try {
    if (existsSync(file)) {
      const cached = await countImages(db, file).catch(() => 0);
      if (cached > 0) return { file, images: cached, fetched: false };
      await rm(file, { force: true }); // unreadable: fetched again below
    }
    return { file, images: await fetchInto(db, file, opts), fetched: true };
  } finally {
    opts.signal?.removeEventListener('abort', interrupt);
    db.closeSync();
    instance.closeSync();
  }
}

async function fetchInto(db: DuckDBConnection, file: string, opts: SampleOptions): Promise<number> {
  const { source, limit } = opts;
  const fromHub = !source.path && !!source.hub;
  if (fromHub) {
    const check = { deadline: Date.now() + (opts.timeoutMs ?? HUB_CHECK_TIMEOUT_MS), endpoint: opts.endpoint };
    await checkHubDataset(source.hub!, check);
    await loadHttpfs(db, check);
  }
  const parquet = await openParquetSource(source, db, opts.signal);
  opts.log?.(`fetching the first ${limit} images of ${parquet.display} into ${file}`);
  const temporary = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    const ids = await firstImages(db, parquet.relation, limit);
    if (ids.length === 0) throw new BadInputError(`${parquet.display} contains no images; expected ${EXPECTED}`);
    await mkdir(path.dirname(file), { recursive: true });
    const wanted = ids.map(({ imgId }) => sqlString(imgId)).join(', ');
    const files = [...new Set(ids.map(({ filename }) => sqlString(filename)))].join(', ');
    await db.run(`COPY (SELECT * EXCLUDE (filename, file_row_number) FROM ${parquet.relation}
                        WHERE filename IN (${files}) AND img_id IN (${wanted})
                        ORDER BY filename, file_row_number)
                  TO ${sqlString(temporary)} (FORMAT parquet)`);
    const written = await countImages(db, temporary);
    if (written !== ids.length) throw new UserError(`the sample written to ${temporary} holds ${written} images, expected ${ids.length}`);
    opts.signal?.throwIfAborted();
    await rename(temporary, file);
    return written;
  } catch (error) {
    await rm(temporary, { force: true });
    opts.signal?.throwIfAborted();
    if (error instanceof UserError) throw error;
    throw fromHub
      ? new UserError(`the Hugging Face hub answered an error while reading ${parquet.display}: ${firstLine(error)}`)
      : new BadInputError(`could not sample ${parquet.display} as ${EXPECTED}: ${firstLine(error)}`);
  }
}

/** The first `limit` img_ids in file order, each with the file it first appears in. */
async function firstImages(db: DuckDBConnection, relation: string, limit: number): Promise<{ imgId: string; filename: string }[]> {
  const reader = await db.runAndReadAll(`
    SELECT img_id, first.f AS filename FROM (
      SELECT CAST(img_id AS VARCHAR) AS img_id, min({'f': filename, 'r': file_row_number}) AS first
      FROM ${relation} WHERE img_id IS NOT NULL GROUP BY ALL)
    ORDER BY first LIMIT ${limit}`);
  return reader.getRowObjectsJS().map((row) => ({ imgId: String(row.img_id), filename: String(row.filename) }));
}

async function countImages(db: DuckDBConnection, file: string): Promise<number> {
  const reader = await db.runAndReadAll(`SELECT count(DISTINCT img_id) AS n FROM read_parquet(${sqlString(file)})`);
  return Number(reader.getRowObjectsJS()[0]!.n);
}
