import { open } from 'node:fs/promises';

/** The last `lines` lines of a log file (reads at most the last 16 KiB); '' if there is none. */
export async function logTail(path: string, lines = 30): Promise<string> {
  let file;
  try {
    file = await open(path, 'r');
  } catch {
    return '';
  }
  try {
    const { size } = await file.stat();
    const length = Math.min(size, 16 * 1024);
    const buffer = Buffer.alloc(length);
    await file.read(buffer, 0, length, size - length);
    return buffer.toString('utf8').split('\n').slice(-lines - 1).join('\n').trimEnd();
  } finally {
    await file.close();
  }
}
