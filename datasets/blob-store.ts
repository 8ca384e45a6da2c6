// Content-addressed copies of images that exist only inside another file (a parquet cell, a zip
// entry), so that ManifestRow.path always names a readable file: <dir>/<sha[0:2]>/<sha>.<ext>.
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

const EXTENSION_OF_FORMAT: Record<string, string> = { jpeg: 'jpg', tiff: 'tif', heif: 'heic' };

export function blobPath(dir: string, sha256: string, format: string): string {
  return path.join(dir, sha256.slice(0, 2), `${sha256}.${EXTENSION_OF_FORMAT[format] ?? format}`);
}

export function createBlobStore(dir: string) {
  const written = new Map<string, Promise<string>>();

  async function write(target: string, bytes: Buffer): Promise<string> {
    const existing = await stat(target).catch(() => null);
    if (existing?.size === bytes.length) return target;
    await mkdir(path.dirname(target), { recursive: true });
    // Write then rename: a concurrent reader never sees half a file.
    const temporary = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, target);
    return target;
  }

  return {
    /** Stores the bytes once per sha256 and returns the blob's path. */
    put(sha256: string, format: string, bytes: Buffer): Promise<string> {
      let pending = written.get(sha256);
      if (!pending) {
        pending = write(blobPath(dir, sha256, format), bytes);
        written.set(sha256, pending);
      }
      return pending;
    },
  };
}

export type BlobStore = ReturnType<typeof createBlobStore>;
