// Bad input never crashes ingestion and never costs the good rows: each bad file is one reject
// with a reason, every good image is a row with the right facts.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadInputError, ingestDataset, summariseRejects } from '../../datasets/index.ts';
import type { IngestResult } from '../../datasets/index.ts';
import { put, tempDir, writeClassFolderCorpus, writeClassFolderZip } from '../fixtures/bad-corpus.ts';
import type { Corpus } from '../fixtures/bad-corpus.ts';
import { makeJpeg } from '../fixtures/images.ts';
import { datasetSpec } from '../fixtures/spec.ts';

let temp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  temp = await tempDir();
});
afterAll(() => temp.remove());

const reasonsBySource = (result: IngestResult) => Object.fromEntries(result.rejects.map((r) => [r.source, r.reason]));

describe('class folders with every image variant and every kind of bad file', () => {
  let corpus: Corpus;
  let result: IngestResult;
  beforeAll(async () => {
    corpus = await writeClassFolderCorpus(path.join(temp.dir, 'classes'));
    result = await ingestDataset(datasetSpec({ format: 'class-folders', path: corpus.root }), { blobDir: path.join(temp.dir, 'blobs') });
  });

  it('accepts every good image with its real size, format and normalisations', () => {
    for (const good of corpus.good) {
      const row = result.rows.find((r) => r.sourcePaths.includes(path.join(corpus.root, good.rel)));
      expect(row, good.rel).toBeDefined();
      expect({ label: row!.label, width: row!.width, height: row!.height, format: row!.format, normalisations: row!.normalisations }, good.rel).toEqual({
        label: good.label,
        width: good.width,
        height: good.height,
        format: good.format,
        normalisations: good.normalisations,
      });
    }
  });

  it('rejects every bad file with its reason and nothing else', () => {
    expect(reasonsBySource(result)).toEqual(Object.fromEntries(corpus.bad.map((b) => [path.join(corpus.root, b.rel), b.reason])));
    for (const r of result.rejects) expect(r.detail.length).toBeGreaterThan(10);
  });

  it('ignores files that are not images quietly', () => {
    const mentioned = [...result.rows.flatMap((r) => r.sourcePaths), ...result.rejects.map((r) => r.source)];
    for (const rel of corpus.ignored) expect(mentioned).not.toContain(path.join(corpus.root, rel));
  });

  it('merges the exact duplicate into one row with both sources and both labels', () => {
    const row = result.rows.find((r) => r.sourcePaths.includes(path.join(corpus.root, corpus.duplicateOf.rel)))!;
    expect(row.sourcePaths).toEqual([path.join(corpus.root, corpus.duplicateOf.original), path.join(corpus.root, corpus.duplicateOf.rel)]);
    expect(row.labels).toEqual(['polyp', 'ulcerative-colitis']);
    expect(row.label).toBe('polyp'); // from the first source in path order
    expect(row.path).toBe(row.sourcePaths[0]);
    expect(result.stats).toMatchObject({
      candidates: corpus.good.length + corpus.bad.length + 1,
      accepted: corpus.good.length,
      duplicatesMerged: 1,
      rejected: corpus.bad.length,
    });
  });

  it('returns rows sorted by sha256 with a readable path and byte count', () => {
    const shas = result.rows.map((r) => r.sha256);
    expect(shas).toEqual([...shas].sort());
    for (const row of result.rows) {
      expect(row.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(row.bytes).toBeGreaterThan(0);
    }
  });

  it('summarises rejects by reason with an example', () => {
    const summary = summariseRejects(result.rejects);
    expect(summary.reduce((n, s) => n + s.count, 0)).toBe(result.rejects.length);
    const truncated = summary.find((s) => s.reason === 'truncated')!;
    expect(truncated.count).toBe(2);
    expect(truncated.example).toContain('truncated.');
  });
});

describe('HyperKvasir labelled-images layout', () => {
  it('labels each image with its leaf class folder', async () => {
    const root = path.join(temp.dir, 'hyper-kvasir', 'labeled-images');
    await put(root, 'lower-gi-tract/pathological-findings/polyps/a.jpg', await makeJpeg(16, 16, 60));
    await put(root, 'lower-gi-tract/quality-of-mucosal-views/bbps-2-3/b.jpg', await makeJpeg(16, 16, 61));
    await put(root, 'upper-gi-tract/anatomical-landmarks/z-line/c.jpg', await makeJpeg(16, 16, 62));
    const result = await ingestDataset(datasetSpec({ format: 'class-folders', path: root }));
    expect(result.stats.byLabel).toEqual({ polyps: 1, 'bbps-2-3': 1, 'z-line': 1 });
    expect(result.name).toBe('labeled-images');
  });
});

describe('class folders inside a zip (Kvasir v2 as shipped)', () => {
  it('reads good entries into the blob store and rejects traversal and broken entries', async () => {
    const zip = path.join(temp.dir, 'zip', 'kvasir-v2.zip');
    const expected = await writeClassFolderZip(zip);
    const blobDir = path.join(temp.dir, 'zip-blobs');
    const result = await ingestDataset(datasetSpec({ format: 'class-folders', path: zip }), { blobDir });

    expect(result.name).toBe('kvasir-v2');
    expect(reasonsBySource(result)).toEqual(Object.fromEntries(expected.bad.map((b) => [`${zip}!${b.rel}`, b.reason])));
    expect(result.rows).toHaveLength(expected.good.length);
    for (const good of expected.good) {
      const row = result.rows.find((r) => r.sourcePaths.includes(`${zip}!${good.rel}`))!;
      expect(row).toMatchObject({ label: good.label, width: good.width, height: good.height, format: good.format });
      const ext = good.format === 'jpeg' ? 'jpg' : good.format;
      expect(row.path).toBe(path.join(blobDir, row.sha256.slice(0, 2), `${row.sha256}.${ext}`));
      expect(createHash('sha256').update(await readFile(row.path)).digest('hex')).toBe(row.sha256);
    }
  });
});

describe('whole-input errors', () => {
  it('throws BadInputError naming a missing folder and the expected layout', async () => {
    const missing = path.join(temp.dir, 'does-not-exist');
    const attempt = ingestDataset(datasetSpec({ format: 'class-folders', path: missing }));
    await expect(attempt).rejects.toBeInstanceOf(BadInputError);
    await expect(attempt).rejects.toThrow(new RegExp(`${missing}.*class folders`));
  });

  it('throws BadInputError for a folder without image candidates', async () => {
    const empty = path.join(temp.dir, 'no-images');
    await put(empty, 'readme.txt', 'nothing here');
    for (const format of ['class-folders', 'imagefolder', 'medvqa-gi-2024', 'kvasir-vqa'] as const) {
      const error = await ingestDataset(datasetSpec({ format, path: empty })).catch((e: unknown) => e);
      expect(error, format).toBeInstanceOf(BadInputError);
      expect((error as Error).name).toBe('BadInput');
      expect((error as Error).message, format).toContain(empty);
    }
  });

  it('throws BadInputError for a damaged zip archive', async () => {
    const zip = path.join(temp.dir, 'damaged.zip');
    await put(temp.dir, 'damaged.zip', 'PK this is not really a zip');
    await expect(ingestDataset(datasetSpec({ format: 'class-folders', path: zip }))).rejects.toThrow(/not a readable zip/);
  });
});
