// Real GI endoscopy images from ../shared/data (present on the project's machines, absent from a
// fresh clone elsewhere: then these tests are skipped and say why).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPromptCsv } from '../../datasets/adapters/prompt-csv.ts';
import { ingestDataset } from '../../datasets/index.ts';
import type { IngestResult } from '../../datasets/index.ts';
import { splitCounts } from '../../datasets/split.ts';
import { datasetSpec, sharedData } from '../fixtures/spec.ts';

const kvasirMini = path.join(sharedData, 'kvasir-mini');
const medvqa = path.join(sharedData, 'medvqa-gi-2024-dev');
const hasKvasirMini = existsSync(path.join(kvasirMini, 'metadata.jsonl'));
const hasMedvqa = existsSync(path.join(medvqa, 'prompt-gt.csv'));
const skipNote = (dir: string) => `(skipped: ${dir} not found; it holds the real images on the project's machines)`;

const KVASIR_MINI_CLASSES = {
  polyp: 951, 'ulcerative-colitis': 432, esophagitis: 423, cecum: 340, instrument: 330, 'bbps-2-3': 238, 'bbps-0-1': 122, 'impacted-stool': 64,
};
const SPLITS = { train: 0.8, val: 0.1, test: 0.1, seed: 42 };

function expectStratified(result: IngestResult): void {
  for (const [label, count] of Object.entries(result.stats.byLabel)) {
    const rows = result.rows.filter((r) => (r.label ?? '(none)') === label);
    const counts = ['train', 'val', 'test'].map((s) => rows.filter((r) => r.split === s).length);
    expect(counts, label).toEqual(splitCounts(count, [SPLITS.train, SPLITS.val, SPLITS.test]));
  }
}

describe.skipIf(!hasKvasirMini)(`kvasir-mini, 2,900 real 256x256 JPEGs ${hasKvasirMini ? '' : skipNote(kvasirMini)}`, () => {
  let folders: IngestResult;
  let imagefolder: IngestResult;
  beforeAll(async () => {
    folders = await ingestDataset(datasetSpec({ format: 'class-folders', path: kvasirMini, splits: SPLITS }));
    imagefolder = await ingestDataset(datasetSpec({ format: 'imagefolder', path: kvasirMini, splits: SPLITS }));
  });

  it('as class folders: 2,900 images over 8 classes, no rejects, stratified 80/10/10', () => {
    expect(folders.stats).toMatchObject({ candidates: 2900, accepted: 2900, duplicatesMerged: 0, rejected: 0, byLabel: KVASIR_MINI_CLASSES });
    expect(folders.stats.bySplit).toEqual({ train: 2321, val: 290, test: 289 });
    expect(folders.rows.every((r) => r.width === 256 && r.height === 256 && r.format === 'jpeg' && r.normalisations.length === 0)).toBe(true);
    expectStratified(folders);
  });

  it('as imagefolder: the same images, with labels, prompts and extras from metadata.jsonl', () => {
    expect(imagefolder.stats).toMatchObject({ candidates: 2900, accepted: 2900, rejected: 0, byLabel: KVASIR_MINI_CLASSES });
    expect(imagefolder.rows.map((r) => r.sha256)).toEqual(folders.rows.map((r) => r.sha256));
    expect(imagefolder.rows.filter((r) => r.prompts.length > 0)).toHaveLength(1711);
    expect(imagefolder.rows.filter((r) => r.labels.includes('z-line'))).toHaveLength(392);
    expect(imagefolder.rows.every((r) => JSON.parse(r.extra!).license)).toBe(true);
    // Same labels and seed, so the same splits; the prompts make it another dataset version.
    expect(imagefolder.rows.map((r) => r.split)).toEqual(folders.rows.map((r) => r.split));
    expect(imagefolder.manifestHash).not.toBe(folders.manifestHash);
  });
});

describe.skipIf(!hasMedvqa)(`MEDVQA-GI 2024 development set, 1,722 real images ${hasMedvqa ? '' : skipNote(medvqa)}`, () => {
  let result: IngestResult;
  beforeAll(async () => {
    result = await ingestDataset(datasetSpec({ format: 'medvqa-gi-2024', path: medvqa, splits: SPLITS }));
  });

  it('reads all 17,415 CSV rows for the 1,722 images', async () => {
    const csv = await readPromptCsv(path.join(medvqa, 'prompt-gt.csv'));
    expect({ rows: csv.rows, files: csv.byFile.size, rejects: csv.rejects }).toEqual({ rows: 17415, files: 1722, rejects: [] });
  });

  it('ingests 1,722 files as 1,714 distinct images (8 exact duplicates merged), no rejects', () => {
    expect(result.stats).toMatchObject({ candidates: 1722, accepted: 1714, duplicatesMerged: 8, rejected: 0 });
    expect(result.rows.every((r) => r.prompts.length > 0)).toBe(true);
    expect(result.stats.byLabel).toEqual({ polyp: 527, 'ulcerative-colitis': 432, esophagitis: 424, instrument: 331 });
    expect(result.rows.every((r) => Math.min(r.width, r.height) === 256)).toBe(true);
    expectStratified(result);
  });

  it.skipIf(!hasKvasirMini)('derives the same main label as kvasir-mini gives the same frames', () => {
    const byClefId = new Map(
      readFileSync(path.join(kvasirMini, 'metadata.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { clef_id?: string; label: string })
        .filter((entry) => entry.clef_id)
        .map((entry) => [entry.clef_id!, entry.label]),
    );
    let compared = 0;
    for (const row of result.rows) {
      for (const source of row.sourcePaths) {
        const expected = byClefId.get(path.basename(source, '.jpg'));
        if (expected === undefined) continue;
        compared += 1;
        expect(row.label, source).toBe(expected);
      }
    }
    expect(compared).toBe(1711);
  });
});
