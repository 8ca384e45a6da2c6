// The files inside a zip archive, readable on demand (random access: nothing is extracted to
// disk). Entry names are validated here because they come from the archive, not from us.
import path from 'node:path';
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { BadInputError } from '../errors.ts';
import { byCodeUnits, isHiddenName } from '../image-files.ts';
import { RejectReason, reject } from '../rejects.ts';
import type { RejectRow } from '../types.ts';
import { CandidateRejected } from '../candidate.ts';

/** No single image in these datasets comes near this; larger entries are refused unread. */
const MAX_ENTRY_BYTES = 512 * 1024 * 1024;

export interface ZipEntry {
  /** Normalised POSIX path inside the archive. */
  name: string;
  /** "archive.zip!name" */
  source: string;
  read(): Promise<Buffer>;
}

export interface ZipListing {
  entries: ZipEntry[];
  rejects: RejectRow[];
  close(): Promise<void>;
}

export async function listZipEntries(zipPath: string, signal?: AbortSignal): Promise<ZipListing> {
  let zip: ZipFile;
  try {
    // decodeStrings: false, because yauzl would abort the whole archive on one unsafe name.
    zip = await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false, decodeStrings: false });
  } catch (error) {
    throw new BadInputError(`${zipPath} is not a readable zip archive (${(error as Error).message})`);
  }
  const entries: ZipEntry[] = [];
  const rejects: RejectRow[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      signal?.throwIfAborted();
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
      const source = `${zipPath}!${name}`;
      if (yauzl.validateFileName(name) !== null) {
        rejects.push(reject(source, RejectReason.pathTraversal, `archive entry "${name}" points outside the archive; it was not read`));
        continue;
      }
      if (name.endsWith('/') || isHiddenName(name)) continue;
      entries.push({ name: path.posix.normalize(name), source, read: () => readEntry(zip, entry) });
    }
  } catch (error) {
    zip.close();
    if (signal?.aborted) throw error;
    throw new BadInputError(`${zipPath} is a damaged zip archive (${(error as Error).message})`);
  }
  entries.sort((a, b) => byCodeUnits(a.name, b.name));
  return { entries, rejects, close: async () => zip.close() };
}

async function readEntry(zip: ZipFile, entry: Entry): Promise<Buffer> {
  if (entry.isEncrypted()) throw new CandidateRejected(RejectReason.unreadable, 'the archive entry is encrypted');
  if (entry.uncompressedSize > MAX_ENTRY_BYTES) {
    throw new CandidateRejected(RejectReason.tooLarge, `the entry unpacks to ${entry.uncompressedSize} bytes, over ${MAX_ENTRY_BYTES}`);
  }
  const stream = await zip.openReadStreamPromise(entry);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
