// The jail of a trainer process that loads untrusted weights: bubblewrap (Debian's `bubblewrap`)
// with every namespace unshared (no network: only a loopback nobody listens on), the system, the
// Python environment and the trainer code read-only, the submission's inputs read-only, one output
// folder writable, a private /tmp, and limits on address space (prlimit) and wall time (timeout,
// SIGKILL). Nothing else of the node (MEDSYNTH_HOME, DuckDB, other teams' files) is visible.
import { existsSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execaSync } from 'execa';
import { UserError } from '../errors.ts';

export interface SandboxOptions {
  /** files or folders the process may read (the submission's weights, the base model) */
  readOnly: string[];
  /** the one folder it may write */
  writable: string;
  /** wall-clock limit, seconds */
  timeoutS: number;
  /** address-space limit, bytes */
  memoryBytes: number;
}

export const SANDBOX_DEFAULTS = { timeoutS: 3600, memoryBytes: 32 * 1024 ** 3 };

let checked = false;
/** Fails with what to install when bubblewrap or its helpers are missing or cannot make namespaces here. */
export function assertSandboxAvailable(): void {
  if (checked) return;
  for (const tool of ['bwrap', 'prlimit', 'timeout']) {
    try {
      execaSync('sh', ['-c', `command -v ${tool}`]);
    } catch {
      throw new UserError(`${tool} is not installed: untrusted weights run only inside bubblewrap (apt-get install bubblewrap util-linux coreutils)`);
    }
  }
  try {
    execaSync('bwrap', ['--ro-bind', '/', '/', '--unshare-all', '--die-with-parent', 'true']);
  } catch (err) {
    throw new UserError(`bubblewrap cannot create namespaces on this node (${(err as Error).message.split('\n').at(-1)}): untrusted weights are never loaded outside it`);
  }
  checked = true;
}

/** What a venv's Python needs mounted: the venv and the installation its interpreter links to (pyenv, /usr/local ...). */
export function pythonMounts(python: string): string[] {
  const venv = path.dirname(path.dirname(path.resolve(python)));
  return [venv, path.dirname(path.dirname(realpathSync(python)))];
}

const cacheHome = () => process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');

/** Folders a Python process needs to start: the system's, and the caches holding base models. */
function systemMounts(): string[] {
  return ['/usr', '/lib', '/lib64', '/bin', '/sbin', '/etc', path.join(cacheHome(), 'medsynth'), path.join(cacheHome(), 'huggingface'), process.env.HF_HOME ?? ''].filter((p) => p && existsSync(p));
}

/**
 * The command line that runs `argv` in the jail. `code` are the read-only folders of the program
 * (trainer, venv); `env` is all the environment it gets (never the node's tokens and keys).
 */
export function sandboxed(argv: string[], code: string[], env: Record<string, string>, opts: SandboxOptions): string[] {
  const ro = [...new Set([...systemMounts(), ...code, ...opts.readOnly].map((p) => path.resolve(p)))].filter((p) => existsSync(p));
  const vars = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', ...env, HOME: opts.writable, XDG_CACHE_HOME: cacheHome(), HF_HUB_OFFLINE: '1', ...(process.env.HF_HOME ? { HF_HOME: process.env.HF_HOME } : {}) };
  return [
    'bwrap',
    '--clearenv',
    ...Object.entries(vars).flatMap(([k, v]) => ['--setenv', k, v]),
    '--unshare-all',
    '--die-with-parent',
    '--new-session',
    // a private /tmp first: the mounts below may lie inside the node's /tmp and must stay visible
    '--tmpfs', '/tmp',
    '--proc', '/proc',
    '--dev', '/dev',
    ...ro.flatMap((p) => ['--ro-bind', p, p]),
    '--bind', opts.writable, opts.writable,
    '--chdir', opts.writable,
    '--',
    'prlimit', `--as=${opts.memoryBytes}`, '--',
    'timeout', '-s', 'KILL', String(opts.timeoutS),
    ...argv,
  ];
}
