// Names that come from inside the data (CSV cells, metadata lines, archive entries) must stay
// inside the dataset folder.
import path from 'node:path';

/**
 * The name as a normalised POSIX path relative to its base, or null when it is empty, absolute
 * (/x, C:\x, \\server) or climbs out of the base with "..".
 */
export function safeRelativePath(name: string): string | null {
  if (name === '' || name.includes('\0')) return null;
  const posix = name.replace(/\\/g, '/');
  if (posix.startsWith('/') || /^[A-Za-z]:/.test(posix)) return null;
  const normalised = path.posix.normalize(posix);
  if (normalised === '..' || normalised.startsWith('../') || normalised === '.') return null;
  return normalised;
}
