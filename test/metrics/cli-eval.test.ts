// `medsynth eval` flags -> evaluate() options, as a table of pure cases.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveEvalOptions, type EvalFlags } from '../../cli/commands/eval.ts';
import { tempDir } from './helpers.ts';

const base: EvalFlags = { protocol: 'standard', real: 'r', fake: 'f' };

describe('medsynth eval flags', () => {
  it.each([
    [{}, { protocol: 'standard', real: 'r', fake: 'f', byCategory: false, kid: {} }],
    [{ byCategory: true, extractorDir: 'x' }, { byCategory: true, extractorDir: 'x' }],
    [{ cache: false, cacheDir: 'c' }, { cacheDir: false }],
    [{ cacheDir: 'c' }, { cacheDir: 'c' }],
    [{ kidSubsets: 10, kidSubsetSize: 50 }, { kid: { subsets: 10, subsetSize: 50 } }],
    [{ iscSplits: 5, prdcK: 3, bootstrap: 20, seed: 0, batchSize: 8 }, { isc: { splits: 5 }, prdcK: 3, bootstrap: 20, seed: 0, batchSize: 8 }],
  ] as [Partial<EvalFlags>, object][])('%j', async (flags, expected) => {
    expect(await resolveEvalOptions({ ...base, ...flags })).toMatchObject(expected);
  });

  it('reads --categories (CSV or JSON, paths relative to the file) and --pairs', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'labels.csv'), 'a/1.jpg,polyp\nb,2.jpg,cecum\n');
    await writeFile(path.join(dir, 'labels.json'), JSON.stringify({ 'x.png': 'z-line' }));
    await writeFile(path.join(dir, 'pairs.json'), JSON.stringify([{ a: 'p1', b: 'p2', real: ['r/1.jpg'] }]));
    const csv = await resolveEvalOptions({ ...base, categories: path.join(dir, 'labels.csv'), pairs: path.join(dir, 'pairs.json') });
    expect(Object.fromEntries(csv.categories!)).toEqual({ [path.join(dir, 'a/1.jpg')]: 'polyp', [path.join(dir, 'b,2.jpg')]: 'cecum' });
    expect(csv.pairs).toEqual([{ a: 'p1', b: 'p2', real: [path.join(dir, 'r/1.jpg')] }]);
    const json = await resolveEvalOptions({ ...base, categories: path.join(dir, 'labels.json') });
    expect(Object.fromEntries(json.categories!)).toEqual({ [path.join(dir, 'x.png')]: 'z-line' });
    await writeFile(path.join(dir, 'bad.json'), '[{"a": 1}]');
    await expect(resolveEvalOptions({ ...base, pairs: path.join(dir, 'bad.json') })).rejects.toThrow(/expected a JSON array/);
  });
});
