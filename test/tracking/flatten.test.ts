import { describe, expect, it } from 'vitest';
import { flattenParams, paramValueLimit } from '../../tracking/flatten.ts';

const long = 'x'.repeat(paramValueLimit + 10);

describe('flattenParams', () => {
  it.each([
    { name: 'nested keys are dotted', input: { method: { rank: 16, kind: 'lora' } }, expected: { 'method.rank': '16', 'method.kind': 'lora' } },
    { name: 'deep nesting', input: { a: { b: { c: 1.5 } } }, expected: { 'a.b.c': '1.5' } },
    { name: 'arrays are JSON', input: { sweep: { lr: [1e-4, 5e-5] }, tags: ['a', 'b'] }, expected: { 'sweep.lr': '[0.0001,0.00005]', tags: '["a","b"]' } },
    { name: 'arrays of objects are JSON, not flattened', input: { steps: [{ a: 1 }] }, expected: { steps: '[{"a":1}]' } },
    { name: 'booleans and null', input: { fp16: true, ema: false, seed: null }, expected: { fp16: 'true', ema: 'false', seed: 'null' } },
    { name: 'undefined is left out', input: { a: undefined, b: { c: undefined, d: 1 } }, expected: { 'b.d': '1' } },
    { name: 'empty object stays visible', input: { extra: {} }, expected: { extra: '{}' } },
    { name: 'dates are ISO', input: { at: new Date(Date.UTC(2024, 0, 2)) }, expected: { at: '2024-01-02T00:00:00.000Z' } },
    { name: 'bigint', input: { n: 12345678901234567890n }, expected: { n: '12345678901234567890' } },
    { name: 'empty input', input: {}, expected: {} },
  ])('$name', ({ input, expected }) => {
    expect(flattenParams(input)).toEqual(expected);
  });

  it.each([
    { name: 'a long string', input: { prompt: long } },
    { name: 'a long array', input: { prompts: Array.from({ length: 2000 }, (_, i) => `prompt ${i}`) } },
  ])('cuts $name to the MLflow limit and marks it', ({ input }) => {
    const [value] = Object.values(flattenParams(input));
    expect(value).toHaveLength(paramValueLimit);
    expect(value!.endsWith('…[truncated]')).toBe(true);
  });

  it('does not split a surrogate pair at the cut', () => {
    const value = flattenParams({ s: '😀'.repeat(4000) }, 101).s!;
    expect(value.length).toBeLessThanOrEqual(101);
    expect(value.replace('…[truncated]', '')).toMatch(/^(😀)+$/u);
  });

  it('keeps values at the limit intact', () => {
    const exact = 'y'.repeat(paramValueLimit);
    expect(flattenParams({ exact }).exact).toBe(exact);
  });
});
