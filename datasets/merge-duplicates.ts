// Exact duplicates (same sha256) become one row. Everything is ordered by source path, never by
// completion order, so the result does not depend on concurrency or listing order.
import { byCodeUnits } from './image-files.ts';
import type { ScannedImage } from './scan-candidate.ts';
import type { ManifestRow } from './types.ts';

export type UnsplitRow = Omit<ManifestRow, 'split'>;

export function mergeDuplicates(images: readonly ScannedImage[]): UnsplitRow[] {
  const bySha = new Map<string, ScannedImage[]>();
  for (const image of images) {
    const group = bySha.get(image.sha256);
    if (group) group.push(image);
    else bySha.set(image.sha256, [image]);
  }
  return [...bySha.values()].map(mergeGroup).sort((a, b) => byCodeUnits(a.sha256, b.sha256));
}

function mergeGroup(unsorted: ScannedImage[]): UnsplitRow {
  const group = [...unsorted].sort((a, b) => byCodeUnits(a.source, b.source));
  const first = group[0]!;
  const label = group.find((image) => image.label !== null)?.label ?? null;
  const labels = new Set(group.flatMap((image) => (image.label === null ? image.labels : [image.label, ...image.labels])));
  const extras = [...new Set(group.flatMap((image) => (image.extra === null ? [] : [image.extra])))];
  return {
    sha256: first.sha256,
    path: (group.find((image) => !image.embedded) ?? first).readablePath,
    sourcePaths: [...new Set(group.map((image) => image.source))],
    bytes: first.bytes,
    width: first.width,
    height: first.height,
    format: first.format,
    normalisations: first.normalisations,
    label,
    labels: [...labels].sort(byCodeUnits),
    prompts: [...new Set(group.flatMap((image) => image.prompts))],
    // Several distinct extras (e.g. two img_ids with identical bytes) are kept as a JSON array.
    extra: extras.length === 0 ? null : extras.length === 1 ? extras[0]! : `[${extras.join(',')}]`,
  };
}
