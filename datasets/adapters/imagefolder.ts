// Generic Hugging Face imagefolder: images anywhere under the folder, described by metadata.jsonl
// files (file_name relative to the metadata file's folder). Images no metadata line names are
// still ingested, unlabelled.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetSpec } from '../../experiments/schema.ts';
import { fileCandidate, noFacts } from '../candidate.ts';
import type { Listing } from '../candidate.ts';
import { noImagesError, resolveDatasetFolder } from '../dataset-path.ts';
import { BadInputError } from '../errors.ts';
import { escapeRejects, isImageName, walkTree } from '../image-files.ts';
import { RejectReason, reject } from '../rejects.ts';
import type { RejectRow } from '../types.ts';
import { safeRelativePath } from '../safe-path.ts';
import { parseMetadataLines } from './metadata-jsonl.ts';
import type { MetadataEntry } from './metadata-jsonl.ts';

const METADATA = 'metadata.jsonl';
const EXPECTED = `an imagefolder: images plus ${METADATA} (one {"file_name": ...} object per line)`;

export async function listImagefolder(spec: DatasetSpec, signal?: AbortSignal): Promise<Listing> {
  const root = await resolveDatasetFolder(spec, EXPECTED);
  const walk = await walkTree(root, signal);
  const files = walk.files;
  const metadataFiles = files.filter((rel) => path.posix.basename(rel) === METADATA);
  if (metadataFiles.length === 0) {
    throw new BadInputError(`${root} has no ${METADATA}; expected ${EXPECTED} (use format class-folders for plain class folders)`);
  }
  const images = files.filter(isImageName);
  if (images.length === 0) throw noImagesError(root, EXPECTED);

  const { byImage, rejects } = await readMetadata(root, metadataFiles, new Set(images));
  const candidates = images.map((rel) => fileCandidate(path.join(root, rel), byImage.get(rel)?.facts ?? noFacts()));
  return { source: root, name: path.basename(root), total: candidates.length, candidates, rejects: [...escapeRejects(root, walk), ...rejects], promptSets: [], close: async () => {}, hidden: walk.hidden };
}

async function readMetadata(root: string, metadataFiles: readonly string[], images: ReadonlySet<string>) {
  const byImage = new Map<string, MetadataEntry>();
  const rejects: RejectRow[] = [];
  for (const metadataRel of metadataFiles) {
    const metadataPath = path.join(root, metadataRel);
    const text = await readFile(metadataPath, 'utf8').catch((error: Error) => error);
    if (text instanceof Error) {
      rejects.push(reject(metadataPath, RejectReason.unreadable, `could not read the metadata (${text.message})`));
      continue;
    }
    const parsed = parseMetadataLines(text, metadataPath);
    rejects.push(...parsed.rejects);
    for (const entry of parsed.entries) {
      const rel = resolveFileName(path.posix.dirname(metadataRel), entry.fileName);
      const problem = problemOf(entry, rel, images, byImage);
      if (problem) rejects.push(problem);
      else byImage.set(rel!, entry);
    }
  }
  return { byImage, rejects };
}

/** file_name relative to the dataset root, or null when it leaves the folder. */
function resolveFileName(metadataFolder: string, fileName: string): string | null {
  const inner = safeRelativePath(fileName);
  return inner === null ? null : safeRelativePath(path.posix.join(metadataFolder, inner));
}

function problemOf(entry: MetadataEntry, rel: string | null, images: ReadonlySet<string>, seen: Map<string, MetadataEntry>): RejectRow | null {
  const name = JSON.stringify(entry.fileName);
  if (rel === null) return reject(entry.where, RejectReason.pathTraversal, `file_name ${name} points outside the dataset folder`);
  if (!isImageName(rel)) return reject(entry.where, RejectReason.unsupportedExtension, `file_name ${name} is not an image file type we ingest`);
  if (!images.has(rel)) return reject(entry.where, RejectReason.missingFile, `file_name ${name} does not exist`);
  const earlier = seen.get(rel);
  if (earlier) return reject(entry.where, RejectReason.duplicateEntry, `file_name ${name} is already described at ${earlier.where}`);
  return null;
}
