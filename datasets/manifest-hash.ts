// The dataset version: a sha256 over a canonical serialisation of what defines the data for
// training and evaluation (identity, labels, prompts, split). Paths and sizes are left out so the
// same images at another location give the same hash.
import { createHash } from 'node:crypto';
import { byCodeUnits } from './image-files.ts';
import type { ManifestRow } from './types.ts';

const CANONICAL_FORM = 'medsynth-manifest-v1';

export function manifestHash(rows: readonly ManifestRow[]): string {
  const canonical = [...rows]
    .sort((a, b) => byCodeUnits(a.sha256, b.sha256))
    .map((row) => [row.sha256, row.label, row.labels, row.prompts, row.split]);
  return createHash('sha256').update(`${CANONICAL_FORM}\n${JSON.stringify(canonical)}`).digest('hex');
}
