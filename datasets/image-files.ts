// Which files are image candidates, and a deterministic walk of a folder.
import { readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { RejectReason, reject } from './rejects.ts';
import type { RejectRow } from './types.ts';

/** Extensions of raster formats the bundled libvips decodes. Other files are ignored quietly. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif',
]);

export function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase());
}

/** Dotfiles, macOS resource forks and their archive folder are never data. */
export function isHiddenName(relPath: string): boolean {
  return relPath.split('/').some((part) => part.startsWith('.') || part === '__MACOSX');
}

export const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export interface Walk {
  /** sorted POSIX paths relative to root */
  files: string[];
  /** symlinks whose target lies outside root (or does not resolve): never read */
  escapes: Array<{ rel: string; target: string | null }>;
  /** hidden entries skipped (dotfiles, __MACOSX), counted so the summary can say so */
  hidden: number;
}

/**
 * Every regular file under root (symlinked files included when their target stays inside root,
 * symlinked folders not followed), hidden entries skipped and counted.
 */
export async function walkTree(root: string, signal?: AbortSignal): Promise<Walk> {
  const found: string[] = [];
  const escapes: Walk['escapes'] = [];
  let hidden = 0;
  const realRoot = await realpath(root);
  const pending = [''];
  while (pending.length > 0) {
    signal?.throwIfAborted();
    const rel = pending.pop()!;
    for (const entry of await readdir(path.join(root, rel), { withFileTypes: true })) {
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (isHiddenName(entry.name)) {
        hidden++;
        continue;
      }
      if (entry.isDirectory()) pending.push(childRel);
      else if (entry.isFile()) found.push(childRel);
      else if (entry.isSymbolicLink()) {
        const target = await realpath(path.join(root, childRel)).catch(() => null);
        if (target && target.startsWith(`${realRoot}${path.sep}`)) found.push(childRel);
        else escapes.push({ rel: childRel, target });
      }
    }
  }
  return { files: found.sort(byCodeUnits), escapes: escapes.sort((a, b) => byCodeUnits(a.rel, b.rel)), hidden };
}

/** walkTree's files only (for listings that report neither escapes nor hidden entries). */
export async function walkFiles(root: string, signal?: AbortSignal): Promise<string[]> {
  return (await walkTree(root, signal)).files;
}

/** The rejects of a walk's symlinks that leave the dataset folder. */
export function escapeRejects(root: string, walk: Walk): RejectRow[] {
  return walk.escapes.map((e) =>
    reject(path.join(root, e.rel), RejectReason.pathEscape, e.target ? `a symlink to ${e.target}, outside the dataset folder: never read` : 'a symlink that does not resolve'),
  );
}
