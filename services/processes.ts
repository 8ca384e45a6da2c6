import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DetachedSpawn {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logPath: string;
}

/**
 * Starts a process in its own process group (so one signal reaches its children too, e.g. MLflow's
 * uvicorn worker), with stdout and stderr appended to a log file, and lets this process exit
 * without waiting for it. Returns the pid, which is also the process group id.
 */
export function spawnDetached({ command, args, cwd, env, logPath }: DetachedSpawn): number {
  const log = openSync(logPath, 'a');
  try {
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', log, log] });
    // A failed exec (e.g. missing binary) surfaces as 'error'; the startup wait reports it.
    child.on('error', () => {});
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${command}; is it installed? (npm run setup builds .venv)`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** Fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, ...]. */
async function procStat(pid: number): Promise<string[] | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

const hasProc = (async () => (await procStat(process.pid)) !== undefined)();

/** Whether a signal can reach `pid` (a negative pid: a process group). Zombies count as alive. */
export function signalReaches(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether `pid` is a live process started as `command`. Its arguments (which name files in the
 * state directory) guard against a recycled pid: a stale services.json must never make us report,
 * or signal, somebody else's process. Only the arguments are compared because a script's
 * interpreter comes first in /proc/<pid>/cmdline.
 */
export async function isOurProcess(pid: number, command: readonly string[]): Promise<boolean> {
  if (!(await hasProc)) return signalReaches(pid);
  const stat = await procStat(pid);
  if (!stat || stat[0] === 'Z') return false;
  let argv: string[];
  try {
    argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').slice(0, -1);
  } catch {
    return false;
  }
  const args = command.slice(1);
  return argv.length > args.length && args.every((arg, i) => argv[argv.length - args.length + i] === arg);
}

/** Whether any non-zombie process is left in the process group. */
export async function processGroupAlive(pgid: number): Promise<boolean> {
  if (!(await hasProc)) return signalReaches(-pgid);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await procStat(Number(entry));
    if (stat && stat[0] !== 'Z' && Number(stat[2]) === pgid) return true;
  }
  return false;
}

async function waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await processGroupAlive(pgid))) return true;
    await sleep(100);
  }
  return !(await processGroupAlive(pgid));
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** SIGTERM to the whole group, then SIGKILL whatever is still there after the grace period. */
export async function stopProcessGroup(pgid: number, graceMs = 10_000): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  if (await waitGroupGone(pgid, graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
  if (!(await waitGroupGone(pgid, 5_000))) throw new Error(`process group ${pgid} survived SIGKILL`);
}
