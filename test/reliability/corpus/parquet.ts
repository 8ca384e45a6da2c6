// Bad Kvasir-VQA parquet beside good parquet: a file without the columns, a file that is no
// parquet, a row without image bytes.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ingestDataset } from '../../../datasets/index.ts';
import type { IngestResult } from '../../../datasets/index.ts';
import { makeJpeg } from '../../fixtures/images.ts';
import { writeKvasirVqaParquet } from '../../fixtures/kvasir-vqa-parquet.ts';
import type { VqaImage } from '../../fixtures/kvasir-vqa-parquet.ts';
import { datasetSpec } from '../../fixtures/spec.ts';
import { attempt, lostGood, rejectProblems, userErrorProblems, verdict } from './case.ts';
import type { BadInputCase } from './case.ts';

const goodImages = async (): Promise<VqaImage[]> => [
  { imgId: 'good-a', source: 'polyp', bytes: await makeJpeg(32, 24, 70), qa: [{ question: 'Is there a polyp?', answer: 'yes' }] },
  { imgId: 'good-b', source: 'esophagitis', bytes: await makeJpeg(32, 24, 71), qa: [{ question: 'How many instruments?', answer: '0' }] },
];

const ingestVqa = (file: string, dir: string) => ingestDataset(datasetSpec({ format: 'kvasir-vqa', path: file }), { blobDir: path.join(dir, 'blobs') });
const goodSources = (file: string) => ['good-a', 'good-b'].map((id) => `${file}#${id}`);

async function writeColumnsOnly(file: string): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    await db.run(`COPY (SELECT 'Is there a polyp?' AS question, 'yes' AS answer) TO '${file.replaceAll("'", "''")}' (FORMAT parquet)`);
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

export async function parquetCases(dir: string): Promise<BadInputCase[]> {
  const root = path.join(dir, 'vqa');
  await mkdir(root, { recursive: true });
  const good = path.join(root, 'good.parquet');
  await writeKvasirVqaParquet(good, await goodImages());
  const goodAlone: IngestResult = await ingestVqa(good, dir);
  return [
    await attempt('parquet', 'a parquet file without img_id and image', async () => {
      const file = path.join(dir, 'no-image-columns.parquet');
      await writeColumnsOnly(file);
      const error = await ingestVqa(file, dir).then(() => undefined, (e: unknown) => e);
      return verdict('parquet', 'a parquet file without img_id and image', [...userErrorProblems(error, file, /lacks the column\(s\) img_id, image/), ...lostGood(goodAlone, goodSources(good))], (error as Error)?.message ?? '');
    }),
    await attempt('parquet', 'a .parquet file that is not parquet, beside a good one', async () => {
      const folder = path.join(dir, 'vqa-mixed');
      await mkdir(folder, { recursive: true });
      const mixedGood = path.join(folder, 'good.parquet');
      await writeKvasirVqaParquet(mixedGood, await goodImages());
      await writeFile(path.join(folder, 'broken.parquet'), 'source,question\npolyp,is this parquet?\n');
      const result = await ingestVqa(folder, dir);
      const { problems, message } = rejectProblems(result, path.join(folder, 'broken.parquet'), 'unreadable-parquet', 'broken.parquet');
      return verdict('parquet', 'a .parquet file that is not parquet, beside a good one', [...problems, ...lostGood(result, goodSources(mixedGood))], message);
    }),
    await attempt('parquet', 'a row whose image struct has no bytes', async () => {
      const file = path.join(dir, 'vqa-no-bytes.parquet');
      await writeKvasirVqaParquet(file, [...(await goodImages()), { imgId: 'no-bytes', source: 'polyp', bytes: null, qa: [{ question: 'Is there a polyp?', answer: 'no' }] }]);
      const result = await ingestVqa(file, dir);
      const { problems, message } = rejectProblems(result, `${file}#no-bytes`, 'missing-image-bytes', 'no-bytes');
      return verdict('parquet', 'a row whose image struct has no bytes', [...problems, ...lostGood(result, goodSources(file))], message);
    }),
  ];
}
