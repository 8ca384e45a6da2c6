// One DuckDB instance per database file per process, shared and reference-counted.
// DuckDB's file lock only keeps *other* processes out: a second instance on the same file inside this
// process would open without complaint and the two would corrupt each other's writes.

import { DuckDBInstance } from '@duckdb/node-api';

interface Entry {
  readOnly: boolean;
  refs: number;
  ready: Promise<DuckDBInstance>;
}

const entries = new Map<string, Entry>();

/** Thrown when a read-write open meets a read-only instance this process already holds. */
export class HeldReadOnlyHereError extends Error {
  constructor(path: string) {
    super(`Conflicting lock: ${path} is open read-only in this process (PID ${process.pid})`);
    this.name = 'HeldReadOnlyHereError';
  }
}

/**
 * Returns the shared instance for `path`, creating it (and running `init` once on it) when none is held.
 * A read-only request may share a read-write instance; the reverse is refused until the readers release.
 */
export async function acquireInstance(
  path: string,
  readOnly: boolean,
  init: (instance: DuckDBInstance) => Promise<void>,
): Promise<DuckDBInstance> {
  const held = entries.get(path);
  if (held) {
    if (held.readOnly && !readOnly) throw new HeldReadOnlyHereError(path);
    held.refs++;
    try {
      return await held.ready;
    } catch (error) {
      held.refs--;
      throw error;
    }
  }
  const entry: Entry = { readOnly, refs: 1, ready: createInstance(path, readOnly, init) };
  entries.set(path, entry);
  try {
    return await entry.ready;
  } catch (error) {
    if (entries.get(path) === entry) entries.delete(path);
    throw error;
  }
}

async function createInstance(
  path: string,
  readOnly: boolean,
  init: (instance: DuckDBInstance) => Promise<void>,
): Promise<DuckDBInstance> {
  const instance = await DuckDBInstance.create(path, readOnly ? { access_mode: 'READ_ONLY' } : {});
  try {
    await init(instance);
  } catch (error) {
    instance.closeSync();
    throw error;
  }
  return instance;
}

/** Drops one reference; the last one closes the instance, which releases the file lock. */
export async function releaseInstance(path: string): Promise<void> {
  const entry = entries.get(path);
  if (!entry) return;
  entry.refs--;
  if (entry.refs > 0) return;
  entries.delete(path);
  const instance = await entry.ready;
  instance.closeSync();
}
