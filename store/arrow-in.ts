// Appending an apache-arrow Table's rows to a store table.

import { DataType } from 'apache-arrow';
import type { Table } from 'apache-arrow';
import type { DuckDBConnection } from '@duckdb/node-api';
import { writeRows } from './sql.ts';
import type { OnConflict } from './types.ts';
import { toPlainValue } from './values.ts';

/** Arrow columns are matched to table columns by name; table columns the Arrow table lacks take their defaults. */
export async function insertArrowTable(
  conn: DuckDBConnection,
  table: Table,
  tableName: string,
  onConflict: OnConflict,
): Promise<number> {
  const known = await tableColumns(conn, tableName);
  if (known.length === 0) throw new Error(`no table "${tableName}" in the store`);
  const fields = table.schema.fields;
  const unknown = fields.map((f) => f.name).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new Error(`table "${tableName}" has no column(s) ${unknown.join(', ')}; its columns: ${known.join(', ')}`);
  }
  const columns = fields.map((field, i) => {
    const vector = table.getChildAt(i)!;
    return Array.from({ length: table.numRows }, (_, row) => fromArrowValue(vector.get(row), field.type));
  });
  const rows = Array.from({ length: table.numRows }, (_, row) => columns.map((column) => column[row]));
  try {
    return await writeRows(conn, tableName, fields.map((f) => f.name), rows, onConflict);
  } catch (error) {
    throw nameFailedColumn(error, fields.map((f) => `${f.name} (Arrow ${f.type})`));
  }
}

/** DuckDB's converter says "Failed to set column 1 (TIMESTAMP ...)"; say which Arrow column that was. */
function nameFailedColumn(error: unknown, described: string[]): unknown {
  const match = error instanceof Error ? /Failed to set column (\d+)/.exec(error.message) : null;
  const column = match ? described[Number(match[1])] : undefined;
  if (!column) return error;
  return new Error(`${(error as Error).message}: cannot convert Arrow column ${column} to that type`, { cause: error });
}

async function tableColumns(conn: DuckDBConnection, tableName: string): Promise<string[]> {
  const reader = await conn.runAndReadAll(
    `SELECT column_name FROM duckdb_columns()
     WHERE database_name = current_database() AND schema_name = 'main' AND table_name = $1 ORDER BY column_index`,
    [tableName],
  );
  return reader.getRowsJS().map(([name]) => String(name));
}

/** Arrow JS gives timestamps and dates as epoch milliseconds, lists as Vectors, structs as StructRows. */
function fromArrowValue(value: unknown, type: DataType): unknown {
  if (value === null || value === undefined) return null;
  if (DataType.isTimestamp(type) || DataType.isDate(type)) {
    return value instanceof Date ? value : new Date(value as number);
  }
  if (DataType.isList(type) || DataType.isFixedSizeList(type)) {
    const itemType = type.children[0]!.type;
    return [...(value as Iterable<unknown>)].map((item) => fromArrowValue(item, itemType));
  }
  if (DataType.isStruct(type)) {
    const entries = (value as { toJSON(): Record<string, unknown> }).toJSON();
    return Object.fromEntries(type.children.map((f) => [f.name, fromArrowValue(entries[f.name], f.type)]));
  }
  return toPlainValue(value);
}
