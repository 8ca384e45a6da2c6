// A failpoint for the fault suites (test/reliability/, bench/reliability.ts), which need a worker to
// die inside an activity however short it is; polling the server from outside misses a 100 ms
// ingest. MEDSYNTH_FAILPOINT=<activity>:<ms> makes this worker SIGKILL itself (and, as a process
// group leader, everything it started, as a machine going down) <ms> after that activity starts, or
// as it finishes when that comes first: its result is never reported, so Temporal retries it on
// another worker. Unset, activities run untouched.
import { readFileSync } from 'node:fs';
import { UserError } from '../errors.ts';

export interface Failpoint {
  activity: string;
  afterMs: number;
}

/** MEDSYNTH_FAILPOINT's value, checked against the worker's `activities`; null when unset. */
export function parseFailpoint(value: string | undefined, activities: readonly string[]): Failpoint | null {
  if (!value) return null;
  const match = /^([A-Za-z]+):(\d+)$/.exec(value);
  if (!match) throw new UserError(`MEDSYNTH_FAILPOINT "${value}": expected <activity>:<milliseconds>, e.g. ingest:100`);
  if (!activities.includes(match[1]!)) throw new UserError(`MEDSYNTH_FAILPOINT names "${match[1]}", which is not an activity (${activities.join(', ')})`);
  return { activity: match[1]!, afterMs: Number(match[2]) };
}

/** SIGKILL: the process group when this process leads one (a node of the fault suites), else only itself. */
function die(activity: string, when: string): never {
  process.stderr.write(`failpoint: killing this worker ${when} ${activity}\n`);
  const group = Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ')[2]);
  process.kill(group === process.pid ? -process.pid : process.pid, 'SIGKILL');
  throw new Error('unreachable: SIGKILL sent to this process');
}

/** `fn`, which kills this worker at the failpoint when `name` is its activity. */
export function withFailpoint<A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>, failpoint: Failpoint | null): (...args: A) => Promise<R> {
  if (failpoint?.activity !== name) return fn;
  return async (...args) => {
    const timer = setTimeout(() => die(name, `${failpoint.afterMs} ms into`), failpoint.afterMs);
    try {
      await fn(...args);
    } finally {
      clearTimeout(timer);
    }
    return die(name, 'as it finished, before reporting the result of');
  };
}
