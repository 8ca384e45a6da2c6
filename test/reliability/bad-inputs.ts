// The bad-input corpus (issue 16, item 4): at least 30 bad inputs of every kind a user hands
// medsynth (images, archives, prompt CSVs and files, Kvasir-VQA parquet, experiment specs, LoRA
// submissions, prompts, paths), each built beside good inputs of its kind and run through the real
// code path. A case is handled when the product says which input is bad and why, keeps the good
// inputs beside it, and nothing crashes. bench/reliability.ts counts these; the test asserts them.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { BadInputCase, Root } from './corpus/case.ts';
import { archiveCases, imageCases, missingDatasetCase } from './corpus/dataset-files.ts';
import { parquetCases } from './corpus/parquet.ts';
import { csvCases, fixtureRowCases, promptFileCases } from './corpus/prompt-files.ts';
import { specCases } from './corpus/specs.ts';
import { submissionCases } from './corpus/submissions.ts';

export type { BadInputCase, Kind, Root } from './corpus/case.ts';

const groups: Record<string, (dir: string) => Promise<BadInputCase[] | BadInputCase>> = {
  images: imageCases,
  archives: archiveCases,
  'dataset-path': missingDatasetCase,
  'csv-rows': fixtureRowCases,
  csv: csvCases,
  'prompt-files': promptFileCases,
  parquet: parquetCases,
  specs: specCases,
  submissions: submissionCases,
};

/** Builds the corpus under `dir` (each group in its own folder) and runs every case. */
export async function runBadInputCorpus(dir: string): Promise<{ cases: BadInputCase[] }> {
  const cases: BadInputCase[] = [];
  for (const [group, run] of Object.entries(groups)) {
    const where = path.join(dir, group);
    await mkdir(where, { recursive: true });
    cases.push(...[await run(where)].flat());
  }
  return { cases };
}

/** The cases that try to leave a root, by the root they try to leave. */
export function escapesByRoot(cases: readonly BadInputCase[]): Map<Root, BadInputCase[]> {
  const by = new Map<Root, BadInputCase[]>();
  for (const c of cases) if (c.escapes) by.set(c.escapes, [...(by.get(c.escapes) ?? []), c]);
  return by;
}

/** Cases per kind, for the test's and the benchmark's summary. */
export function countByKind(cases: readonly BadInputCase[]): Record<string, { tried: number; handled: number }> {
  const counts: Record<string, { tried: number; handled: number }> = {};
  for (const c of cases) {
    const entry = (counts[c.kind] ??= { tried: 0, handled: 0 });
    entry.tried += 1;
    if (c.handled) entry.handled += 1;
  }
  return counts;
}
