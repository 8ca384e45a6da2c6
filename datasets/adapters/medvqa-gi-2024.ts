// MEDVQA-GI 2024 development set: images/<Filename> + prompt-gt.csv (Prompt;Filename). Prompts
// are attached to their image and findings derived from them; images the CSV does not name are
// still ingested, rows naming files that are not there become rejects.
import { access, realpath } from 'node:fs/promises';
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
import { safeRelativePath } from '../safe-path.ts';

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
    const where = await locate(spec.testPrompts, root);
    if (typeof where === 'string') {
      const read = await readPromptLines(where, TEST_PROMPTS);
      if (read.set) promptSets.push(read.set);
      rejects.push(...read.rejects);
    } else rejects.push(where);
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

/**
 * The test-prompts path as given (from the working directory), else inside the dataset folder:
 * there it is a name from the spec, so it must not climb out of the folder (nor leave it by a
 * symlink).
 */
async function locate(file: string, root: string): Promise<string | RejectRow> {
  const fromCwd = path.resolve(file);
  const ok = await access(fromCwd).then(() => true, () => false);
  if (ok || path.isAbsolute(file)) return fromCwd;
  const rel = safeRelativePath(file);
  if (rel === null) return reject(file, RejectReason.pathTraversal, `testPrompts "${file}" is neither found from the working directory nor inside ${root}: it climbs out of the dataset folder, so it was not read`);
  const inside = path.join(root, rel);
  const real = await realpath(inside).catch(() => null);
  const realRoot = await realpath(root);
  if (real !== null && !real.startsWith(`${realRoot}${path.sep}`)) return reject(inside, RejectReason.pathEscape, `testPrompts is a symlink to ${real}, outside the dataset folder: never read`);
  return inside;
}
