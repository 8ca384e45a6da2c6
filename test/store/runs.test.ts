import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ParamConflictError, openStore } from '../../store/index.ts';
import type { Store } from '../../store/index.ts';
import { makeTempDir } from './fixtures.ts';

let store: Store;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  const temp = await makeTempDir();
  cleanup = temp.cleanup;
  store = await openStore(join(temp.dir, 'store.duckdb'));
});
afterEach(async () => {
  await store.close();
  await cleanup();
});

const count = async (sql: string) => (await store.query(sql)).rows[0]![0];

describe('runs', () => {
  it('upserts partial rows, updating only the columns given', async () => {
    const started = new Date('2025-03-01T10:00:00.123Z');
    await store.upsertRun({ run_id: 'wf-1', experiment: 'lora-sweep', status: 'RUNNING', started_at: started, git_commit: 'abc' });
    await store.upsertRun({ run_id: 'wf-1', mlflow_run_id: 'ml-9', git_commit: null });
    const run = await store.getRun('wf-1');
    expect(run).toMatchObject({
      run_id: 'wf-1',
      temporal_workflow_id: 'wf-1',
      experiment: 'lora-sweep',
      status: 'RUNNING',
      mlflow_run_id: 'ml-9',
      git_commit: null,
      ended_at: null,
    });
    expect(run!.started_at!.toISOString()).toBe(started.toISOString());
    expect(await count('SELECT count(*) FROM runs')).toBe(1);
  });

  it('sets the status, end time and error, and is idempotent', async () => {
    await store.upsertRun({ run_id: 'wf-2', status: 'RUNNING' });
    const ended = new Date('2025-03-01T11:00:00Z');
    for (let i = 0; i < 2; i++) await store.setRunStatus('wf-2', 'FAILED', { endedAt: ended, error: 'OOM' });
    expect(await store.getRun('wf-2')).toMatchObject({ status: 'FAILED', ended_at: ended, error: 'OOM' });
    await store.setRunStatus('wf-2', 'RETRYING');
    expect(await store.getRun('wf-2')).toMatchObject({ status: 'RETRYING', ended_at: ended, error: 'OOM' });
    expect(await store.getRun('nope')).toBeNull();
  });
});

describe('params', () => {
  it('accepts the same params twice without duplicating', async () => {
    await store.logParams('r', { lr: '1e-4', rank: '8' });
    await store.logParams('r', { lr: '1e-4', rank: '8', steps: '100' });
    expect(await store.getParams('r')).toEqual({ lr: '1e-4', rank: '8', steps: '100' });
    expect(await count('SELECT count(*) FROM params')).toBe(3);
  });

  it('throws ParamConflictError naming the key and both values, and writes nothing of that batch', async () => {
    await store.logParams('r', { lr: '1e-4' });
    const error = await store.logParams('r', { steps: '5', lr: '2e-4' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParamConflictError);
    expect(error).toMatchObject({ key: 'lr', existing: '1e-4', attempted: '2e-4' });
    expect((error as Error).message).toMatch(/"lr".*"1e-4".*"2e-4"/);
    expect(await store.getParams('r')).toEqual({ lr: '1e-4' });
    // The store still works after the rolled-back transaction.
    await store.logParams('r', { steps: '5' });
    expect(await store.getParams('r')).toEqual({ lr: '1e-4', steps: '5' });
  });
});

describe('metrics', () => {
  it('logging the same points twice leaves one row per (name, step, category)', async () => {
    const points = [
      { name: 'loss', step: 0, value: 1.5 },
      { name: 'loss', step: 1, value: 1.25 },
      { name: 'fid', step: 100, value: 80.5, category: 'polyps' },
      { name: 'fid', step: 100, value: 90.5, category: 'z-line' },
      { name: 'fid', step: 100, value: 85 },
    ];
    await store.logMetrics('r', points);
    await store.logMetrics('r', points);
    expect(await count('SELECT count(*) FROM metrics')).toBe(5);
  });

  it('overwrites the value of a key logged again, also within one batch', async () => {
    await store.logMetrics('r', [{ name: 'loss', step: 3, value: 2 }]);
    await store.logMetrics('r', [
      { name: 'loss', step: 3, value: 1 },
      { name: 'loss', step: 3, value: 0.5 },
    ]);
    expect(await store.getMetrics('r', 'loss')).toEqual([{ name: 'loss', step: 3, value: 0.5, category: '' }]);
  });

  it('keeps runs apart and rejects malformed points', async () => {
    await store.logMetrics('a', [{ name: 'loss', step: 0, value: 1 }]);
    await store.logMetrics('b', [{ name: 'loss', step: 0, value: 2 }]);
    expect((await store.getMetrics('b')).map((m) => m.value)).toEqual([2]);
    await expect(store.logMetrics('a', [{ name: 'loss', step: 0.5, value: 1 }])).rejects.toThrow(/step/);
    await store.logMetrics('a', []);
  });
});

describe('artifacts and dataset links', () => {
  it('records an artifact once per (run, path), keeping the latest', async () => {
    const artifact = { run_id: 'r', path: 'dataset/manifest.parquet', sha256: 'x', kind: 'manifest', bytes: 10, uri: 'runs:/ml/dataset/manifest.parquet' };
    await store.recordArtifact(artifact);
    await store.recordArtifact({ ...artifact, sha256: 'y', local_path: '/tmp/m.parquet' });
    expect((await store.query('SELECT path, sha256, bytes, uri, local_path FROM artifacts')).rows).toEqual([
      ['dataset/manifest.parquet', 'y', 10, 'runs:/ml/dataset/manifest.parquet', '/tmp/m.parquet'],
    ]);
  });

  it('links a run to a dataset idempotently', async () => {
    await store.linkRunDataset('r', 'hash');
    await store.linkRunDataset('r', 'hash');
    await store.linkRunDataset('r', 'hash', 'reference');
    expect((await store.query('SELECT manifest_hash, role FROM run_datasets ORDER BY role')).rows).toEqual([
      ['hash', ''],
      ['hash', 'reference'],
    ]);
  });
});

describe('generated images', () => {
  it('saving the same images twice keeps one row each', async () => {
    const images = [
      { sha256: 'a'.repeat(64), path: '/x/a.png', prompt: 'a polyp', seed: 0, provenance: '{"seed":0}' },
      { sha256: 'b'.repeat(64), path: '/x/b.png', prompt: 'a polyp', seed: 1, provenance: '{"seed":1}' },
    ];
    await store.saveGeneratedImages('run-1', images);
    await store.saveGeneratedImages('run-1', images);
    expect((await store.query('select count(*), sum(seed) from generated_images')).rows).toEqual([[2, 1]]);
  });
});
