import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Field, Float64, Int64, List, Table, TimestampMicrosecond, Utf8, tableFromIPC, vectorFromArray } from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../store/index.ts';
import type { Store } from '../../store/index.ts';
import { makeTempDir, sampleIngestResult } from './fixtures.ts';

let dir: string;
let store: Store;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  store = await openStore(join(dir, 'store.duckdb'));
});
afterEach(async () => {
  await store.close();
  await cleanup();
});

/** Rows as comparable plain values: Arrow lists spread into arrays. */
const plainRows = (table: Table) =>
  table.toArray().map((row) =>
    Object.fromEntries(
      Object.entries(row.toJSON()).map(([k, v]) => [k, v !== null && typeof v === 'object' && Symbol.iterator in v ? [...(v as Iterable<unknown>)] : v]),
    ),
  );
const typesOf = (table: Table) => Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));

describe('queryArrow', () => {
  it('maps DuckDB types to matching Arrow types and keeps the values', async () => {
    const table = await store.queryArrow(`
      SELECT * FROM (VALUES
        (1::INTEGER, 2::BIGINT, 1.5::DOUBLE, 'a', ['x', 'y'], TIMESTAMPTZ '2025-01-02 03:04:05.678+00', true, DATE '2025-01-02', 7::HUGEINT, INTERVAL 2 DAYS),
        (NULL, NULL, NULL, NULL, []::VARCHAR[], NULL, false, NULL, NULL, NULL)
      ) t(i, b, d, s, l, ts, ok, day, h, iv)`);
    expect(typesOf(table)).toEqual({
      i: 'Int32',
      b: 'Int64',
      d: 'Float64',
      s: 'Utf8',
      l: 'List<Utf8>',
      ts: 'Timestamp<MICROSECOND, UTC>',
      ok: 'Bool',
      day: 'Date32<DAY>',
      h: 'Int64',
      iv: 'Utf8',
    });
    const [first, second] = table.toArray().map((row) => row.toJSON());
    expect(first).toMatchObject({ i: 1, b: 2n, d: 1.5, s: 'a', ts: Date.parse('2025-01-02T03:04:05.678Z'), ok: true, h: 7n });
    expect([...first!.l]).toEqual(['x', 'y']);
    expect(first!.day).toBe(Date.parse('2025-01-02T00:00:00Z'));
    expect(JSON.parse(first!.iv as string)).toMatchObject({ months: 0, days: 2 });
    expect(second).toMatchObject({ i: null, b: null, d: null, s: null, ts: null, ok: false, h: null });
    expect([...second!.l]).toEqual([]);
  });

  it('reads store tables with list columns', async () => {
    await store.saveDataset(sampleIngestResult());
    const table = await store.queryArrow('SELECT sha256, source_paths, label, bytes FROM images ORDER BY idx');
    expect(typesOf(table)).toMatchObject({ source_paths: 'List<Utf8>', label: 'Utf8', bytes: 'Int64' });
    expect(table.getChild('label')!.toArray()).toEqual(['polyps', null, 'ulcerative-colitis']);
  });

  it('refuses a HUGEINT that does not fit 64 bits', async () => {
    await expect(store.queryArrow('SELECT (2::HUGEINT ** 70)::HUGEINT AS big')).rejects.toThrow(/CAST/);
  });
});

describe('insertArrow', () => {
  it('appends Arrow rows into a store table and reads them back through Arrow', async () => {
    const at = new Date('2025-05-05T05:05:05.500Z');
    const input = new Table({
      run_id: vectorFromArray(['r', 'r', 'r'], new Utf8()),
      step: vectorFromArray([0n, 1n, 2n], new Int64()),
      name: vectorFromArray(['loss', 'loss', 'loss'], new Utf8()),
      value: vectorFromArray([3, 2.5, null], new Float64()),
      recorded_at: vectorFromArray([at, at, at].map((d) => d.getTime()), new TimestampMicrosecond('UTC')),
    });
    expect(await store.insertArrow(input, 'metrics')).toBe(3);
    const back = await store.queryArrow('SELECT run_id, step, name, value, recorded_at FROM metrics ORDER BY step');
    expect(back.toArray().map((r) => r.toJSON())).toEqual(input.toArray().map((r) => r.toJSON()));
    expect((await store.query(`SELECT DISTINCT category FROM metrics`)).rows).toEqual([['']]);
  });

  it('round-trips list columns, and applies the conflict rule asked for', async () => {
    await store.saveDataset(sampleIngestResult());
    const images = await store.queryArrow('SELECT * FROM images ORDER BY idx');
    await expect(store.insertArrow(images, 'images')).rejects.toThrow(/[Cc]onstraint|[Dd]uplicate/);
    expect(await store.insertArrow(images, 'images', { onConflict: 'ignore' })).toBe(0);
    expect(await store.insertArrow(images, 'images', { onConflict: 'replace' })).toBe(3);
    expect((await store.query('SELECT count(*) FROM images')).rows).toEqual([[3]]);
    await store.query('DELETE FROM images');
    expect(await store.insertArrow(images, 'images')).toBe(3);
    const again = await store.queryArrow('SELECT * FROM images ORDER BY idx');
    expect(plainRows(again)).toEqual(plainRows(images));
  });

  it('names unknown tables and columns', async () => {
    const t = new Table({ nope: vectorFromArray(['x'], new Utf8()) });
    await expect(store.insertArrow(t, 'no_such_table')).rejects.toThrow(/no table "no_such_table"/);
    await expect(store.insertArrow(t, 'runs')).rejects.toThrow(/no column\(s\) nope/);
    const list = new Table({ run_id: vectorFromArray(['r'], new Utf8()), tags: vectorFromArray([['a']], new List(new Field('item', new Utf8(), true))) });
    await expect(store.insertArrow(list, 'runs')).rejects.toThrow(/tags/);
    const text = new Table({ run_id: vectorFromArray(['r'], new Utf8()), started_at: vectorFromArray(['2025-01-01'], new Utf8()) });
    await expect(store.insertArrow(text, 'runs')).rejects.toThrow(/Arrow column started_at \(Arrow Utf8\)/);
  });
});

describe('writeQueryResult', () => {
  const sql = `SELECT sha256, label, labels, bytes FROM images ORDER BY idx;`;

  beforeEach(() => store.saveDataset(sampleIngestResult()));

  it('writes Parquet and CSV through DuckDB COPY', async () => {
    const expected = (await store.query(sql)).rows;
    const parquet = join(dir, 'out', 'q.parquet');
    expect(await store.writeQueryResult(sql, parquet)).toMatchObject({ format: 'parquet', rows: 3 });
    expect((await store.query('SELECT * FROM read_parquet($1)', [parquet])).rows).toEqual(expected);

    const csv = join(dir, 'out', 'q.csv');
    expect(await store.writeQueryResult(sql, csv)).toMatchObject({ format: 'csv', rows: 3 });
    const text = await readFile(csv, 'utf8');
    expect(text.split('\n')[0]).toBe('sha256,label,labels,bytes');
    const back = await store.query(`SELECT sha256, label, bytes FROM read_csv($1)`, [csv]);
    expect(back.rows).toEqual(expected.map((r) => [r[0], r[1], r[3]]));
  });

  it('writes Arrow IPC files (.arrow) and streams (.arrows)', async () => {
    const expected = plainRows(await store.queryArrow(sql));
    for (const [name, format] of [['q.arrow', 'arrow'], ['q.arrows', 'arrows']] as const) {
      const file = join(dir, name);
      expect(await store.writeQueryResult(sql, file)).toMatchObject({ format, rows: 3 });
      const bytes = await readFile(file);
      // The IPC file format starts with the magic "ARROW1"; the stream format does not.
      expect(bytes.subarray(0, 6).toString() === 'ARROW1').toBe(format === 'arrow');
      const table = tableFromIPC(bytes);
      expect(plainRows(table)).toEqual(expected);
      expect(String(table.schema.fields[2]!.type)).toBe('List<Utf8>');
    }
  });

  it('refuses an extension it cannot map to a format', async () => {
    await expect(store.writeQueryResult(sql, join(dir, 'q.xlsx'))).rejects.toThrow(/\.parquet, \.csv, \.arrow/);
  });
});
