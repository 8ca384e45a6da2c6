// Deterministic stratified split. Within each label, images are ranked by sha256(seed:sha256), a
// key that depends only on the image and the seed (not on listing order or concurrency), and cut
// by the fractions with largest-remainder rounding so the counts always add up.
import { createHash } from 'node:crypto';
import type { DatasetSpec } from '../experiments/schema.ts';
import type { ManifestRow, Split } from './types.ts';
import { byCodeUnits } from './image-files.ts';
import type { UnsplitRow } from './merge-duplicates.ts';

type SplitSpec = DatasetSpec['splits'];

const SPLITS: readonly Split[] = ['train', 'val', 'test'];

export function assignSplits(rows: readonly UnsplitRow[], spec: SplitSpec): ManifestRow[] {
  const strata = new Map<string | null, UnsplitRow[]>();
  for (const row of rows) {
    const stratum = strata.get(row.label);
    if (stratum) stratum.push(row);
    else strata.set(row.label, [row]);
  }
  const splitOf = new Map<string, Split>();
  for (const stratum of strata.values()) {
    const ranked = stratum
      .map((row) => ({ sha256: row.sha256, key: rankKey(spec.seed, row.sha256) }))
      .sort((a, b) => byCodeUnits(a.key, b.key));
    const counts = splitCounts(ranked.length, [spec.train, spec.val, spec.test]);
    let index = 0;
    SPLITS.forEach((split, i) => {
      for (let k = 0; k < counts[i]!; k++) splitOf.set(ranked[index++]!.sha256, split);
    });
  }
  return rows.map((row) => ({ ...row, split: splitOf.get(row.sha256)! }));
}

function rankKey(seed: number, sha256: string): string {
  return createHash('sha256').update(`${seed}:${sha256}`).digest('hex');
}

/** Largest-remainder rounding of n * fractions; ties go to the earlier split (train, val, test). */
export function splitCounts(n: number, fractions: readonly number[]): number[] {
  const exact = fractions.map((f) => n * f);
  const counts = exact.map(Math.floor);
  let missing = n - counts.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((x, i) => ({ i, remainder: x - Math.floor(x) })).sort((a, b) => b.remainder - a.remainder || a.i - b.i);
  for (const { i } of byRemainder) {
    if (missing <= 0) break;
    counts[i]! += 1;
    missing -= 1;
  }
  return counts;
}
