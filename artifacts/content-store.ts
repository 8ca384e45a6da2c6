// A content-addressed store: bytes are kept once, at <root>/<sha[0:2]>/<sha><ext>. Artifacts
// (weights, generated images) and embedded dataset images (datasets/embedded-images.ts) both live in one.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface StoredArtifact {
  sha256: string;
  /** where the bytes now live: <root>/<sha[0:2]>/<sha><ext> */
  path: string;
  bytes: number;
}

export function contentPath(root: string, sha256: string, ext: string): string {
  return path.join(root, sha256.slice(0, 2), sha256 + ext);
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Puts content at `target` unless a file of `size` bytes is already there. It is written under a
 * temporary name and renamed, so a crash never leaves a truncated file and a reader never sees half.
 */
export async function placeOnce(target: string, size: number, write: (temporary: string) => Promise<void>): Promise<void> {
  if ((await stat(target).catch(() => null))?.size === size) return;
  await mkdir(path.dirname(target), { recursive: true });
  const temporary = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`;
  await write(temporary);
  await rename(temporary, target);
}

/** Adds a file to the store (a hard link where possible, else a copy); a second put is a no-op. */
export async function putArtifact(root: string, file: string): Promise<StoredArtifact> {
  const sha256 = await sha256File(file);
  const target = contentPath(root, sha256, path.extname(file).toLowerCase());
  const bytes = (await stat(file)).size;
  await placeOnce(target, bytes, (temporary) => link(file, temporary).catch(() => copyFile(file, temporary)));
  return { sha256, path: target, bytes };
}

/** Adds bytes whose sha256 the caller already computed. */
export async function putBytes(root: string, sha256: string, ext: string, bytes: Buffer): Promise<string> {
  const target = contentPath(root, sha256, ext);
  await placeOnce(target, bytes.length, (temporary) => writeFile(temporary, bytes));
  return target;
}
