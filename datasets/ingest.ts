// The ingestion pipeline: list candidates (adapter) → read, hash, inspect each with bounded
// concurrency → merge exact duplicates → stratified split → manifest hash.
import os from 'node:os';
import path from 'node:path';
import type { DatasetSpec } from '../experiments/schema.ts';
import { adapters } from './adapters/index.ts';
import { createEmbeddedImages } from './embedded-images.ts';
import { manifestHash } from './manifest-hash.ts';
import { mergeDuplicates } from './merge-duplicates.ts';
import { runPool, take } from './pool.ts';
import { progressReporter } from './progress.ts';
import { compareRejects } from './rejects.ts';
import { createScanner } from './scan-candidate.ts';
import type { ScannedImage } from './scan-candidate.ts';
import { assignSplits } from './split.ts';
import type { IngestProgress, IngestResult, ManifestRow, RejectRow, Split } from './types.ts';

export interface IngestOptions {
  onProgress?: (p: IngestProgress) => void;
  signal?: AbortSignal;
  /** Images in flight at once; default os.availableParallelism() * 2 (see bench/ingest.ts). */
  concurrency?: number;
  /** Content-addressed copies of embedded images (parquet cells, zip entries); default .medsynth/blobs. */
  blobDir?: string;
}

export const defaultConcurrency = (): number => os.availableParallelism() * 2;

export async function ingestDataset(spec: DatasetSpec, opts: IngestOptions = {}): Promise<IngestResult> {
  const { signal } = opts;
  signal?.throwIfAborted();
  const listing = await adapters[spec.format](spec, signal);
  try {
    const total = Math.min(listing.total, spec.limit ?? Infinity);
    const progress = progressReporter(total, opts.onProgress);
    const scan = createScanner(spec.maxPixels, createEmbeddedImages(path.resolve(opts.blobDir ?? '.medsynth/blobs')));
    const images: ScannedImage[] = [];
    const rejects: RejectRow[] = [...listing.rejects];
    const concurrency = opts.concurrency ?? defaultConcurrency();
    await runPool(take(listing.candidates, total), concurrency, async (candidate) => {
      const outcome = await scan(candidate);
      if (outcome.ok) images.push(outcome.image);
      else rejects.push(outcome.reject);
      progress.tick();
    }, signal);
    progress.finish();

    const rows = assignSplits(mergeDuplicates(images), spec.splits);
    return {
      name: spec.name ?? listing.name,
      format: spec.format,
      source: listing.source,
      rows,
      rejects: rejects.sort(compareRejects),
      promptSets: listing.promptSets,
      manifestHash: manifestHash(rows),
      stats: {
        candidates: total,
        accepted: rows.length,
        duplicatesMerged: images.length - rows.length,
        rejected: rejects.length,
        hiddenSkipped: listing.hidden ?? 0,
        byLabel: countBy(rows, (row) => row.label ?? UNLABELLED),
        bySplit: { train: 0, val: 0, test: 0, ...countBy(rows, (row) => row.split) } as Record<Split, number>,
      },
    };
  } finally {
    await listing.close();
  }
}

/** The byLabel key of rows without a label. */
export const UNLABELLED = '(none)';

function countBy(rows: readonly ManifestRow[], key: (row: ManifestRow) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of rows) counts[key(row)] = (counts[key(row)] ?? 0) + 1;
  return counts;
}
