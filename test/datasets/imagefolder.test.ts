// Hugging Face imagefolder: metadata.jsonl lines give labels, prompts and extras; bad lines are
// rejects by line, images no line names are still ingested.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestDataset } from '../../datasets/index.ts';
import type { IngestResult } from '../../datasets/index.ts';
import { put, tempDir } from '../fixtures/bad-corpus.ts';
import { makeJpeg, makePng } from '../fixtures/images.ts';
import { datasetSpec } from '../fixtures/spec.ts';

let temp: Awaited<ReturnType<typeof tempDir>>;
let root: string;
let result: IngestResult;

const lines = [
  { file_name: 'a/x.jpg', label: 'polyp', labels: ['polyp', 'tube'], text: 'Generate a polyp.', prompts: ['Generate a polyp.', 'With a tube.'], source_repo: 'r', orig_width: 720 },
  '{"file_name": "a/broken.jpg", ',
  { label: 'polyp' },
  { file_name: '../outside.jpg' },
  { file_name: 'missing.jpg' },
  { file_name: 'a/x.jpg', label: 'again' },
  { file_name: 'notes.txt' },
  { file_name: 'b/y.png', label: 3 },
];
const lineOf = (index: number) => `${path.join(root, 'metadata.jsonl')}:${index + 1}`;

beforeAll(async () => {
  temp = await tempDir();
  root = path.join(temp.dir, 'imagefolder');
  await put(root, 'a/x.jpg', await makeJpeg(32, 24, 1));
  await put(root, 'b/y.png', await makePng(24, 32, 2));
  await put(root, 'sub/z.jpg', await makeJpeg(16, 16, 3));
  await put(root, 'c/unlisted.jpg', await makeJpeg(16, 16, 4));
  await put(root, 'notes.txt', 'not an image');
  await put(root, 'metadata.jsonl', lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n\n');
  await put(root, 'sub/metadata.jsonl', JSON.stringify({ file_name: 'z.jpg', label: 'cecum' }) + '\n');
  result = await ingestDataset(datasetSpec({ format: 'imagefolder', path: root }));
});
afterAll(() => temp.remove());

const row = (rel: string) => result.rows.find((r) => r.path === path.join(root, rel))!;

describe('imagefolder with metadata.jsonl', () => {
  it('takes label, labels, text + prompts and keeps the other fields as extra', () => {
    expect(row('a/x.jpg')).toMatchObject({
      label: 'polyp',
      labels: ['polyp', 'tube'],
      prompts: ['Generate a polyp.', 'With a tube.'],
      extra: JSON.stringify({ source_repo: 'r', orig_width: 720 }),
      width: 32,
      height: 24,
    });
    expect(row('b/y.png')).toMatchObject({ label: '3', labels: ['3'], extra: null });
  });

  it('resolves file_name relative to a metadata.jsonl in a subfolder', () => {
    expect(row('sub/z.jpg')).toMatchObject({ label: 'cecum' });
  });

  it('ingests images no metadata line names, unlabelled', () => {
    expect(row('c/unlisted.jpg')).toMatchObject({ label: null, labels: [], prompts: [], extra: null });
    expect(result.stats.byLabel).toEqual({ polyp: 1, '3': 1, cecum: 1, '(none)': 1 });
  });

  it('rejects unreadable lines by line number', () => {
    expect(result.rejects.map((r) => [r.source, r.reason])).toEqual([
      [lineOf(1), 'bad-metadata'],
      [lineOf(2), 'bad-metadata'],
      [lineOf(3), 'path-traversal'],
      [lineOf(4), 'missing-file'],
      [lineOf(5), 'duplicate-entry'],
      [lineOf(6), 'unsupported-extension'],
    ]);
  });

  it('refuses a folder without metadata.jsonl, pointing at class-folders', async () => {
    await expect(ingestDataset(datasetSpec({ format: 'imagefolder', path: path.join(root, 'a') }))).rejects.toThrow(/no metadata\.jsonl.*class-folders/);
  });
});
