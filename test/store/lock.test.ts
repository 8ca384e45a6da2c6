// Another process holding the store read-write: readers retry, then fail naming the holder.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../errors.ts';
import { StoreLockedError, openStore, withStore } from '../../store/index.ts';
import { makeTempDir } from './fixtures.ts';

const storeModule = pathToFileURL(resolve(import.meta.dirname, '../../store/index.ts')).href;

/** A child process that opens the store read-write, says "ready", and closes it when told "release". */
function holdStore(path: string): Promise<{ child: ChildProcess; release: () => Promise<void> }> {
  const script = `
    import(${JSON.stringify(storeModule)}).then(async ({ openStore }) => {
      const store = await openStore(${JSON.stringify(path)});
      await store.upsertRun({ run_id: 'held' });
      process.stdout.write('ready\\n');
      process.stdin.on('data', async () => { await store.close(); process.stdout.write('released\\n'); process.exit(0); });
    });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const said = (word: string) =>
    new Promise<void>((done, fail) => {
      child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes(word) && done());
      child.on('exit', (code) => fail(new Error(`holder exited (${code}) before saying ${word}`)));
    });
  const released = said('released');
  released.catch(() => undefined);
  return said('ready').then(() => ({
    child,
    release: async () => {
      child.stdin!.write('release\n');
      await released;
    },
  }));
}

let dir: string;
let cleanup: () => Promise<void>;
let holder: ChildProcess | undefined;
beforeEach(async () => ({ dir, cleanup } = await makeTempDir()));
afterEach(async () => {
  holder?.kill();
  await cleanup();
});

describe('a store held by another process', () => {
  it('fails a read-only open after retrying, naming the process that holds it', async () => {
    const path = join(dir, 'store.duckdb');
    const held = await holdStore(path);
    holder = held.child;
    const started = Date.now();
    const error = await openStore(path, { readOnly: true, lockWaitMs: 400 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(error).toBeInstanceOf(StoreLockedError);
    expect(error).toMatchObject({ holderPid: held.child.pid, path });
    expect((error as Error).message).toContain(`locked by process ${held.child.pid}`);
    await expect(openStore(path, { lockWaitMs: 0 })).rejects.toThrow(StoreLockedError);

    await held.release();
    const rows = await withStore(path, async (s) => (await s.query('SELECT run_id FROM runs')).rows, { readOnly: true });
    expect(rows).toEqual([['held']]);
  }, 30_000);

  it('succeeds when the holder lets go while it is retrying', async () => {
    const path = join(dir, 'store.duckdb');
    const held = await holdStore(path);
    holder = held.child;
    setTimeout(() => void held.release(), 300);
    await withStore(path, (s) => s.upsertRun({ run_id: 'after' }), { lockWaitMs: 10_000 });
    const rows = await withStore(path, async (s) => (await s.query('SELECT run_id FROM runs ORDER BY 1')).rows);
    expect(rows).toEqual([['after'], ['held']]);
  }, 30_000);

  it('medsynth query on a locked store: one line naming the holder, exit 1, no stack trace; it is a user error an activity retries', async () => {
    const path = join(dir, 'medsynth.duckdb');
    const held = await holdStore(path);
    holder = held.child;
    const cli = resolve(import.meta.dirname, '../../bin/medsynth.mjs');
    const out = await execa('node', [cli, 'query', 'select 1'], { env: { ...process.env, MEDSYNTH_HOME: dir, MEDSYNTH_DUCKDB: '' }, reject: false });
    expect(out.exitCode).toBe(1);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stderr).toMatch(new RegExp(`^error: the medsynth store ${path} is locked by process ${held.child.pid}`));
    const error = await openStore(path, { readOnly: true, lockWaitMs: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).retryable).toBe(true);
  }, 30_000);
});
