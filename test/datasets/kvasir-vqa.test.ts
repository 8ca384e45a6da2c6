// Kvasir-VQA parquet of the real shape (struct image {bytes, path}, one row per QA pair), written
// by the test with DuckDB from generated images.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadInputError, ingestDataset } from '../../datasets/index.ts';
import type { IngestResult } from '../../datasets/index.ts';
import { put, tempDir } from '../fixtures/bad-corpus.ts';
import { makeJpeg, makePng, truncate } from '../fixtures/images.ts';
import { writeKvasirVqaParquet } from '../fixtures/kvasir-vqa-parquet.ts';
import type { VqaImage } from '../fixtures/kvasir-vqa-parquet.ts';
import { datasetSpec } from '../fixtures/spec.ts';

let temp: Awaited<ReturnType<typeof tempDir>>;
let images: VqaImage[];
let folder: string;
let file: string;
let blobDir: string;
let result: IngestResult;

const qa = (n: number, id: string) => Array.from({ length: n }, (_, i) => ({ question: `Q${i} of ${id}?`, answer: `A${i}` }));

beforeAll(async () => {
  temp = await tempDir();
  const polyp = await makeJpeg(48, 40, 1);
  images = [
    { imgId: 'img-1', source: 'hyperkvasir', bytes: polyp, qa: qa(3, 'img-1') },
    { imgId: 'img-2', source: 'kvasir-instrument', bytes: await makePng(32, 32, 2), qa: qa(2, 'img-2') },
    { imgId: 'img-3', source: 'hyperkvasir', bytes: polyp, qa: qa(2, 'img-3') }, // same bytes as img-1
    { imgId: 'img-4', source: 'hyperkvasir', bytes: truncate(await makeJpeg(48, 40, 4)), qa: qa(2, 'img-4') },
    { imgId: 'img-5', source: 'hyperkvasir', bytes: null, qa: qa(1, 'img-5') },
  ];
  folder = path.join(temp.dir, 'kvasir-vqa');
  file = path.join(folder, 'data', 'train-00000-of-00001.parquet');
  await put(folder, 'data/.keep', '');
  await writeKvasirVqaParquet(file, images);
  await put(folder, 'data/broken.parquet', 'PAR1 this is not parquet');
  blobDir = path.join(temp.dir, 'blobs');
  result = await ingestDataset(datasetSpec({ format: 'kvasir-vqa', path: folder }), { blobDir });
});
afterAll(() => temp.remove());

const rowOf = (imgId: string) => result.rows.find((r) => r.sourcePaths.includes(`${file}#${imgId}`))!;

describe('Kvasir-VQA parquet folder', () => {
  it('makes one candidate per img_id with label = source and its QA pairs as extra', () => {
    expect(result.stats).toMatchObject({ candidates: 5, accepted: 2, duplicatesMerged: 1 });
    const instrument = rowOf('img-2');
    expect(instrument).toMatchObject({ label: 'kvasir-instrument', labels: ['kvasir-instrument'], width: 32, height: 32, format: 'png' });
    expect(JSON.parse(instrument.extra!)).toEqual({ img_id: 'img-2', qa: qa(2, 'img-2') });
  });

  it('merges two img_ids with identical bytes, keeping both QA sets', () => {
    const merged = rowOf('img-1');
    expect(merged.sourcePaths).toEqual([`${file}#img-1`, `${file}#img-3`]);
    expect(JSON.parse(merged.extra!)).toEqual([
      { img_id: 'img-1', qa: qa(3, 'img-1') },
      { img_id: 'img-3', qa: qa(2, 'img-3') },
    ]);
  });

  it('writes the embedded bytes to the content-addressed blob store', async () => {
    for (const row of result.rows) {
      expect(row.path).toBe(path.join(blobDir, row.sha256.slice(0, 2), `${row.sha256}.${row.format === 'jpeg' ? 'jpg' : row.format}`));
      expect(createHash('sha256').update(await readFile(row.path)).digest('hex')).toBe(row.sha256);
    }
  });

  it('rejects a truncated image, an image without bytes and an unreadable parquet file', () => {
    expect(result.rejects.map((r) => [r.source, r.reason])).toEqual([
      [path.join(folder, 'data', 'broken.parquet'), 'unreadable-parquet'],
      [`${file}#img-4`, 'truncated'],
      [`${file}#img-5`, 'missing-image-bytes'],
    ]);
  });

  it('reads a single parquet file the same way', async () => {
    const single = await ingestDataset(datasetSpec({ format: 'kvasir-vqa', path: file }), { blobDir });
    expect(single.manifestHash).toBe(result.manifestHash);
    expect(single.name).toBe('train-00000-of-00001');
  });
});

describe('Kvasir-VQA input that cannot be read', () => {
  it('fails on the hub with a clear message naming the hub id when offline', async () => {
    // A hub id that does not exist, so that a machine with network fails fast too.
    const hub = 'medsynth-tests/no-such-dataset';
    const error = await ingestDataset(datasetSpec({ format: 'kvasir-vqa', hub })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadInputError);
    expect((error as Error).message).toContain(`"${hub}"`);
    expect((error as Error).message).toMatch(/dataset\.path/);
  });

  it('names the missing columns of a parquet file of another shape', async () => {
    const other = path.join(temp.dir, 'other.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    await db.run(`COPY (SELECT 1 AS a, 'x' AS b) TO '${other}' (FORMAT parquet)`);
    db.closeSync();
    instance.closeSync();
    await expect(ingestDataset(datasetSpec({ format: 'kvasir-vqa', path: other }))).rejects.toThrow(/lacks the column\(s\) img_id, image/);
  });
});
