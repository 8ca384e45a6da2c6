// Progress, cancellation and limits of the ingestion pipeline.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestDataset } from '../../datasets/index.ts';
import type { IngestProgress } from '../../datasets/index.ts';
import { tempDir } from '../fixtures/bad-corpus.ts';
import { writeLabelledSet } from '../fixtures/labelled-set.ts';
import { datasetSpec } from '../fixtures/spec.ts';

let temp: Awaited<ReturnType<typeof tempDir>>;
let root: string;
let total: number;
const spec = () => datasetSpec({ format: 'class-folders', path: root });

beforeAll(async () => {
  temp = await tempDir();
  root = path.join(temp.dir, 'set');
  total = await writeLabelledSet(root, { polyp: 150, cecum: 50 });
});
afterAll(() => temp.remove());

describe('ingestion pipeline', () => {
  it('reports throttled, monotonic progress ending with done = total', async () => {
    const seen: IngestProgress[] = [];
    await ingestDataset(spec(), { onProgress: (p) => seen.push(p) });
    expect(seen.at(-1)).toEqual({ done: total, total });
    expect(seen.length).toBeLessThanOrEqual(102);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.done).toBeGreaterThanOrEqual(seen[i - 1]!.done);
  });

  it('aborts promptly when the signal fires, without finishing the scan', async () => {
    const controller = new AbortController();
    let lastDone = 0;
    const attempt = ingestDataset(spec(), {
      concurrency: 2,
      signal: controller.signal,
      onProgress: (p) => {
        lastDone = p.done;
        controller.abort();
      },
    });
    await expect(attempt).rejects.toMatchObject({ name: 'AbortError' });
    expect(lastDone).toBeLessThan(total);
  });

  it('refuses to start with an aborted signal', async () => {
    await expect(ingestDataset(spec(), { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('ingests at most spec.limit candidates', async () => {
    const result = await ingestDataset(datasetSpec({ format: 'class-folders', path: root, limit: 12 }));
    expect(result.stats.candidates).toBe(12);
    expect(result.rows).toHaveLength(12);
  });
});
