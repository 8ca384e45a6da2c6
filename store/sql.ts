// Small helpers over a DuckDB connection: transactions and Appender-speed bulk writes.

import { DuckDBDataChunkWriter, JSToDuckDBValueConverter, quotedIdentifier } from '@duckdb/node-api';
import type { DuckDBConnection, JS } from '@duckdb/node-api';
import type { OnConflict } from './types.ts';

export async function inTransaction<T>(conn: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
  await conn.run('BEGIN TRANSACTION');
  try {
    const result = await fn();
    await conn.run('COMMIT');
    return result;
  } catch (error) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Appends rows of plain JS values, in the table's column order, through DuckDB's Appender. */
export async function appendRows(
  conn: DuckDBConnection,
  table: string,
  rows: readonly (readonly unknown[])[],
  schema?: string,
  catalog?: string,
): Promise<void> {
  const appender = await conn.createAppender(table, schema, catalog);
  try {
    const writer = DuckDBDataChunkWriter.forAppender(appender, { converter: JSToDuckDBValueConverter });
    for (const row of rows) writer.appendRow(row as readonly (JS | null)[]);
    writer.flush();
  } catch (error) {
    appender.clear();
    throw error;
  } finally {
    appender.closeSync();
  }
}

const insertVerb: Record<OnConflict, string> = {
  error: 'INSERT',
  replace: 'INSERT OR REPLACE',
  ignore: 'INSERT OR IGNORE',
};

/**
 * Writes rows into `main.<table>` for the named columns (others take their defaults). The Appender cannot
 * resolve conflicts, so rows go to a temp table typed like the target first, then one INSERT ... SELECT
 * applies the conflict rule. Rows must not repeat a key among themselves: DuckDB rejects that in one statement.
 */
export async function writeRows(
  conn: DuckDBConnection,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
  onConflict: OnConflict,
): Promise<number> {
  if (rows.length === 0) return 0;
  const target = `main.${quotedIdentifier(table)}`;
  const stage = `temp.main.${quotedIdentifier(`_stage_${table}`)}`;
  const cols = columns.map(quotedIdentifier).join(', ');
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${quotedIdentifier(`_stage_${table}`)} AS SELECT ${cols} FROM ${target} LIMIT 0`);
  try {
    await appendRows(conn, `_stage_${table}`, rows, 'main', 'temp');
    const result = await conn.run(`${insertVerb[onConflict]} INTO ${target} (${cols}) SELECT ${cols} FROM ${stage}`);
    return result.rowsChanged;
  } finally {
    // Fails only inside an aborted transaction, whose rollback drops the table anyway.
    await conn.run(`DROP TABLE IF EXISTS ${stage}`).catch(() => undefined);
  }
}
