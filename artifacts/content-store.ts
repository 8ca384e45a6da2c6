// Content-addressed files on this node: bytes are kept once, at <root>/<sha[0:2]>/<sha><ext>, written
// atomically. Embedded dataset images (datasets/embedded-images.ts) and the blob store's cache
// (blob-store.ts) are laid out this way.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

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

/** Adds bytes whose sha256 the caller already computed. */
export async function putBytes(root: string, sha256: string, ext: string, bytes: Buffer): Promise<string> {
  const target = contentPath(root, sha256, ext);
  await placeOnce(target, bytes.length, (temporary) => writeFile(temporary, bytes));
  return target;
}
