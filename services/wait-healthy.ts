import { setTimeout as sleep } from 'node:timers/promises';
import { logTail } from './log-tail.ts';
import { isOurProcess } from './processes.ts';

export interface HealthWait {
  name: string;
  pid: number;
  /** what it was started as (see isOurProcess) */
  command: string[];
  logPath: string;
  /** where this start's output begins in the log */
  logOffset: number;
  timeoutMs: number;
  healthy: () => Promise<boolean>;
}

/** Polls until healthy; fails at once if the process exits, or at the timeout, with the log's tail. */
export async function waitHealthy({ name, pid, command, logPath, logOffset, timeoutMs, healthy }: HealthWait): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (await healthy()) return;
    const exited = !(await isOurProcess(pid, command));
    const timedOut = Date.now() - started > timeoutMs;
    if (exited || timedOut) {
      const why = exited ? 'exited during startup' : `was not healthy after ${Math.round(timeoutMs / 1000)} s`;
      const tail = await logTail(logPath, 30, logOffset);
      throw new Error(`${name} (pid ${pid}) ${why}. Log ${logPath}:\n${tail || '(empty)'}`);
    }
    await sleep(250);
  }
}
