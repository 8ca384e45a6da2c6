// A content-addressed artifact store: a file is kept once, under the sha256 of its bytes.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';

export interface StoredArtifact {
  sha256: string;
  /** where the bytes now live: <root>/<sha[0:2]>/<sha><ext> */
  path: string;
  bytes: number;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Adds a file to the store (a hard link where possible, else a copy); a second put is a no-op. */
export async function putArtifact(root: string, file: string): Promise<StoredArtifact> {
  const sha256 = await sha256File(file);
  const target = path.join(root, sha256.slice(0, 2), sha256 + path.extname(file).toLowerCase());
  const bytes = (await stat(file)).size;
  if (await stat(target).catch(() => null)) return { sha256, path: target, bytes };
  await mkdir(path.dirname(target), { recursive: true });
  // Write under a temporary name and rename, so a crash never leaves a truncated file at `target`.
  const partial = `${target}.partial-${process.pid}`;
  await link(file, partial).catch(() => copyFile(file, partial));
  await rename(partial, target);
  return { sha256, path: target, bytes };
}
