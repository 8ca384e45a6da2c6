// Kvasir v2 (<class>/*.jpg, also as the .zip it ships in) and HyperKvasir labelled images
// (lower-gi-tract|upper-gi-tract/<category>/<class>/*.jpg): the label is the leaf folder.
import path from 'node:path';
import type { DatasetSpec } from '../../experiments/schema.ts';
import { fileCandidate, labelFacts } from '../candidate.ts';
import type { Candidate, Listing } from '../candidate.ts';
import { noImagesError, resolveDatasetPath } from '../dataset-path.ts';
import { BadInputError } from '../errors.ts';
import { escapeRejects, isImageName, walkTree } from '../image-files.ts';
import { listZipEntries } from './zip-entries.ts';

const EXPECTED =
  'class folders: <class>/*.jpg (Kvasir v2, folder or .zip) or lower-gi-tract|upper-gi-tract/<category>/<class>/*.jpg (HyperKvasir)';

/** The leaf folder of a relative path, or null for files at the top. */
function classOf(relPath: string): string | null {
  const folder = path.posix.dirname(relPath);
  return folder === '.' ? null : path.posix.basename(folder);
}

export async function listClassFolders(spec: DatasetSpec, signal?: AbortSignal): Promise<Listing> {
  const { absolute, stats } = await resolveDatasetPath(spec, EXPECTED);
  if (stats.isFile() && absolute.toLowerCase().endsWith('.zip')) return listZippedClassFolders(absolute, signal);
  if (!stats.isDirectory()) throw new BadInputError(`${absolute} is neither a folder nor a .zip; expected ${EXPECTED}`);

  const walk = await walkTree(absolute, signal);
  const images = walk.files.filter(isImageName);
  if (images.length === 0 && walk.escapes.length === 0) throw noImagesError(absolute, EXPECTED);
  const candidates = images.map((rel) => fileCandidate(path.join(absolute, rel), labelFacts(classOf(rel))));
  return { ...listing(absolute, path.basename(absolute), candidates, escapeRejects(absolute, walk), async () => {}), hidden: walk.hidden };
}

async function listZippedClassFolders(zipPath: string, signal?: AbortSignal): Promise<Listing> {
  const zip = await listZipEntries(zipPath, signal);
  const candidates: Candidate[] = zip.entries
    .filter((entry) => isImageName(entry.name))
    .map((entry) => ({ source: entry.source, embedded: true, read: entry.read, ...labelFacts(classOf(entry.name)) }));
  if (candidates.length === 0) {
    await zip.close();
    throw noImagesError(zipPath, EXPECTED);
  }
  return listing(zipPath, path.basename(zipPath, path.extname(zipPath)), candidates, zip.rejects, zip.close);
}

function listing(source: string, name: string, candidates: Candidate[], rejects: Listing['rejects'], close: () => Promise<void>): Listing {
  return { source, name, total: candidates.length, candidates, rejects, promptSets: [], close };
}
