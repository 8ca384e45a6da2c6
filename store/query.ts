// Ad-hoc SQL over the store: rows for people, Arrow for programs, files for everyone else.

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { tableToIPC } from 'apache-arrow';
import type { Table } from 'apache-arrow';
import { quotedString } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { readerToArrowTable } from './arrow-out.ts';
import type { QueryResult } from './types.ts';
import { toPlainValue } from './values.ts';

export type QueryParams = readonly DuckDBValue[] | Readonly<Record<string, DuckDBValue>>;

function bound(params?: QueryParams): DuckDBValue[] | Record<string, DuckDBValue> | undefined {
  if (params === undefined) return undefined;
  return Array.isArray(params) ? [...params] : { ...(params as Record<string, DuckDBValue>) };
}

export async function runQuery(conn: DuckDBConnection, sql: string, params?: QueryParams): Promise<QueryResult> {
  const reader = await conn.runAndReadAll(sql, bound(params));
  const types = reader.columnTypes();
  return {
    columns: reader.columnNames().map((name, i) => ({ name, type: types[i]!.toString() })),
    rows: reader.getRowsJS().map((row) => row.map(toPlainValue)),
  };
}

export async function runQueryArrow(conn: DuckDBConnection, sql: string, params?: QueryParams): Promise<Table> {
  return readerToArrowTable(await conn.runAndReadAll(sql, bound(params)));
}

export type ResultFileFormat = 'parquet' | 'csv' | 'arrow' | 'arrows';

/** .arrow is the Arrow IPC file format; .arrows the IPC stream format. */
const formatByExtension: Record<string, ResultFileFormat> = {
  '.parquet': 'parquet',
  '.csv': 'csv',
  '.arrow': 'arrow',
  '.arrows': 'arrows',
};

/** Writes a query's result to a file whose extension picks the format. Returns the format and row count. */
export async function writeQueryResult(
  conn: DuckDBConnection,
  sql: string,
  outPath: string,
): Promise<{ path: string; format: ResultFileFormat; rows: number }> {
  const path = resolve(outPath);
  const format = formatByExtension[extname(path).toLowerCase()];
  if (!format) {
    throw new Error(`cannot tell the output format of ${outPath}: use .parquet, .csv, .arrow (IPC file) or .arrows (IPC stream)`);
  }
  await mkdir(dirname(path), { recursive: true });
  if (format === 'arrow' || format === 'arrows') {
    const table = await runQueryArrow(conn, sql);
    await writeFile(path, tableToIPC(table, format === 'arrow' ? 'file' : 'stream'));
    return { path, format, rows: table.numRows };
  }
  const options = format === 'parquet' ? 'FORMAT parquet, COMPRESSION zstd' : 'FORMAT csv, HEADER true';
  const select = sql.trim().replace(/;+\s*$/, '');
  const result = await conn.run(`COPY (${select}) TO ${quotedString(path)} (${options})`);
  return { path, format, rows: result.rowsChanged };
}
