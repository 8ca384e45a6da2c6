import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnknownDatasetError, openStore } from '../../store/index.ts';
import type { Store } from '../../store/index.ts';
import { largeIngestResult, makeTempDir, sampleIngestResult } from './fixtures.ts';

let dir: string;
let store: Store;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  store = await openStore(join(dir, 'store.duckdb'));
});
afterEach(async () => {
  await store.close();
  await cleanup();
});

const counts = async () =>
  (
    await store.query(
      `SELECT (SELECT count(*) FROM datasets), (SELECT count(*) FROM images), (SELECT count(*) FROM rejects), (SELECT count(*) FROM prompt_sets)`,
    )
  ).rows[0];

describe('saveDataset', () => {
  it('round-trips an ingestion result exactly: list columns, a null label, order, prompt sets, stats', async () => {
    const result = sampleIngestResult();
    await store.saveDataset(result, '/out/manifest.parquet');
    const loaded = await store.loadDataset(result.manifestHash);
    expect(loaded).toEqual({
      ...result,
      rejects: [...result.rejects].sort((a, b) => a.source.localeCompare(b.source)),
      promptSets: [...result.promptSets].sort((a, b) => a.name.localeCompare(b.name)),
    });
    expect(await store.loadManifest(result.manifestHash)).toEqual(result.rows);
    expect((await store.query('SELECT n_images, n_rejects, n_duplicates_merged, manifest_parquet FROM datasets')).rows).toEqual([
      [3, 2, 1, '/out/manifest.parquet'],
    ]);
    expect(await store.loadDataset('0'.repeat(64))).toBeNull();
  });

  it('saving the same manifest hash twice keeps the same counts and the first created_at', async () => {
    const result = sampleIngestResult();
    await store.saveDataset(result, '/out/manifest.parquet');
    const before = (await store.query('SELECT created_at FROM datasets')).rows;
    await store.saveDataset({ ...result, source: '/moved/kvasir' });
    expect(await counts()).toEqual([1, 3, 2, 4]);
    expect((await store.query('SELECT source, manifest_parquet, created_at FROM datasets')).rows).toEqual([
      ['/moved/kvasir', '/out/manifest.parquet', before[0]![0]],
    ]);
  });

  it('rolls back the whole dataset when one part fails', async () => {
    const result = sampleIngestResult();
    const broken = { ...result, rows: [...result.rows, result.rows[0]!] }; // a repeated sha256 breaks the key
    await expect(store.saveDataset(broken)).rejects.toThrow();
    expect(await counts()).toEqual([0, 0, 0, 0]);
  });

  it('saves 3,000 images well under a second', async () => {
    const result = largeIngestResult(3000);
    await store.saveDataset(sampleIngestResult()); // warm up
    const started = performance.now();
    await store.saveDataset(result);
    const ms = performance.now() - started;
    expect((await store.query('SELECT count(*) FROM images WHERE manifest_hash = $1', [result.manifestHash])).rows).toEqual([[3000]]);
    console.log(`saveDataset of 3,000 images: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(1000);
  });
});

describe('dataset exports', () => {
  it('writes the manifest as Parquet that reads back equal to the rows', async () => {
    const result = sampleIngestResult();
    await store.saveDataset(result);
    const file = join(dir, 'exports', 'manifest.parquet');
    expect(await store.exportManifestParquet(result.manifestHash, file)).toBe(3);
    const fromParquet = await store.query('SELECT * FROM read_parquet($1)', [file]);
    expect(fromParquet.columns.map((c) => c.name)).toEqual([
      'sha256', 'path', 'source_paths', 'bytes', 'width', 'height', 'format', 'normalisations',
      'label', 'labels', 'prompts', 'split', 'extra',
    ]);
    expect(fromParquet.columns.find((c) => c.name === 'source_paths')!.type).toBe('VARCHAR[]');
    expect(fromParquet.rows).toEqual(result.rows.map((r) => Object.values(r)));
  });

  it('writes the rejects as CSV with a header', async () => {
    const result = sampleIngestResult();
    await store.saveDataset(result);
    const file = join(dir, 'rejects.csv');
    expect(await store.exportRejects(result.manifestHash, file)).toBe(2);
    const csv = await readFile(file, 'utf8');
    expect(csv.split('\n')[0]).toBe('source,reason,detail');
    const back = await store.query('SELECT source, reason, detail FROM read_csv($1) ORDER BY source', [file]);
    expect(back.rows).toEqual(
      [...result.rejects].sort((a, b) => a.source.localeCompare(b.source)).map((r) => [r.source, r.reason, r.detail]),
    );
  });

  it('refuses to export an unknown dataset', async () => {
    await expect(store.exportManifestParquet('0'.repeat(64), join(dir, 'x.parquet'))).rejects.toThrow(UnknownDatasetError);
  });
});
