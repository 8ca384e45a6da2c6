// KID of a small generated set against a fixed real set, computed on all pairs (no subsets): the
// unbiased MMD^2 with torch-fidelity's kernel (x.y / d + 1)^3, which is exactly the expectation of
// torch-fidelity's average over random subsets, without its draw noise. That matters when a few
// images per prompt are compared. The interval resamples the generated images with replacement
// (the real reference stays fixed: it is the same for every prompt compared); pairs of copies of
// one image are left out of the within-set term, as the diagonal is, so copies do not bias it.
import type { FeatureMatrix } from './features/feature-matrix.ts';
import { matmul, transpose } from './linalg/gemm.ts';
import { KID_DEFAULTS } from './kid.ts';
import { NumpyRandomState } from './random/numpy-random-state.ts';

/**
 * Fewer generated images than this get no interval: with 2-4 images most resamples repeat an image
 * or permute the set, so the percentile interval collapses towards the estimate and says nothing.
 */
export const MIN_BOOTSTRAP_IMAGES = 5;

export interface KidInterval {
  value: number;
  /** percentile bootstrap interval over the generated images; null without resamples or with too few images */
  interval: { low: number; high: number; resamples: number; level: number } | null;
}

async function kernel(a: FeatureMatrix, b: FeatureMatrix): Promise<Float64Array> {
  const d = a.dim;
  const dots = await matmul(a.toFloat64(), a.rows, d, transpose(b.toFloat64(), b.rows, d), b.rows);
  return dots.map((v) => (v / d + KID_DEFAULTS.coef0) ** KID_DEFAULTS.degree);
}

function percentile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export async function kidWithInterval(
  real: FeatureMatrix,
  fake: FeatureMatrix,
  opts: { resamples?: number; seed?: number; level?: number } = {},
): Promise<KidInterval> {
  const nr = real.rows;
  const nf = fake.rows;
  if (nr < 2 || nf < 2) throw new Error(`KID needs at least 2 samples in each set, got ${nr} and ${nf}`);
  const [krr, krf, kff] = await Promise.all([kernel(real, real), kernel(real, fake), kernel(fake, fake)]);
  let realTerm = 0;
  for (let i = 0; i < nr; i++) for (let j = 0; j < nr; j++) if (i !== j) realTerm += krr[i * nr + j]!;
  realTerm /= nr * (nr - 1);
  // per generated image: its mean kernel value against the real set
  const cross = new Float64Array(nf);
  for (let i = 0; i < nr; i++) for (let a = 0; a < nf; a++) cross[a]! += krf[i * nf + a]! / nr;

  const mmd = (picked: ArrayLike<number>) => {
    let within = 0;
    let pairs = 0;
    let across = 0;
    for (let a = 0; a < picked.length; a++) {
      across += cross[picked[a]!]!;
      for (let b = 0; b < picked.length; b++) {
        if (picked[a] === picked[b]) continue;
        within += kff[picked[a]! * nf + picked[b]!]!;
        pairs++;
      }
    }
    return realTerm + within / pairs - (2 * across) / picked.length;
  };
  const value = mmd(Array.from({ length: nf }, (_, i) => i));
  const resamples = opts.resamples ?? 0;
  if (resamples === 0 || nf < MIN_BOOTSTRAP_IMAGES) return { value, interval: null };
  const level = opts.level ?? 0.95;
  const rng = new NumpyRandomState(opts.seed ?? KID_DEFAULTS.seed);
  const values: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const picked = Int32Array.from({ length: nf }, () => rng.interval(nf - 1));
    // a resample of one image repeated has no within-set pair: it says nothing about spread
    if (picked.every((p) => p === picked[0])) continue;
    values.push(mmd(picked));
  }
  values.sort((a, b) => a - b);
  return { value, interval: { low: percentile(values, (1 - level) / 2), high: percentile(values, 1 - (1 - level) / 2), resamples: values.length, level } };
}
