// Opening the store file: lock retries, schema, and the open-work-close pattern callers use.

import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { SchemaTooNewError, StoreLockedError, StoreMissingError } from './errors.ts';
import { HeldReadOnlyHereError, acquireInstance, releaseInstance } from './instances.ts';
import { schemaStatements, schemaVersion } from './schema.ts';
import { inTransaction } from './sql.ts';
import { Store } from './store.ts';

export const defaultStorePath = '.medsynth/medsynth.duckdb';

export interface OpenStoreOptions {
  /** Open for reading only (e.g. `medsynth query`); the file must exist. */
  readOnly?: boolean;
  /** How long to keep retrying while another process holds the file, in ms (default 5000). */
  lockWaitMs?: number;
}

export async function openStore(path: string = defaultStorePath, opts: OpenStoreOptions = {}): Promise<Store> {
  const absolute = resolve(path);
  const readOnly = opts.readOnly ?? false;
  if (readOnly && !existsSync(absolute)) throw new StoreMissingError(absolute);
  if (!readOnly) await mkdir(dirname(absolute), { recursive: true });
  const instance = await acquireWithRetry(absolute, readOnly, opts.lockWaitMs ?? 5000);
  try {
    return new Store(await instance.connect(), absolute, readOnly, () => releaseInstance(absolute));
  } catch (error) {
    await releaseInstance(absolute);
    throw error;
  }
}

/** Opens the store, runs `fn`, and closes the store even when `fn` throws. */
export async function withStore<T>(
  path: string,
  fn: (store: Store) => Promise<T>,
  opts: OpenStoreOptions = {},
): Promise<T> {
  const store = await openStore(path, opts);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function acquireWithRetry(path: string, readOnly: boolean, lockWaitMs: number): Promise<DuckDBInstance> {
  const deadline = Date.now() + lockWaitMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await acquireInstance(path, readOnly, (instance) => prepareSchema(instance, path, readOnly));
    } catch (error) {
      if (!isLockError(error)) throw error;
      const left = deadline - Date.now();
      if (left <= 0) throw new StoreLockedError(path, lockHolderPid(error), error);
      await sleep(Math.min(50 * 2 ** attempt, 1000, left));
    }
  }
}

function isLockError(error: unknown): boolean {
  if (error instanceof HeldReadOnlyHereError) return true;
  return error instanceof Error && /Could not set lock|Conflicting lock/i.test(error.message);
}

/** DuckDB says "Conflicting lock is held in /usr/bin/node (PID 1234)". */
function lockHolderPid(error: unknown): number | null {
  const match = error instanceof Error ? /\(PID (\d+)\)/.exec(error.message) : null;
  return match ? Number(match[1]) : null;
}

async function prepareSchema(instance: DuckDBInstance, path: string, readOnly: boolean): Promise<void> {
  const conn = await instance.connect();
  try {
    if (!readOnly) {
      await inTransaction(conn, async () => {
        for (const statement of schemaStatements) await conn.run(statement);
        await conn.run('INSERT INTO schema_version (version) VALUES ($1) ON CONFLICT DO NOTHING', [schemaVersion]);
      });
    }
    const found = await storedSchemaVersion(conn);
    if (found !== null && found > schemaVersion) throw new SchemaTooNewError(path, found, schemaVersion);
  } finally {
    conn.closeSync();
  }
}

async function storedSchemaVersion(conn: DuckDBConnection): Promise<number | null> {
  const exists = await conn.runAndReadAll(
    `SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'schema_version'`,
  );
  if (Number(exists.getRowsJS()[0]?.[0] ?? 0) === 0) return null;
  const reader = await conn.runAndReadAll('SELECT max(version) FROM schema_version');
  const value = reader.getRowsJS()[0]?.[0];
  return value === null || value === undefined ? null : Number(value);
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
