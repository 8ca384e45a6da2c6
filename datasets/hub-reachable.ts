// Before anything reads the Hugging Face hub through DuckDB: can this machine reach the hub, does
// the hub know the dataset, and can DuckDB load its httpfs extension (installing it if need be)?
// The checks share one deadline, so an unreachable network costs seconds rather than DuckDB's
// own retries, and each failure is one UserError naming what was tried and why it failed.
import type { DuckDBConnection } from '@duckdb/node-api';
import { UserError } from '../errors.ts';
import { firstLine } from './adapters/parquet-source.ts';

export const HUB_ENDPOINT = 'https://huggingface.co';
const DEFAULT_EXTENSION_REPOSITORY = 'http://extensions.duckdb.org';

export interface HubCheck {
  /** Epoch milliseconds after which no check waits any more. */
  deadline: number;
  /** Base URL of the hub's API; tests point it at a local server. */
  endpoint?: string;
}

/** Resolves when the hub answers that `hub` (owner/name) is a dataset it serves. */
export async function checkHubDataset(hub: string, check: HubCheck): Promise<void> {
  const url = `${check.endpoint ?? HUB_ENDPOINT}/api/datasets/${hub}`;
  const status = await answerStatus(url, 'GET', check.deadline);
  if (status === 404 || status === 401) throw new UserError(`the Hugging Face hub has no public dataset "${hub}" (${url} answered ${status})`);
  if (status >= 400) throw new UserError(`the Hugging Face hub answered ${status} for ${url}`);
}

/** Loads DuckDB's httpfs extension on `db`, downloading it first when this machine lacks it. */
export async function loadHttpfs(db: DuckDBConnection, check: HubCheck): Promise<void> {
  const [state] = (await db.runAndReadAll(`SELECT installed, loaded FROM duckdb_extensions() WHERE extension_name = 'httpfs'`)).getRowObjectsJS();
  if (state?.loaded) return;
  if (!state?.installed) {
    const url = await extensionUrl(db, 'httpfs');
    const status = await answerStatus(url, 'HEAD', check.deadline);
    if (status >= 400) throw new UserError(`cannot download DuckDB's httpfs extension: ${url} answered ${status}`);
    await run(db, 'INSTALL httpfs', "cannot install DuckDB's httpfs extension");
  }
  await run(db, 'LOAD httpfs', "cannot load DuckDB's httpfs extension");
}

/** Where INSTALL fetches an extension from: the configured repository, version and platform. */
async function extensionUrl(db: DuckDBConnection, name: string): Promise<string> {
  const [row] = (
    await db.runAndReadAll(
      `SELECT current_setting('custom_extension_repository') AS repository, (SELECT library_version FROM pragma_version()) AS version,
              (SELECT platform FROM pragma_platform()) AS platform`,
    )
  ).getRowObjectsJS();
  const repository = String(row!.repository || DEFAULT_EXTENSION_REPOSITORY).replace(/\/+$/, '');
  return `${repository}/${String(row!.version)}/${String(row!.platform)}/${name}.duckdb_extension.gz`;
}

async function answerStatus(url: string, method: 'GET' | 'HEAD', deadline: number): Promise<number> {
  const waitMs = Math.max(1, deadline - Date.now());
  try {
    const response = await fetch(url, { method, signal: AbortSignal.timeout(waitMs) });
    await response.body?.cancel();
    return response.status;
  } catch (error) {
    throw new UserError(`cannot reach ${url} (${unreachableReason(error, waitMs)})`);
  }
}

function unreachableReason(error: unknown, waitMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${(waitMs / 1000).toFixed(1)} s`;
  }
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.message ?? cause?.code ?? firstLine(error);
}

async function run(db: DuckDBConnection, sql: string, what: string): Promise<void> {
  try {
    await db.run(sql);
  } catch (error) {
    throw new UserError(`${what} (${firstLine(error)})`);
  }
}
