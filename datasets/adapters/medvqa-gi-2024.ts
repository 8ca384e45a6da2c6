// MEDVQA-GI 2024 development set: images/<Filename> + prompt-gt.csv (Prompt;Filename). Prompts
// are attached to their image and findings derived from them; images the CSV does not name are
// still ingested, rows naming files that are not there become rejects.
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetSpec } from '../../experiments/schema.ts';
import { fileCandidate } from '../candidate.ts';
import type { Listing } from '../candidate.ts';
import { noImagesError, resolveDatasetFolder } from '../dataset-path.ts';
import { BadInputError } from '../errors.ts';
import { escapeRejects, isImageName, walkTree } from '../image-files.ts';
import { RejectReason, reject } from '../rejects.ts';
import type { PromptSet, RejectRow } from '../types.ts';
import { findingsOf } from './findings.ts';
import { readPromptCsv } from './prompt-csv.ts';
import type { PromptCsv } from './prompt-csv.ts';
import { readPromptLines } from './prompt-lines.ts';

const EXPECTED = 'the MEDVQA-GI 2024 layout: images/<Filename> and prompt-gt.csv (Prompt;Filename)';
const TEST_PROMPTS = 'test-prompts';

export async function listMedvqaGi2024(spec: DatasetSpec, signal?: AbortSignal): Promise<Listing> {
  const root = await resolveDatasetFolder(spec, EXPECTED);
  const imagesDir = path.join(root, 'images');
  const walk = await walkTree(imagesDir, signal).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') throw new BadInputError(`${root} has no images/ folder; expected ${EXPECTED}`);
    throw error;
  });
  const images = walk.files.filter(isImageName);
  if (images.length === 0) throw noImagesError(imagesDir, EXPECTED);

  const csv = await readPromptCsv(path.join(root, 'prompt-gt.csv'));
  const rejects = [...escapeRejects(imagesDir, walk), ...csv.rejects, ...unmatchedRows(csv.byFile, new Set(images))];
  const candidates = images.map((rel) => {
    const prompts = csv.byFile.get(rel)?.prompts ?? [];
    return fileCandidate(path.join(imagesDir, rel), { ...findingsOf(prompts), prompts, extra: null });
  });

  const promptSets: PromptSet[] = [];
  if (spec.testPrompts) {
    const read = await readPromptLines(await locate(spec.testPrompts, root), TEST_PROMPTS);
    if ('prompts' in read) promptSets.push(read);
    else rejects.push(read);
  }
  return { source: root, name: path.basename(root), total: candidates.length, candidates, rejects, promptSets, close: async () => {}, hidden: walk.hidden };
}

function unmatchedRows(byFile: PromptCsv['byFile'], images: ReadonlySet<string>): RejectRow[] {
  return [...byFile]
    .filter(([rel]) => !images.has(rel))
    .map(([rel, { firstRow, rows }]) =>
      isImageName(rel)
        ? reject(firstRow, RejectReason.missingFile, `images/${rel} does not exist (named by ${rows} row(s)); its prompts were ignored`)
        : reject(firstRow, RejectReason.unsupportedExtension, `${rel} is not an image file type we ingest (named by ${rows} row(s))`),
    );
}

/** The test-prompts path as given (from the working directory), else inside the dataset folder. */
async function locate(file: string, root: string): Promise<string> {
  const fromCwd = path.resolve(file);
  const ok = await access(fromCwd).then(() => true, () => false);
  return ok || path.isAbsolute(file) ? fromCwd : path.join(root, file);
}
