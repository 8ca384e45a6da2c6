import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { lockFilePath } from './paths.ts';
import { signalReaches } from './processes.ts';

/**
 * Runs `fn` holding `<stateDir>/services.lock`, so that two commands bringing the services up at
 * once (say `medsynth worker` and `medsynth run`) do not both start servers. A lock left by a dead
 * process is taken over.
 */
export async function withStateLock<T>(stateDir: string, fn: () => Promise<T>, timeoutMs = 180_000): Promise<T> {
  await mkdir(stateDir, { recursive: true });
  const path = lockFilePath(stateDir);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(await readFile(path, 'utf8').catch(() => ''));
      if (holder && !signalReaches(holder)) {
        await rm(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${path} is held by process ${holder || '?'}; is another "services up" stuck?`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}
