// Where Kvasir-VQA parquet comes from: a local file, a folder of files, or the Hugging Face hub
// through DuckDB's hf:// paths (httpfs; needs network). Each local file is checked on its own so
// one damaged file is a reject rather than the end of the ingestion.
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { DatasetSpec } from '../../experiments/schema.ts';
import { resolveDatasetPath } from '../dataset-path.ts';
import { BadInputError } from '../errors.ts';
import { walkFiles } from '../image-files.ts';
import { RejectReason, reject } from '../rejects.ts';
import type { RejectRow } from '../types.ts';

export const EXPECTED = 'Kvasir-VQA parquet (a .parquet file or a folder of them) with columns source, question, answer, img_id, image';

export interface ParquetSource {
  /** Shown as IngestResult.source. */
  display: string;
  name: string;
  /** A read_parquet(...) table expression with filename and file_row_number columns. */
  relation: string;
  rejects: RejectRow[];
  isHub: boolean;
}

export const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`;

const readParquet = (files: string): string => `read_parquet(${files}, filename = true, file_row_number = true, union_by_name = true)`;

export async function openParquetSource(spec: DatasetSpec, db: DuckDBConnection, signal?: AbortSignal): Promise<ParquetSource> {
  if (!spec.path && spec.hub) {
    const url = `hf://datasets/${spec.hub}/**/*.parquet`;
    return { display: `hf://datasets/${spec.hub}`, name: spec.hub.split('/').pop()!, relation: readParquet(sqlString(url)), rejects: [], isHub: true };
  }
  const { absolute, stats } = await resolveDatasetPath(spec, EXPECTED);
  const files = stats.isDirectory()
    ? (await walkFiles(absolute, signal)).filter((rel) => rel.toLowerCase().endsWith('.parquet')).map((rel) => path.join(absolute, rel))
    : [absolute];
  if (files.length === 0) throw new BadInputError(`${absolute} contains no .parquet files; expected ${EXPECTED}`);

  const readable: string[] = [];
  const rejects: RejectRow[] = [];
  for (const file of files) {
    signal?.throwIfAborted();
    try {
      await db.run(`SELECT count(*) FROM read_parquet(${sqlString(file)})`);
      readable.push(file);
    } catch (error) {
      rejects.push(reject(file, RejectReason.unreadableParquet, `not a readable parquet file (${firstLine(error)})`));
    }
  }
  if (readable.length === 0) throw new BadInputError(`${absolute}: none of its ${files.length} parquet file(s) is readable; expected ${EXPECTED}`);
  const name = path.basename(absolute, path.extname(absolute));
  return { display: absolute, name, relation: readParquet(`[${readable.map(sqlString).join(', ')}]`), rejects, isHub: false };
}

export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}
