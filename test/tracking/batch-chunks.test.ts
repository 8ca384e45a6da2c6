import { describe, expect, it } from 'vitest';
import { batchLimits, chunkBatch } from '../../tracking/batch-chunks.ts';

const metrics = (n: number) => Array.from({ length: n }, (_, i) => ({ key: 'm', value: i, step: i, timestamp: 1 }));
const kv = (n: number, p: string) => Array.from({ length: n }, (_, i) => ({ key: `${p}${i}`, value: String(i) }));

describe('chunkBatch', () => {
  it.each([
    { name: 'empty batch: no request', m: 0, p: 0, t: 0, sizes: [] },
    { name: 'small batch: one request', m: 10, p: 5, t: 3, sizes: [[10, 5, 3]] },
    { name: 'exactly 1000 metrics', m: 1000, p: 0, t: 0, sizes: [[1000, 0, 0]] },
    { name: '1001 metrics', m: 1001, p: 0, t: 0, sizes: [[1000, 0, 0], [1, 0, 0]] },
    { name: 'params and tags leave room for fewer metrics', m: 1000, p: 100, t: 100, sizes: [[800, 100, 100], [200, 0, 0]] },
    { name: '250 params', m: 0, p: 250, t: 0, sizes: [[0, 100, 0], [0, 100, 0], [0, 50, 0]] },
    { name: 'mixed overflow', m: 2500, p: 150, t: 120, sizes: [[800, 100, 100], [930, 50, 20], [770, 0, 0]] },
  ])('$name', ({ m, p, t, sizes }) => {
    const batch = { metrics: metrics(m), params: kv(p, 'p'), tags: kv(t, 't') };
    const chunks = chunkBatch(batch);
    expect(chunks.map((c) => [c.metrics.length, c.params.length, c.tags.length])).toEqual(sizes);
    for (const c of chunks) {
      expect(c.metrics.length + c.params.length + c.tags.length).toBeLessThanOrEqual(batchLimits.total);
    }
    expect(chunks.flatMap((c) => c.metrics)).toEqual(batch.metrics);
    expect(chunks.flatMap((c) => c.params)).toEqual(batch.params);
    expect(chunks.flatMap((c) => c.tags)).toEqual(batch.tags);
  });
});
