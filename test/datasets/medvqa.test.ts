// MEDVQA-GI 2024 layout: prompts attached to their images, findings derived from them, CSV
// problems as rejects that never cost an image.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findingsOf } from '../../datasets/adapters/findings.ts';
import { ingestDataset } from '../../datasets/index.ts';
import type { IngestResult } from '../../datasets/index.ts';
import { put, tempDir, writeCommaCsv, writeMedvqaCorpus } from '../fixtures/bad-corpus.ts';
import type { MedvqaCorpus } from '../fixtures/bad-corpus.ts';
import { datasetSpec } from '../fixtures/spec.ts';

let temp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  temp = await tempDir();
});
afterAll(() => temp.remove());

const rowOf = (result: IngestResult, corpus: MedvqaCorpus, file: string) =>
  result.rows.find((r) => r.sourcePaths.includes(path.join(corpus.root, 'images', file)))!;

describe('prompt-gt.csv with bad rows and a test-prompts file', () => {
  let corpus: MedvqaCorpus;
  let result: IngestResult;
  beforeAll(async () => {
    corpus = await writeMedvqaCorpus(path.join(temp.dir, 'medvqa'));
    await put(corpus.root, 'test-prompts.txt', 'Generate an image containing a polyp.\r\n\r\n  Generate an image with 2 polyps.  \n\n');
    result = await ingestDataset(datasetSpec({ format: 'medvqa-gi-2024', path: corpus.root, testPrompts: path.join(corpus.root, 'test-prompts.txt') }));
  });

  it('attaches each image its prompts, deduplicated in first-seen order', () => {
    for (const [file, prompts] of Object.entries(corpus.prompts)) expect(rowOf(result, corpus, file).prompts).toEqual(prompts);
  });

  it('derives findings and the main label from the prompts', () => {
    expect(rowOf(result, corpus, 'a1.jpg')).toMatchObject({ label: 'polyp', labels: ['polyp'] });
    expect(rowOf(result, corpus, 'b2.jpg')).toMatchObject({ label: 'esophagitis', labels: ['esophagitis', 'z-line'] });
    expect(rowOf(result, corpus, 'c3.jpg')).toMatchObject({ label: 'instrument', labels: ['instrument', 'polyp-snare', 'tube'] });
  });

  it('still ingests images the CSV does not name, without prompts', () => {
    expect(rowOf(result, corpus, corpus.unnamed)).toMatchObject({ prompts: [], label: null, labels: [] });
    expect(result.stats.accepted).toBe(4);
  });

  it('rejects traversal, missing files, non-image names and malformed rows by CSV line', () => {
    const csv = path.join(corpus.root, 'prompt-gt.csv');
    expect(result.rejects.map((r) => [r.source, r.reason])).toEqual(
      corpus.bad.map((b) => [b.rel.replace('prompt-gt.csv', csv), b.reason]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
    );
    expect(result.rejects.find((r) => r.reason === 'missing-file')!.detail).toContain('2 row(s)');
  });

  it('reads the test prompts as a prompt set, blank lines skipped', () => {
    expect(result.promptSets).toEqual([{ name: 'test-prompts', prompts: ['Generate an image containing a polyp.', 'Generate an image with 2 polyps.'] }]);
  });
});

describe('a CSV that cannot be used', () => {
  it('with commas: one file-level reject naming the delimiter, images kept without prompts', async () => {
    const corpus = await writeMedvqaCorpus(path.join(temp.dir, 'commas'));
    await writeCommaCsv(corpus);
    const result = await ingestDataset(datasetSpec({ format: 'medvqa-gi-2024', path: corpus.root }));
    expect(result.rejects).toHaveLength(1);
    expect(result.rejects[0]).toMatchObject({ source: path.join(corpus.root, 'prompt-gt.csv'), reason: 'csv-wrong-delimiter' });
    expect(result.rejects[0]!.detail).toContain('","');
    expect(result.rows).toHaveLength(4);
    expect(result.rows.every((r) => r.prompts.length === 0)).toBe(true);
  });

  it('with other columns: one csv-missing-columns reject, images kept', async () => {
    const corpus = await writeMedvqaCorpus(path.join(temp.dir, 'columns'));
    await put(corpus.root, 'prompt-gt.csv', 'Text;Image\r\nGenerate an image containing a polyp.;a1.jpg\r\n');
    const result = await ingestDataset(datasetSpec({ format: 'medvqa-gi-2024', path: corpus.root }));
    expect(result.rejects.map((r) => r.reason)).toEqual(['csv-missing-columns']);
    expect(result.rows).toHaveLength(4);
  });

  it('missing altogether (and a missing test-prompts file): missing-file rejects, images kept', async () => {
    const corpus = await writeMedvqaCorpus(path.join(temp.dir, 'no-csv'));
    await rm(path.join(corpus.root, 'prompt-gt.csv'));
    const result = await ingestDataset(datasetSpec({ format: 'medvqa-gi-2024', path: corpus.root, testPrompts: 'no-such-prompts.txt' }));
    expect(result.rejects.map((r) => [path.basename(r.source), r.reason])).toEqual([
      ['no-such-prompts.txt', 'missing-file'],
      ['prompt-gt.csv', 'missing-file'],
    ]);
    expect(result.rows).toHaveLength(4);
    expect(result.promptSets).toEqual([]);
  });
});

describe('findings from the MEDVQA-GI prompt templates', () => {
  it.each([
    [['Generate an image containing a polypandulcerative colitis.'], 'polyp', ['polyp', 'ulcerative-colitis']],
    [['Generate an image with no polyps.', 'Generate an image with no findings.'], null, []],
    [['Generate an image containing biopsy forcepsandmetal clip.'], 'instrument', ['biopsy-forceps', 'metal-clip']],
    [['Generate an image with 1 instrument.'], 'instrument', ['instrument']],
    [['Generate a polyp of type paris ip.', 'Generate an image containing the cecum.'], 'polyp', ['cecum', 'polyp']],
    [['Generate an image containing the z-line.'], 'z-line', ['z-line']],
    [['Generate an image not containing text.', 'Generate an image from a colonoscopy procedure.'], null, []],
  ] as const)('%j → %s', (prompts, label, labels) => {
    expect(findingsOf(prompts)).toEqual({ label, labels });
  });
});
