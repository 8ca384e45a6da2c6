import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreMissingError, defaultStorePath, openStore, schemaVersion, withStore } from '../../store/index.ts';
import { makeTempDir } from './fixtures.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await makeTempDir()));
afterEach(() => cleanup());

const tables = ['artifacts', 'datasets', 'generated_images', 'images', 'metrics', 'params', 'prompt_sets', 'rejects', 'run_datasets', 'runs', 'schema_version', 'sweeps', 'trials'];

describe('opening the store', () => {
  it('creates the file and its parent folders, with every table', async () => {
    const path = join(dir, 'nested', 'deeper', 'store.duckdb');
    await withStore(path, async (store) => {
      const result = await store.query(`SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1`);
      expect(result.rows.map((r) => r[0])).toEqual(tables);
    });
    expect(existsSync(path)).toBe(true);
  });

  it('applies the schema idempotently: opening twice keeps data and one version row', async () => {
    const path = join(dir, 'store.duckdb');
    await withStore(path, (store) => store.upsertRun({ run_id: 'r1', status: 'RUNNING' }));
    await withStore(path, async (store) => {
      expect((await store.query('SELECT version FROM schema_version')).rows).toEqual([[schemaVersion]]);
      expect((await store.query('SELECT run_id, status FROM runs')).rows).toEqual([['r1', 'RUNNING']]);
    });
  });

  it('shares one instance between stores opened on the same file in one process', async () => {
    const path = join(dir, 'store.duckdb');
    const [a, b] = await Promise.all([openStore(path), openStore(path)]);
    await a.upsertRun({ run_id: 'from-a' });
    expect((await b.query('SELECT run_id FROM runs')).rows).toEqual([['from-a']]);
    await a.close();
    await b.upsertRun({ run_id: 'from-b' });
    await b.close();
    await withStore(path, async (s) => expect((await s.query('SELECT count(*) FROM runs')).rows).toEqual([[2]]), { readOnly: true });
  });

  it('refuses a read-only open of a missing file with a clear error', async () => {
    await expect(openStore(join(dir, 'absent.duckdb'), { readOnly: true })).rejects.toThrow(StoreMissingError);
  });

  it('closes the store when the work throws', async () => {
    const path = join(dir, 'store.duckdb');
    let seen: { close(): Promise<void>; query(sql: string): Promise<unknown> } | undefined;
    await expect(
      withStore(path, async (store) => {
        seen = store;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(seen!.query('SELECT 1')).rejects.toThrow(/closed/);
  });

  it('has a default path under .medsynth', () => {
    expect(defaultStorePath).toBe('.medsynth/medsynth.duckdb');
  });
});
