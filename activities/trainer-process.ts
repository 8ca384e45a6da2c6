// Runs the Python trainer as a child process and turns its stdout JSON lines into events.
// Cancellation sends SIGTERM (the trainer checkpoints and exits); if the worker itself dies, the
// kernel sends the trainer SIGTERM too (setpriv --pdeathsig), so no orphan keeps training.
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import type { TrainerEvent } from '../experiments/jobs.ts';
import { assertSandboxAvailable, pythonMounts, sandboxed, type SandboxOptions } from '../challenge/sandbox.ts';
import { UserError } from '../errors.ts';
import { redactSecrets } from '../secrets.ts';

export const projectRoot = path.resolve(import.meta.dirname, '..');

export interface TrainerRun {
  command: 'train' | 'generate' | 'classify';
  job: unknown;
  outDir: string;
  resume?: string;
  signal?: AbortSignal;
  onEvent: (event: TrainerEvent) => void;
  /** the Python interpreter; defaults to the project's venv */
  python?: string;
  /** how long a cancelled trainer may take to write its checkpoint before it is killed */
  gracefulStopMs?: number;
  /** untrusted inputs: run inside bubblewrap (no network, read-only inputs, only outDir writable) */
  sandbox?: Omit<SandboxOptions, 'writable'>;
}

/** The project's Python and the environment that lets it import the trainer package. */
export function trainerPython(python = path.join(projectRoot, '.venv/bin/python')) {
  if (!existsSync(python)) throw new UserError(`no Python at ${python}: run "npm run setup" first`);
  return { python, env: { PYTHONPATH: path.join(projectRoot, 'trainer'), PYTHONUNBUFFERED: '1' } };
}

/**
 * Builds the tiny preset's base model if this node lacks it (our code, run outside any jail): a
 * jailed trainer reads the model caches but cannot write them.
 */
export async function ensureTinyModel(): Promise<void> {
  const { python, env } = trainerPython();
  await execa(python, ['-m', 'medsynth_trainer', 'tiny'], { cwd: projectRoot, env, stdin: 'ignore' });
}

export class TrainerCrash extends Error {
  override name = 'TrainerCrash';
}

const stderrTailLines = 20;

export async function runTrainer(run: TrainerRun): Promise<Extract<TrainerEvent, { event: 'done' }>> {
  await mkdir(run.outDir, { recursive: true });
  const jobFile = path.join(run.outDir, `${run.command}-job.json`);
  await writeFile(jobFile, JSON.stringify(run.job, null, 2));
  const { python, env } = trainerPython(run.python);

  const args = ['-m', 'medsynth_trainer', run.command, '--spec', jobFile, '--out', run.outDir];
  if (run.resume) args.push('--resume', run.resume);
  const log = createWriteStream(path.join(run.outDir, `${run.command}.log`), { flags: 'a' });
  const tail: string[] = [];
  let argv = ['setpriv', '--pdeathsig', 'TERM', '--', python, ...args];
  if (run.sandbox) {
    assertSandboxAvailable();
    const code = [path.join(projectRoot, 'trainer'), ...pythonMounts(python)];
    argv = sandboxed(argv, code, { ...env, MEDSYNTH_LOG_LEVEL: process.env.MEDSYNTH_LOG_LEVEL ?? 'INFO' }, { ...run.sandbox, writable: path.resolve(run.outDir) });
  }
  const child = execa(argv[0]!, argv.slice(1), {
    cwd: projectRoot,
    // the jail gets its own environment (set by sandboxed()), never the node's tokens and keys
    ...(run.sandbox ? { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, extendEnv: false } : { env }),
    cancelSignal: run.signal,
    forceKillAfterDelay: run.gracefulStopMs ?? 120_000,
    buffer: false,
    reject: false,
    stdin: 'ignore',
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    // the log and the error tail may be read by others: no token the trainer printed goes with them
    const text = redactSecrets(chunk.toString());
    log.write(text);
    tail.push(...text.split('\n').filter(Boolean));
    tail.splice(0, Math.max(0, tail.length - stderrTailLines));
  });

  let done: Extract<TrainerEvent, { event: 'done' }> | undefined;
  let failure: Extract<TrainerEvent, { event: 'error' }> | undefined;
  for await (const line of child.iterable({ from: 'stdout' })) {
    const event = parseEvent(String(line));
    if (!event) continue;
    if (event.event === 'done') done = event;
    if (event.event === 'error') failure = event;
    run.onEvent(event);
  }
  const result = await child;
  log.end();
  if (done && result.exitCode === 0) return done;
  if (result.isCanceled) throw new TrainerCrash(`trainer ${run.command} stopped on cancellation`);
  const detail = failure?.message ?? `exit code ${result.exitCode ?? result.signal}; last log lines:\n${tail.join('\n')}`;
  if (failure && !failure.retryable) throw new UserError(`trainer ${run.command}: ${detail}`);
  throw new TrainerCrash(`trainer ${run.command} crashed: ${detail}`);
}

function parseEvent(line: string): TrainerEvent | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return null;
  try {
    const value = JSON.parse(trimmed) as TrainerEvent;
    return typeof value.event === 'string' ? value : null;
  } catch {
    return null;
  }
}
