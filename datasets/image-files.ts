// Which files are image candidates, and a deterministic walk of a folder.
import { readdir } from 'node:fs/promises';
import path from 'node:path';

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

/**
 * Every regular file under root (symlinked files included, symlinked folders not followed),
 * as sorted POSIX paths relative to root, hidden entries skipped.
 */
export async function walkFiles(root: string, signal?: AbortSignal): Promise<string[]> {
  const found: string[] = [];
  const pending = [''];
  while (pending.length > 0) {
    signal?.throwIfAborted();
    const rel = pending.pop()!;
    for (const entry of await readdir(path.join(root, rel), { withFileTypes: true })) {
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (isHiddenName(entry.name)) continue;
      if (entry.isDirectory()) pending.push(childRel);
      else if (entry.isFile() || entry.isSymbolicLink()) found.push(childRel);
    }
  }
  return found.sort(byCodeUnits);
}
