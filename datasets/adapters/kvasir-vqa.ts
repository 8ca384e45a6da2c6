// Kvasir-VQA as written by Hugging Face `datasets`: parquet rows (source, question, answer, img_id,
// image) where image is a struct {bytes, path} repeated on every QA row of the image. One candidate
// per img_id: label = source, extra = its QA pairs, bytes copied to the blob store by the pipeline.
// Two passes: the QA pairs first (small columns only), then the image bytes streamed chunk by
// chunk, so memory holds one DuckDB chunk of images, not the dataset.
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { DatasetSpec } from '../../experiments/schema.ts';
import { CandidateRejected, labelFacts } from '../candidate.ts';
import type { Candidate, Listing } from '../candidate.ts';
import { BadInputError } from '../errors.ts';
import { RejectReason, reject } from '../rejects.ts';
import { EXPECTED, firstLine, openParquetSource } from './parquet-source.ts';
import type { ParquetSource } from './parquet-source.ts';

interface QaPair {
  question: string | null;
  answer: string | null;
}

interface ImageQa {
  source: string | null;
  qa: QaPair[];
}

export async function listKvasirVqa(spec: DatasetSpec, signal?: AbortSignal): Promise<Listing> {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  const interrupt = () => db.interrupt();
  signal?.addEventListener('abort', interrupt);
  const close = async () => {
    signal?.removeEventListener('abort', interrupt);
    db.closeSync();
    instance.closeSync();
  };
  try {
    const parquet = await openParquetSource(spec, db, signal);
    const columns = await columnTypes(db, parquet);
    const imageQa = await readQa(db, parquet.relation, columns);
    const missingIds = await countMissingIds(db, parquet.relation);
    const rejects = [...parquet.rejects];
    if (missingIds > 0) {
      rejects.push(reject(parquet.display, RejectReason.missingImageId, `${missingIds} row(s) have no img_id and were skipped`));
    }
    if (imageQa.size === 0) throw new BadInputError(`${parquet.display} contains no images; expected ${EXPECTED}`);
    return {
      source: parquet.display,
      name: parquet.name,
      total: imageQa.size,
      candidates: streamImages(db, parquet.relation, columns, imageQa),
      rejects,
      promptSets: [],
      close,
    };
  } catch (error) {
    await close();
    signal?.throwIfAborted();
    if (error instanceof BadInputError) throw error;
    throw new BadInputError(unreadableMessage(spec, error));
  }
}

function unreadableMessage(spec: DatasetSpec, error: unknown): string {
  if (!spec.path && spec.hub) {
    return (
      `could not read Kvasir-VQA from the Hugging Face hub dataset "${spec.hub}" (hf://datasets/${spec.hub}): ` +
      `${firstLine(error)}. Reading the hub needs network access and DuckDB's httpfs extension; ` +
      `offline, download the parquet files and set dataset.path instead`
    );
  }
  return `could not read ${spec.path} as ${EXPECTED}: ${firstLine(error)}`;
}

async function columnTypes(db: DuckDBConnection, parquet: ParquetSource): Promise<Map<string, string>> {
  const described = await db.runAndReadAll(`DESCRIBE SELECT * FROM ${parquet.relation}`);
  const columns = new Map(described.getRowObjectsJS().map((row) => [String(row.column_name), String(row.column_type)]));
  const missing = ['img_id', 'image'].filter((column) => !columns.has(column));
  if (missing.length > 0) {
    throw new BadInputError(`${parquet.display} lacks the column(s) ${missing.join(', ')}; expected ${EXPECTED}`);
  }
  return columns;
}

const optionalColumn = (columns: Map<string, string>, name: string): string =>
  columns.has(name) ? `CAST("${name}" AS VARCHAR)` : 'NULL::VARCHAR';

async function readQa(db: DuckDBConnection, relation: string, columns: Map<string, string>): Promise<Map<string, ImageQa>> {
  const reader = await db.runAndReadAll(`
    SELECT CAST(img_id AS VARCHAR) AS img_id,
           min(${optionalColumn(columns, 'source')}) AS source,
           list({'question': ${optionalColumn(columns, 'question')}, 'answer': ${optionalColumn(columns, 'answer')}}
                ORDER BY filename, file_row_number) AS qa
    FROM ${relation} WHERE img_id IS NOT NULL GROUP BY ALL ORDER BY img_id`);
  return new Map(
    reader.getRowObjectsJS().map((row) => [String(row.img_id), { source: (row.source as string | null) ?? null, qa: row.qa as unknown as QaPair[] }]),
  );
}

async function countMissingIds(db: DuckDBConnection, relation: string): Promise<number> {
  const reader = await db.runAndReadAll(`SELECT count(*) AS n FROM ${relation} WHERE img_id IS NULL`);
  return Number(reader.getRowObjectsJS()[0]!.n);
}

async function* streamImages(
  db: DuckDBConnection,
  relation: string,
  columns: Map<string, string>,
  imageQa: Map<string, ImageQa>,
): AsyncGenerator<Candidate> {
  const bytesColumn = columns.get('image')!.toUpperCase().startsWith('STRUCT') ? 'image.bytes' : 'image';
  const result = await db.stream(`SELECT filename, CAST(img_id AS VARCHAR) AS img_id, ${bytesColumn} AS bytes FROM ${relation} WHERE img_id IS NOT NULL`);
  const seen = new Set<string>();
  for await (const rows of result.yieldRowObjectJs()) {
    for (const row of rows) {
      const imgId = String(row.img_id);
      if (seen.has(imgId)) continue;
      seen.add(imgId);
      const { source, qa } = imageQa.get(imgId)!;
      const bytes = row.bytes instanceof Uint8Array ? Buffer.from(row.bytes.buffer, row.bytes.byteOffset, row.bytes.byteLength) : null;
      yield {
        source: `${String(row.filename)}#${imgId}`,
        embedded: true,
        read: async () => {
          if (bytes === null) throw new CandidateRejected(RejectReason.missingImageBytes, 'the image struct has no bytes');
          return bytes;
        },
        ...labelFacts(source),
        extra: JSON.stringify({ img_id: imgId, qa }),
      };
    }
  }
}
