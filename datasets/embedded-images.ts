// Content-addressed copies of images that exist only inside another file (a parquet cell, a zip
// entry), so that ManifestRow.path always names a readable file: <dir>/<sha[0:2]>/<sha>.<ext>.
import { contentPath, putBytes } from '../artifacts/content-store.ts';

const EXTENSION_OF_FORMAT: Record<string, string> = { jpeg: 'jpg', tiff: 'tif', heif: 'heic' };
const extensionOf = (format: string) => `.${EXTENSION_OF_FORMAT[format] ?? format}`;

export function blobPath(dir: string, sha256: string, format: string): string {
  return contentPath(dir, sha256, extensionOf(format));
}

export function createEmbeddedImages(dir: string) {
  const written = new Map<string, Promise<string>>();
  return {
    /** Stores the bytes once per sha256 and returns the blob's path. */
    put(sha256: string, format: string, bytes: Buffer): Promise<string> {
      let pending = written.get(sha256);
      if (!pending) {
        pending = putBytes(dir, sha256, extensionOf(format), bytes);
        written.set(sha256, pending);
      }
      return pending;
    },
  };
}

export type EmbeddedImages = ReturnType<typeof createEmbeddedImages>;
