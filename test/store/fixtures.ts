// Temp store files and hand-built ingestion results for the store tests.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IngestResult, ManifestRow, Split } from '../../datasets/types.ts';

export async function makeTempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'medsynth-store-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function sampleIngestResult(): IngestResult {
  const rows: ManifestRow[] = [
    {
      sha256: 'b'.repeat(64),
      path: '/data/kvasir/polyps/0001.jpg',
      sourcePaths: ['/data/kvasir/polyps/0001.jpg', '/data/kvasir/polyps/copy-of-0001.jpg'],
      bytes: 23_456,
      width: 256,
      height: 256,
      format: 'jpeg',
      normalisations: ['exif-orientation-6', 'cmyk->srgb'],
      label: 'polyps',
      labels: ['polyps', 'z-line'],
      prompts: ['a polyp in the colon', 'one polyp, Paris type Is'],
      split: 'train',
      extra: '{"vqa":[{"q":"how many polyps?","a":"1"}]}',
    },
    {
      sha256: 'a'.repeat(64),
      path: '/blobs/aa/aaaa.png',
      sourcePaths: ['archive.zip!img/1.png'],
      bytes: 9_001,
      width: 320,
      height: 240,
      format: 'png',
      normalisations: [],
      label: null,
      labels: [],
      prompts: [],
      split: 'test',
      extra: null,
    },
    {
      sha256: 'c'.repeat(64),
      path: "/data/it's here/ulcerative colitis.jpg",
      sourcePaths: ["/data/it's here/ulcerative colitis.jpg"],
      bytes: 1,
      width: 1,
      height: 1,
      format: 'jpeg',
      normalisations: [],
      label: 'ulcerative-colitis',
      labels: ['ulcerative-colitis'],
      prompts: ['colitis, "grade 2"; ulcers'],
      split: 'val',
      extra: null,
    },
  ];
  return {
    name: 'kvasir-mini',
    format: 'class-folders',
    source: '/data/kvasir',
    rows,
    rejects: [
      { source: '/data/kvasir/broken.jpg', reason: 'truncated', detail: 'The JPEG ends early; re-copy the file.' },
      { source: 'prompt-gt.csv:17', reason: 'missing-image', detail: 'No image "x.jpg" for this prompt.' },
    ],
    promptSets: [
      { name: 'test-prompts', prompts: ['a polyp', 'an ulcer', 'a polyp'] },
      { name: 'extra', prompts: ['z-line'] },
    ],
    manifestHash: 'f'.repeat(64),
    stats: {
      candidates: 6,
      accepted: 3,
      duplicatesMerged: 1,
      rejected: 2,
      hiddenSkipped: 0,
      byLabel: { polyps: 1, 'ulcerative-colitis': 1 },
      bySplit: { train: 1, val: 1, test: 1 },
    },
  };
}

/** A result of `n` distinct images, for speed checks. */
export function largeIngestResult(n: number): IngestResult {
  const splits: Split[] = ['train', 'val', 'test'];
  const rows: ManifestRow[] = Array.from({ length: n }, (_, i) => ({
    sha256: i.toString(16).padStart(64, '0'),
    path: `/data/class-${i % 8}/${i}.jpg`,
    sourcePaths: [`/data/class-${i % 8}/${i}.jpg`],
    bytes: 20_000 + i,
    width: 256,
    height: 256,
    format: 'jpeg',
    normalisations: i % 10 === 0 ? ['exif-orientation-6'] : [],
    label: `class-${i % 8}`,
    labels: [`class-${i % 8}`],
    prompts: [`an endoscopy image of class ${i % 8}`, `image ${i}`],
    split: splits[i % 3]!,
    extra: null,
  }));
  return {
    name: 'large',
    format: 'class-folders',
    source: '/data',
    rows,
    rejects: [],
    promptSets: [],
    manifestHash: 'e'.repeat(64),
    stats: { candidates: n, accepted: n, duplicatesMerged: 0, rejected: 0, hiddenSkipped: 0, byLabel: {}, bySplit: { train: 0, val: 0, test: 0 } },
  };
}
