// The prompt search's pure parts: candidates from a category's MEDVQA-GI prompts and VQA answers,
// the halving plan that never spends more than its budget, the ranking, and the KID with its
// bootstrap interval checked against numpy and against torch-fidelity-style subset KID.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FeatureMatrix } from '../../metrics/features/feature-matrix.ts';
import { kid } from '../../metrics/kid.ts';
import { kidWithInterval } from '../../metrics/kid-interval.ts';
import { NumpyRandomState } from '../../metrics/random/numpy-random-state.ts';
import { attributeValues, candidatesFor, DEFAULT_TEMPLATES, findingName, type CategoryImage } from '../../prompts/candidates.ts';
import { maxCandidates, planCost, planHalving, rankCandidates } from '../../prompts/halving.ts';
import { python } from '../metrics/helpers.ts';

const polypImages: CategoryImage[] = [
  { prompts: ['Generate an image containing a polyp.', 'Generate an image with 2 polyps.', 'Generate an image with a polyp of size 11-20mm.', 'Generate a polyp of type paris is.', 'Generate an image with an abnormality with the colors pink and red.', 'Generate an image with an an abnormality located in the center and upper-center.'], answers: ['Polyp', 'A colonoscopy procedure', 'Yes'] },
  { prompts: ['Generate an image containing a polyp.', 'Generate an image with 1 polyp.', 'Generate an image with a polyp of size 11-20mm.', 'Generate a polyp of type paris iia.', 'Generate an image with an abnormality with the colors pink and red.', 'Generate an image containing biopsy forceps.'], answers: ['Polyp', 'No, there is no text in the image.'] },
  { prompts: ['Generate an image containing a polyp.', 'Generate an image with 1 polyp.', 'Generate an image with a polyp of size 5-10mm.', 'Generate a polyp of type paris is.', 'Generate an image with an abnormality with the color pink.'], answers: [] },
];
const options = { attributes: ['count', 'size', 'paris', 'colour', 'location', 'instrument', 'vqa'] as const, valuesPerAttribute: 2, datasetPrompts: 3, seed: 0, templates: DEFAULT_TEMPLATES, seeds: [] as string[], limit: 100 };

describe('prompt candidates', () => {
  it("takes each attribute's most frequent values from the category's MEDVQA-GI prompts and short VQA answers", () => {
    expect(attributeValues(polypImages, 'count', 2)).toEqual(['with 1 polyp', 'with 2 polyps']);
    expect(attributeValues(polypImages, 'size', 2)).toEqual(['with a polyp of size 11-20mm', 'with a polyp of size 5-10mm']);
    expect(attributeValues(polypImages, 'paris', 1)).toEqual(['of type paris is']);
    expect(attributeValues(polypImages, 'colour', 2)).toEqual(['with the colours pink and red', 'with the colours pink']);
    expect(attributeValues(polypImages, 'location', 2)).toEqual(['located in the center and upper-center']);
    expect(attributeValues(polypImages, 'instrument', 2)).toEqual(['with biopsy forceps']);
    // long answers and yes/no answers are no attributes
    expect(attributeValues(polypImages, 'vqa', 5)).toEqual(['polyp', 'a colonoscopy procedure']);
  });

  it('builds templates x attributes, the dataset prompts and the seeds, deduplicated, seeds first', () => {
    const found = candidatesFor('polyp', polypImages, { ...options, seeds: ['my own polyp prompt', 'Generate an image containing a polyp.'] });
    expect(found[0]).toEqual({ prompt: 'my own polyp prompt', source: 'seed' });
    // the dataset's own most frequent prompt is also a seed here: it appears once, as the seed
    expect(found.filter((c) => c.prompt.toLowerCase() === 'generate an image containing a polyp.')).toEqual([{ prompt: 'Generate an image containing a polyp.', source: 'seed' }]);
    expect(found.map((c) => c.prompt)).toContain('an endoscopy image of a polyp with 2 polyps');
    expect(found.map((c) => c.prompt)).toContain('Generate an image containing a polyp of type paris is.');
    expect(found.map((c) => c.prompt)).toContain('an endoscopy image of a polyp, a colonoscopy procedure');
    expect(new Set(found.map((c) => c.prompt.toLowerCase())).size).toBe(found.length);
    expect(findingName('ulcerative-colitis')).toBe('ulcerative colitis');
    expect(findingName('some_new-label')).toBe('some new label');
  });

  it('draws down to the limit with the seed, keeping the seed prompts, and the same seed draws the same', () => {
    const all = candidatesFor('polyp', polypImages, options);
    expect(all.length).toBeGreaterThan(20);
    const a = candidatesFor('polyp', polypImages, { ...options, seeds: ['mine'], limit: 6 });
    expect(a).toHaveLength(6);
    expect(a[0]!.prompt).toBe('mine');
    expect(candidatesFor('polyp', polypImages, { ...options, seeds: ['mine'], limit: 6 })).toEqual(a);
    expect(candidatesFor('polyp', polypImages, { ...options, seeds: ['mine'], limit: 6, seed: 1 })).not.toEqual(a);
    // drawn candidates keep their original order
    const order = a.slice(1).map((c) => all.findIndex((x) => x.prompt === c.prompt));
    expect(order).toEqual([...order].sort((x, y) => x - y));
  });
});

describe('halving plan', () => {
  it('never spends more than the budget, gives survivors more images, and ends before one is left', () => {
    for (let n = 1; n <= 40; n++) {
      for (const k of [2, 3, 4]) {
        for (const eta of [2, 3, 4]) {
          for (const budget of [n * k, 2 * n * k, 100, 1000].filter((b) => b >= n * k)) {
            const plan = planHalving({ candidates: n, budget, k, eta });
            expect(planCost(plan)).toBeLessThanOrEqual(budget);
            expect(plan[0]).toEqual({ candidates: n, images: k, added: k });
            for (let r = 1; r < plan.length; r++) {
              expect(plan[r]!.candidates).toBe(Math.ceil(plan[r - 1]!.candidates / eta));
              expect(plan[r]!.images).toBeGreaterThanOrEqual(plan[r - 1]!.images);
            }
            // the last round is the one whose best would be left alone; no round races one candidate unless there is one
            expect(Math.ceil(plan.at(-1)!.candidates / eta)).toBe(1);
            if (n > 1) expect(plan.every((r) => r.candidates > 1)).toBe(true);
          }
        }
      }
    }
    // 9 candidates, eta 3, 4 images each, 72 images: rounds of 9, 3 (then 1 is left: stop)
    expect(planHalving({ candidates: 9, budget: 72, k: 4, eta: 3 })).toEqual([
      { candidates: 9, images: 4, added: 4 },
      { candidates: 3, images: 16, added: 12 },
    ]);
    expect(planCost(planHalving({ candidates: 9, budget: 72, k: 4, eta: 3 }))).toBe(72);
    expect(() => planHalving({ candidates: 10, budget: 39, k: 4, eta: 3 })).toThrow(/need a budget of 40, not 39/);
    expect(maxCandidates(72, 4)).toBe(9);
  });

  it('ranks later rounds first, then by the last KID, ties to the lower index', () => {
    const ranked = rankCandidates([
      { index: 0, rounds: [{ kid: 0.1 }] },
      { index: 1, rounds: [{ kid: 0.5 }, { kid: 0.3 }] },
      { index: 2, rounds: [{ kid: 0.4 }, { kid: 0.2 }] },
      { index: 3, rounds: [{ kid: 0.1 }] },
      { index: 4, rounds: [] },
    ]);
    expect(ranked.map((c) => c.index)).toEqual([2, 1, 0, 3, 4]);
  });
});

const run = promisify(execFile);

function features(rows: number, dim: number, seed: number, shift = 0): FeatureMatrix {
  const rng = new NumpyRandomState(seed);
  const m = new FeatureMatrix(dim, rows);
  for (let i = 0; i < rows; i++) m.push(Array.from({ length: dim }, () => rng.interval(1000) / 1000 + shift));
  return m;
}

describe('KID with a bootstrap interval', () => {
  it('equals the all-pairs unbiased MMD^2 numpy computes, and torch-fidelity-style subset KID when the sets are as large as the subsets', async () => {
    const real = features(30, 16, 1);
    const fake = features(7, 16, 2, 0.2);
    const { value } = await kidWithInterval(real, fake);
    const script = `
import json, sys, numpy as np
d = json.load(sys.stdin); x = np.array(d['real']); y = np.array(d['fake']); k = lambda a, b: (a @ b.T / a.shape[1] + 1) ** 3
kxx, kyy, kxy = k(x, x), k(y, y), k(x, y); m, n = len(x), len(y)
print((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.mean())`;
    const rows = (f: FeatureMatrix) => Array.from({ length: f.rows }, (_, i) => Array.from(f.row(i)));
    const child = run(python, ['-c', script], { encoding: 'utf8' });
    child.child.stdin!.end(JSON.stringify({ real: rows(real), fake: rows(fake) }));
    const numpy = Number((await child).stdout.trim());
    expect(value).toBeCloseTo(numpy, 12);
    // equal sizes: every subset holds every row, so subset KID is the same number
    const same = features(7, 16, 3);
    expect((await kidWithInterval(same, fake)).value).toBeCloseTo((await kid(same, fake, { subsetSize: 7, subsets: 3 })).mean, 12);
  });

  it('brackets the estimate with a seeded percentile interval that narrows with more images', async () => {
    const real = features(40, 16, 4);
    const few = await kidWithInterval(real, features(5, 16, 5, 0.3), { resamples: 300, seed: 7 });
    const many = await kidWithInterval(real, features(40, 16, 5, 0.3), { resamples: 300, seed: 7 });
    for (const r of [few, many]) {
      expect(r.interval!.low).toBeLessThanOrEqual(r.value);
      expect(r.interval!.high).toBeGreaterThanOrEqual(r.value);
    }
    expect(many.interval!.high - many.interval!.low).toBeLessThan(few.interval!.high - few.interval!.low);
    expect(await kidWithInterval(real, features(5, 16, 5, 0.3), { resamples: 300, seed: 7 })).toEqual(few);
    expect((await kidWithInterval(real, features(5, 16, 5, 0.3))).interval).toBeNull();
    // 4 images: too few for an interval that means anything
    expect((await kidWithInterval(real, features(4, 16, 5, 0.3), { resamples: 300 })).interval).toBeNull();
  });
});
