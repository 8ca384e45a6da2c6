// Turning `real` / `fake` arguments (a folder or a list of files) into a sorted list of image
// paths, and folder names into category labels.
import { opendir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../errors.ts';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.bmp', '.gif'];

async function walk(dir: string, out: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await walk(full, out);
    else if (IMAGE_EXTENSIONS.includes(path.extname(entry.name).toLowerCase())) out.push(full);
  }
}

export interface ImageSet {
  /** absolute paths, sorted */
  paths: string[];
  /** the folder given, when a folder was given */
  root?: string;
}

/**
 * 'sorted' (default): every image below the folder, sorted. 'listdir': the files directly in the
 * folder, in the order the OS lists them (Python's os.listdir order), for
 * protocols whose numbers depend on it.
 */
export type ListOrder = 'sorted' | 'listdir';

export async function listImages(input: string | string[], what: string, filter?: (file: string) => boolean, order: ListOrder = 'sorted'): Promise<ImageSet> {
  if (Array.isArray(input)) return { paths: input.map((p) => path.resolve(p)).filter((p) => !filter || filter(p)) };
  const root = path.resolve(input);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new UserError(`${what}: ${input} is not a folder`);
  if (order === 'listdir') {
    // opendir streams entries in the OS's order; readdir (libuv's scandir) would sort them
    const names: string[] = [];
    for await (const e of await opendir(root)) if (!e.isDirectory()) names.push(path.join(root, e.name));
    return { paths: names.filter((p) => (filter ? filter(p) : IMAGE_EXTENSIONS.includes(path.extname(p).toLowerCase()))), root };
  }
  const paths: string[] = [];
  await walk(root, paths);
  return { paths: paths.filter((p) => !filter || filter(p)).sort(), root };
}

/** Label of each image = its first folder below the root (Kvasir class folders); '.' for files at the root. */
export function folderCategories(set: ImageSet): Map<string, string> {
  const labels = new Map<string, string>();
  for (const p of set.paths) {
    const rel = set.root ? path.relative(set.root, p) : path.basename(path.dirname(p));
    const parts = rel.split(path.sep);
    labels.set(p, parts.length > 1 ? parts[0]! : set.root ? '.' : rel);
  }
  return labels;
}
