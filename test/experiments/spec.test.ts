import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson, loadSpecFile, parseSpec, resolveSpecPaths, SpecError, specHash } from '../../experiments/load.ts';

const examples = path.resolve(import.meta.dirname, '../../experiments/examples');

async function specFile(text: string, name = 'spec.yaml'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'medsynth-spec-'));
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof SpecError) return err.problems;
    throw err;
  }
  throw new Error('expected a SpecError');
}

describe('experiment specs', () => {
  it('accepts every shipped example and fills in the defaults', async () => {
    const files = (await readdir(examples)).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const spec = await loadSpecFile(path.join(examples, f));
      expect(spec.dataset.splits.train + spec.dataset.splits.val + spec.dataset.splits.test).toBeCloseTo(1);
      expect(spec.dataset.maxPixels).toBe(40_000_000);
    }
    const gpu = await loadSpecFile(path.join(examples, 'sd15-dreambooth-lora-gpu.yaml'));
    expect(gpu.method?.kind).toBe('dreambooth-lora');
    if (gpu.method?.kind === 'dreambooth-lora') expect(gpu.method.targets).toEqual(['to_q', 'to_k', 'to_v', 'to_out.0']);
  });

  it('lists every offending field path with what was expected, unknown keys included', () => {
    const problems = problemsOf(() =>
      parseSpec({
        name: 'bad name!',
        datset: {},
        dataset: { format: 'zip', path: 3, splits: { train: 0.9, val: 0.2, test: 0 } },
        method: { kind: 'lora', rank: -1, rnak: 4 },
      }),
    );
    const text = problems.join('\n');
    expect(text).toMatch(/^name: /m);
    expect(text).toMatch(/^datset: unknown key/m);
    expect(text).toMatch(/^dataset\.format: .*class-folders/m);
    expect(text).toMatch(/^dataset\.path: .*expected string/m);
    expect(text).toMatch(/^dataset\.splits: train \+ val \+ test must sum to 1/m);
    expect(text).toMatch(/^method\.rank: /m);
    expect(text).toMatch(/method\.rnak: unknown key/m);
  });

  it('names the method kinds when the kind is wrong', () => {
    const problems = problemsOf(() => parseSpec({ name: 'x', dataset: { format: 'imagefolder', path: 'd' }, method: { kind: 'qlora' } }));
    expect(problems.join('\n')).toMatch(/method\.kind/);
  });

  it('reads JSON as well as YAML, and reports unreadable files and bad syntax clearly', async () => {
    const json = await specFile(JSON.stringify({ name: 'j', dataset: { format: 'imagefolder', path: 'data' } }), 'spec.json');
    expect((await loadSpecFile(json)).name).toBe('j');
    await expect(loadSpecFile(await specFile('name: [unclosed'))).rejects.toThrow(/not valid YAML or JSON/);
    await expect(loadSpecFile('/nonexistent/spec.yaml')).rejects.toThrow(/cannot read spec \(ENOENT\)/);
  });

  it('hashes equal specs equally whatever their key order, and resolves paths', () => {
    const a = parseSpec({ name: 'h', dataset: { format: 'imagefolder', path: 'd', splits: { seed: 1, train: 0.8, val: 0.1, test: 0.1 } } });
    const b = parseSpec({ dataset: { splits: { test: 0.1, val: 0.1, train: 0.8, seed: 1 }, path: 'd', format: 'imagefolder' }, name: 'h' });
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(specHash(a)).toBe(specHash(b));
    const c = parseSpec({ name: 'h', dataset: { format: 'imagefolder', path: 'd', splits: { seed: 2, train: 0.8, val: 0.1, test: 0.1 } } });
    expect(specHash(c)).not.toBe(specHash(a));
    expect(resolveSpecPaths(a, '/data/root').dataset.path).toBe('/data/root/d');
  });
});
