// Expanding a spec's sweep into trials: grid order, seeded random draws (numpy's own), trial ids
// that never change, every invalid trial named, and the objective that ranks them.
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../errors.ts';
import { parseSpec } from '../../experiments/load.ts';
import { applyOverrides, expandSweep, sweepObjective } from '../../experiments/sweep.ts';
import { python } from '../metrics/helpers.ts';

function sweepSpec(sweep: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'sw',
    dataset: { format: 'class-folders', path: '/data' },
    baseModel: { id: 'tiny', resolution: 32 },
    method: { kind: 'lora', steps: 10 },
    evaluation: { protocols: ['features'] },
    sweep,
    ...extra,
  };
}
const expand = (raw: Record<string, unknown>, id = 'sw-1') => expandSweep(raw, parseSpec(raw), id, '/cwd');

describe('sweep expansion', () => {
  it('grid: the cartesian product in the order the axes are written, the last axis fastest', () => {
    const trials = expand(sweepSpec({ axes: { 'method.rank': [4, 16], 'method.learningRate': [1e-4, 5e-5, 1e-5] } }));
    expect(trials.map((t) => [t.spec.method!.kind === 'lora' && t.spec.method!.rank, t.spec.method!.learningRate])).toEqual([
      [4, 1e-4], [4, 5e-5], [4, 1e-5], [16, 1e-4], [16, 5e-5], [16, 1e-5],
    ]);
    expect(trials.map((t) => t.index)).toEqual([0, 1, 2, 3, 4, 5]);
    // the trial's spec is a full one, without a sweep, with its paths resolved
    expect(trials[0]!.spec.sweep).toBeUndefined();
    expect(trials[0]!.spec.method).toMatchObject({ steps: 10, batchSize: 4 });
  });

  it('gives every trial an id from the sweep id, its index and its overrides: the same every time', () => {
    const raw = sweepSpec({ axes: { 'method.rank': [4, 16] } });
    const ids = expand(raw).map((t) => t.id);
    expect(ids).toEqual(expand(raw).map((t) => t.id));
    expect(ids[0]).toMatch(/^sw-1-t0-[0-9a-f]{8}$/);
    expect(new Set(ids).size).toBe(2);
    expect(expand(raw, 'other')[0]!.id).toMatch(/^other-t0-/);
    // same overrides, same hash; different specs hash differently
    expect(ids[0]!.slice(-8)).toBe(expand(sweepSpec({ axes: { 'method.rank': [4] } }))[0]!.id.slice(-8));
    expect(expand(raw)[0]!.specHash).not.toBe(expand(raw)[1]!.specHash);
  });

  it("random: `samples` draws with numpy's RandomState(seed), the same seed giving the same trials", async () => {
    const axes = { 'method.rank': [2, 4, 8, 16, 32], 'method.learningRate': [1e-3, 1e-4, 1e-5], 'generation.guidance': [5, 7.5] };
    const raw = sweepSpec({ method: 'random', samples: 12, seed: 7, axes }, { generation: { prompts: ['a polyp'] } });
    const trials = expand(raw);
    expect(trials).toHaveLength(12);
    const drawn = trials.map((t) => [(t.spec.method as { rank: number }).rank, t.spec.method!.learningRate, t.spec.generation!.guidance]);
    expect(expand(raw).map((t) => t.overrides)).toEqual(trials.map((t) => t.overrides));
    const { stdout } = await execa(python, [
      '-c',
      `import json, numpy as np
r = np.random.RandomState(7)
axes = ${JSON.stringify(Object.values(axes))}
print(json.dumps([[vals[r.randint(len(vals))] for vals in axes] for _ in range(12)]))`,
    ]);
    expect(drawn).toEqual(JSON.parse(stdout));
    expect(expand({ ...raw, sweep: { ...(raw.sweep as object), seed: 8 } }).map((t) => t.overrides)).not.toEqual(trials.map((t) => t.overrides));
  });

  it('applies overrides to the spec as written, so an axis may switch method.kind', () => {
    const raw = sweepSpec({ axes: { method: [{ kind: 'lora', rank: 4 }, { kind: 'full', steps: 5 }] } });
    const trials = expand(raw);
    expect(trials.map((t) => t.spec.method!.kind)).toEqual(['lora', 'full']);
    expect(applyOverrides({ a: { b: 1 } }, { 'a.c.d': 2 })).toEqual({ a: { b: 1, c: { d: 2 } } });
    expect(() => applyOverrides({ a: 3 }, { 'a.b': 1 })).toThrow(/sweep axis a\.b: a is a value/);
  });

  it('names every invalid trial at once, each problem once with the trials it hits', () => {
    const raw = sweepSpec({ axes: { 'method.rank': [4, -1, 0], 'method.rnak': [1] } });
    let message = '';
    try {
      expand(raw);
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/^the sweep of sw has invalid trials:/);
    expect(message).toMatch(/method\.rnak: unknown key \(trials 0, 1, 2, e\.g\. /);
    expect(message).toMatch(/method\.rank: Too small.* \(trials 1, 2, e\.g\. \{"method\.rank":-1/i);
    expect(() => expand(sweepSpec({ axes: { name: ['a', 'b'] } }))).toThrow(/axes name cannot be swept/);
    expect(() => parseSpec(sweepSpec({ method: 'random', axes: { 'method.rank': [1] } }))).toThrow(/sweep\.samples: random sweeps need samples/);
  });

  it("ranks by the first protocol's headline metric, lower or higher as it means, unless told", () => {
    expect(sweepObjective(parseSpec(sweepSpec({ axes: { 'method.rank': [4] } })))).toEqual({ metric: 'eval.features.fd_efficientnet_lite0', mode: 'min' });
    const standard = sweepSpec({ axes: { 'method.rank': [4] } }, { evaluation: { protocols: ['standard', 'features'] } });
    expect(sweepObjective(parseSpec(standard))).toEqual({ metric: 'eval.standard.frechet_inception_distance', mode: 'min' });
    const isc = sweepSpec({ axes: { 'method.rank': [4] }, objective: { metric: 'eval.standard.inception_score_mean' } });
    expect(sweepObjective(parseSpec(isc))).toEqual({ metric: 'eval.standard.inception_score_mean', mode: 'max' });
    const forced = sweepSpec({ axes: { 'method.rank': [4] }, objective: { metric: 'eval.standard.inception_score_mean', mode: 'min' } });
    expect(sweepObjective(parseSpec(forced)).mode).toBe('min');
    const { evaluation: _none, ...unscored } = sweepSpec({ axes: { 'method.rank': [4] } });
    expect(() => sweepObjective(parseSpec(unscored))).toThrow(/nothing ranks the trials/);
  });
});
