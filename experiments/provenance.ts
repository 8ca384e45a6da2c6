// What pins the code that runs an experiment: the git commit and the lockfiles' hashes.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Provenance } from '../workflows/messages.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');

async function gitCommit(): Promise<string | null> {
  try {
    const run = (args: string[]) => promisify(execFile)('git', args, { cwd: projectRoot });
    const { stdout } = await run(['rev-parse', 'HEAD']);
    const dirty = (await run(['status', '--porcelain', '--untracked-files=no'])).stdout.trim() !== '';
    return stdout.trim() + (dirty ? '-dirty' : '');
  } catch {
    return null; // not a git checkout (an unpacked release)
  }
}

async function lockfileHashes(): Promise<Record<string, string>> {
  const requirements = (await readdir(path.join(projectRoot, 'requirements')).catch(() => []))
    .filter((f) => f.endsWith('.txt'))
    .map((f) => `requirements/${f}`);
  const hashes: Record<string, string> = {};
  for (const file of ['package-lock.json', ...requirements.sort()]) {
    const bytes = await readFile(path.join(projectRoot, file)).catch(() => null);
    if (bytes) hashes[file.replace(/[^\w.-]/g, '_')] = createHash('sha256').update(bytes).digest('hex');
  }
  return hashes;
}

export async function collectProvenance(specPath: string | null): Promise<Provenance> {
  const pkg = JSON.parse(await readFile(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string };
  return {
    gitCommit: await gitCommit(),
    lockfileHashes: await lockfileHashes(),
    specPath: specPath ? path.resolve(specPath) : null,
    medsynthVersion: pkg.version,
  };
}
