// Deterministic stratified splits and a manifest hash that changes exactly when the data does.
import { rename } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestDataset } from '../../datasets/index.ts';
import type { IngestResult, ManifestRow } from '../../datasets/index.ts';
import { splitCounts } from '../../datasets/split.ts';
import { tempDir } from '../fixtures/bad-corpus.ts';
import { writeLabelledSet } from '../fixtures/labelled-set.ts';
import { datasetSpec } from '../fixtures/spec.ts';

const SIZES = { polyp: 50, cecum: 20, ileum: 7, pylorus: 1 };
const FRACTIONS = { train: 0.8, val: 0.1, test: 0.1, seed: 7 };

let temp: Awaited<ReturnType<typeof tempDir>>;
let root: string;
let base: IngestResult;
const ingest = (dir: string, seed = FRACTIONS.seed, concurrency?: number) =>
  ingestDataset(datasetSpec({ format: 'class-folders', path: dir, splits: { ...FRACTIONS, seed } }), { concurrency });
const splitBySha = (rows: readonly ManifestRow[]) => Object.fromEntries(rows.map((r) => [r.sha256, r.split]));

beforeAll(async () => {
  temp = await tempDir();
  root = path.join(temp.dir, 'set');
  await writeLabelledSet(root, SIZES);
  base = await ingest(root);
});
afterAll(() => temp.remove());

describe('splitCounts (largest remainder)', () => {
  it.each([
    [1, [1, 0, 0]],
    [2, [2, 0, 0]],
    [5, [4, 1, 0]],
    [7, [5, 1, 1]],
    [10, [8, 1, 1]],
    [20, [16, 2, 2]],
    [2900, [2320, 290, 290]],
  ])('%i images → %j', (n, expected) => {
    expect(splitCounts(n, [0.8, 0.1, 0.1])).toEqual(expected);
  });

  it('always adds up to n', () => {
    for (let n = 0; n < 200; n++) for (const f of [[0.7, 0.2, 0.1], [1, 0, 0], [0.34, 0.33, 0.33]]) {
      expect(splitCounts(n, f).reduce((a, b) => a + b, 0)).toBe(n);
    }
  });
});

describe('stratified split', () => {
  it('cuts every class by the fractions', () => {
    for (const [label, size] of Object.entries(SIZES)) {
      const rows = base.rows.filter((r) => r.label === label);
      const counts = ['train', 'val', 'test'].map((s) => rows.filter((r) => r.split === s).length);
      expect(counts, label).toEqual(splitCounts(size, [0.8, 0.1, 0.1]));
    }
    expect(base.stats.bySplit).toEqual({ train: 40 + 16 + 5 + 1, val: 5 + 2 + 1, test: 5 + 2 + 1 });
  });

  it('does not depend on concurrency', async () => {
    const serial = await ingest(root, FRACTIONS.seed, 1);
    const wide = await ingest(root, FRACTIONS.seed, 16);
    expect(serial.rows).toEqual(base.rows);
    expect(wide.rows).toEqual(base.rows);
    expect(wide.manifestHash).toBe(base.manifestHash);
  });

  it('does not depend on file names or listing order: same images, other names, same hash', async () => {
    const renamed = path.join(temp.dir, 'renamed');
    // Reversed, differently spelled names: the walk lists the images in another order.
    await writeLabelledSet(renamed, SIZES, (i) => `z${String(999 - i).padStart(4, '0')}`);
    const result = await ingest(renamed);
    expect(result.rows.map((r) => r.path)).not.toEqual(base.rows.map((r) => r.path));
    expect(splitBySha(result.rows)).toEqual(splitBySha(base.rows));
    expect(result.manifestHash).toBe(base.manifestHash);
  });

  it('changes with the seed, keeping the per-class counts', async () => {
    const other = await ingest(root, FRACTIONS.seed + 1);
    const changed = other.rows.filter((r) => splitBySha(base.rows)[r.sha256] !== r.split);
    expect(changed.length).toBeGreaterThan(0);
    expect(other.stats.bySplit).toEqual(base.stats.bySplit);
    expect(other.manifestHash).not.toBe(base.manifestHash);
  });

  it('gives a different manifest hash when a label changes or an image goes', async () => {
    const moved = path.join(temp.dir, 'moved');
    await writeLabelledSet(moved, SIZES);
    await rename(path.join(moved, 'polyp', 'img-0.jpg'), path.join(moved, 'cecum', 'img-0-was-polyp.jpg'));
    expect((await ingest(moved)).manifestHash).not.toBe(base.manifestHash);
    await rename(path.join(moved, 'cecum', 'img-0-was-polyp.jpg'), path.join(temp.dir, 'removed.jpg'));
    const fewer = await ingest(moved);
    expect(fewer.rows).toHaveLength(base.rows.length - 1);
    expect(fewer.manifestHash).not.toBe(base.manifestHash);
  });
});
