// DuckDB results as apache-arrow Tables, with Arrow types that match the DuckDB column types.

import {
  Binary, Bool, DateDay, Field, Float32, Float64, Int16, Int32, Int64, Int8, List, Struct, Table,
  TimestampMicrosecond, Uint16, Uint32, Uint64, Uint8, Utf8, vectorFromArray,
} from 'apache-arrow';
import type { DataType, Vector } from 'apache-arrow';
import { DuckDBTypeId } from '@duckdb/node-api';
import type { DuckDBResultReader, DuckDBType } from '@duckdb/node-api';

/** Arrow's type for a DuckDB type. Types Arrow JS lacks (INTERVAL, TIME, MAP, UNION ...) become Utf8 text. */
export function arrowTypeFor(type: DuckDBType): DataType {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN: return new Bool();
    case DuckDBTypeId.TINYINT: return new Int8();
    case DuckDBTypeId.SMALLINT: return new Int16();
    case DuckDBTypeId.INTEGER: return new Int32();
    case DuckDBTypeId.BIGINT: return new Int64();
    // sum() over BIGINT gives HUGEINT; its values are checked to fit 64 bits (see toArrowValue).
    case DuckDBTypeId.HUGEINT: return new Int64();
    case DuckDBTypeId.UTINYINT: return new Uint8();
    case DuckDBTypeId.USMALLINT: return new Uint16();
    case DuckDBTypeId.UINTEGER: return new Uint32();
    case DuckDBTypeId.UBIGINT: return new Uint64();
    case DuckDBTypeId.UHUGEINT: return new Uint64();
    case DuckDBTypeId.FLOAT: return new Float32();
    case DuckDBTypeId.DOUBLE: return new Float64();
    case DuckDBTypeId.DECIMAL: return new Float64();
    case DuckDBTypeId.VARCHAR: return new Utf8();
    case DuckDBTypeId.ENUM: return new Utf8();
    case DuckDBTypeId.UUID: return new Utf8();
    case DuckDBTypeId.BLOB: return new Binary();
    case DuckDBTypeId.DATE: return new DateDay();
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return new TimestampMicrosecond();
    case DuckDBTypeId.TIMESTAMP_TZ: return new TimestampMicrosecond('UTC');
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return new List(new Field('item', arrowTypeFor(type.valueType), true));
    case DuckDBTypeId.STRUCT:
      return new Struct(type.entryNames.map((name, i) => new Field(name, arrowTypeFor(type.entryTypes[i]!), true)));
    default:
      return new Utf8();
  }
}

const int64Range = { min: -(2n ** 63n), max: 2n ** 63n - 1n };
const uint64Range = { min: 0n, max: 2n ** 64n - 1n };

/** A value as read by DuckDB's JS converter, shaped for the Arrow builder of arrowTypeFor(type). */
function toArrowValue(value: unknown, type: DuckDBType): unknown {
  if (value === null || value === undefined) return null;
  switch (type.typeId) {
    case DuckDBTypeId.HUGEINT:
      return checkRange(value as bigint, int64Range, 'HUGEINT');
    case DuckDBTypeId.UHUGEINT:
      return checkRange(value as bigint, uint64Range, 'UHUGEINT');
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return (value as unknown[]).map((item) => toArrowValue(item, type.valueType));
    case DuckDBTypeId.STRUCT: {
      const entries = value as Record<string, unknown>;
      return Object.fromEntries(type.entryNames.map((name, i) => [name, toArrowValue(entries[name], type.entryTypes[i]!)]));
    }
    default:
      return textFallback(type) ? asText(value) : value;
  }
}

/** True for the types arrowTypeFor turns into Utf8 text for want of an Arrow JS equivalent. */
function textFallback(type: DuckDBType): boolean {
  const textual = type.typeId === DuckDBTypeId.VARCHAR || type.typeId === DuckDBTypeId.ENUM || type.typeId === DuckDBTypeId.UUID;
  return !textual && arrowTypeFor(type) instanceof Utf8;
}

function checkRange(value: bigint, range: { min: bigint; max: bigint }, typeName: string): bigint {
  if (value < range.min || value > range.max) {
    throw new RangeError(`${typeName} value ${value} does not fit Arrow's 64-bit integers: CAST it to DOUBLE or VARCHAR in the query`);
  }
  return value;
}

function asText(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

export function readerToArrowTable(reader: DuckDBResultReader): Table {
  const names = reader.deduplicatedColumnNames();
  const types = reader.columnTypes();
  const columns = reader.getColumnsJS();
  const vectors: Record<string, Vector> = {};
  names.forEach((name, i) => {
    const type = types[i]!;
    const values = (columns[i] ?? []).map((value) => toArrowValue(value, type));
    vectors[name] = vectorFromArray(values, arrowTypeFor(type));
  });
  return new Table(vectors);
}
