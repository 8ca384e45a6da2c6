import { open, stat } from 'node:fs/promises';

/** Current size of a log file (0 if there is none): where the next start's output begins. */
export const logSize = (path: string): Promise<number> => stat(path).then((s) => s.size, () => 0);

/** The last `lines` lines written to a log file after byte `from` (reads at most 16 KiB). */
export async function logTail(path: string, lines = 30, from = 0): Promise<string> {
  let file;
  try {
    file = await open(path, 'r');
  } catch {
    return '';
  }
  try {
    const { size } = await file.stat();
    const start = Math.max(from, size - 16 * 1024);
    const buffer = Buffer.alloc(Math.max(0, size - start));
    await file.read(buffer, 0, buffer.length, start);
    return buffer.toString('utf8').split('\n').slice(-lines - 1).join('\n').trimEnd();
  } finally {
    await file.close();
  }
}
