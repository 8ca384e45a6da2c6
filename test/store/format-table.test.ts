import { describe, expect, it } from 'vitest';
import { formatCell, formatTable } from '../../store/index.ts';
import type { QueryResult } from '../../store/index.ts';

const table = (names: string[], rows: unknown[][]): QueryResult => ({
  columns: names.map((name) => ({ name, type: 'VARCHAR' })),
  rows,
});

describe('formatCell', () => {
  it.each([
    [null, 'NULL'],
    [undefined, 'NULL'],
    [42, '42'],
    [1.5, '1.5'],
    [12345678901234567890n, '12345678901234567890'],
    [true, 'true'],
    ['text', 'text'],
    [['a', 'b'], '[a, b]'],
    [[], '[]'],
    [[['x'], null, 3n], '[[x], NULL, 3]'],
    [{ a: 1, b: ['c'] }, '{a: 1, b: [c]}'],
    [new Date('2025-01-02T03:04:05.678Z'), '2025-01-02T03:04:05.678Z'],
    [new Uint8Array(3), '<3 bytes>'],
    ['two\nlines', 'two\\nlines'],
  ])('formats %o as %s', (value, expected) => {
    expect(formatCell(value)).toBe(expected);
  });
});

describe('formatTable', () => {
  it('aligns columns, right-aligning numbers, with a row-count footer', () => {
    const out = formatTable(
      table(['name', 'value', 'labels'], [
        ['loss', 1.5, ['a', 'b']],
        ['fid', 110.25, []],
        ['kid', null, null],
      ]),
    );
    expect(out).toBe(
      [
        'name |  value | labels',
        '-----+--------+-------',
        'loss |    1.5 | [a, b]',
        'fid  | 110.25 | []',
        'kid  |   NULL | NULL',
        '(3 rows)',
      ].join('\n'),
    );
  });

  it.each([
    [[], 'c\n-\n(0 rows)'],
    [[['x']], 'c\n-\nx\n(1 row)'],
  ])('counts rows: %o', (rows, expected) => {
    expect(formatTable(table(['c'], rows))).toBe(expected);
  });

  it('cuts long cells to maxWidth with an ellipsis', () => {
    expect(formatTable(table(['c'], [['abcdefghij']]), { maxWidth: 5 })).toBe('c\n-----\nabcd…\n(1 row)');
  });

  it('shows at most maxRows and says how many there were', () => {
    const rows = Array.from({ length: 5 }, (_, i) => [i]);
    expect(formatTable(table(['i'], rows), { maxRows: 2 })).toBe('i\n-\n0\n1\n(5 rows, 2 shown)');
  });

  it('prints BigInt values as numbers', () => {
    expect(formatTable(table(['n'], [[2n ** 64n], [1n]]))).toBe(
      ['                   n', '--------------------', '18446744073709551616', '                   1', '(2 rows)'].join('\n'),
    );
  });

  it('prints only the footer for a result without columns', () => {
    expect(formatTable({ columns: [], rows: [] })).toBe('(0 rows)');
  });
});
