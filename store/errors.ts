// Errors callers may want to tell apart from DuckDB's own. The store's own conditions (locked,
// missing, too new) are the user's to fix: UserErrors, one line in the CLI.
import { UserError } from '../errors.ts';

export class ParamConflictError extends Error {
  constructor(
    readonly runId: string,
    readonly key: string,
    readonly existing: string,
    readonly attempted: string,
  ) {
    super(
      `param "${key}" of run ${runId} is already "${existing}"; refusing to change it to "${attempted}" ` +
        `(params are immutable: log a new run instead)`,
    );
    this.name = 'ParamConflictError';
  }
}

export class StoreLockedError extends UserError {
  constructor(
    readonly path: string,
    /** The process DuckDB says holds the lock, when it says so. */
    readonly holderPid: number | null,
    cause: unknown,
  ) {
    const holder = holderPid === null ? 'another process' : `process ${holderPid}`;
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(
      `the medsynth store ${path} is locked by ${holder} (DuckDB allows one writing process per file). ` +
        `Wait for it to finish, or stop it, then retry. DuckDB said: ${detail}`,
      { cause, retryable: true },
    );
    this.name = 'StoreLockedError';
  }
}

export class StoreMissingError extends UserError {
  constructor(readonly path: string) {
    super(`no medsynth store at ${path}: it is created by the first run or ingest that writes to it`);
    this.name = 'StoreMissingError';
  }
}

export class SchemaTooNewError extends UserError {
  constructor(readonly path: string, readonly found: number, readonly supported: number) {
    super(`the store ${path} has schema version ${found}; this medsynth understands up to ${supported}: upgrade medsynth`);
    this.name = 'SchemaTooNewError';
  }
}

export class UnknownDatasetError extends Error {
  constructor(readonly manifestHash: string) {
    super(`no dataset with manifest hash ${manifestHash} in the store`);
    this.name = 'UnknownDatasetError';
  }
}
