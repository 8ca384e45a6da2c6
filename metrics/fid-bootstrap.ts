// Percentile bootstrap interval of the FID: both sets resampled with replacement (seeded), the
// statistics refitted and the distance recomputed each time.
import type { FeatureMatrix } from './features/feature-matrix.ts';
import { fidOfFeatures } from './fid.ts';
import { NumpyRandomState } from './random/numpy-random-state.ts';

export interface BootstrapInterval {
  low: number;
  high: number;
  resamples: number;
  level: number;
}

function resample(rng: NumpyRandomState, n: number): Int32Array {
  return Int32Array.from({ length: n }, () => rng.interval(n - 1));
}

function percentile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export async function fidBootstrap(real: FeatureMatrix, fake: FeatureMatrix, resamples: number, seed = 2020, level = 0.95): Promise<BootstrapInterval> {
  const rng = new NumpyRandomState(seed);
  const values: number[] = [];
  for (let b = 0; b < resamples; b++) {
    const r = real.select(resample(rng, real.rows));
    const f = fake.select(resample(rng, fake.rows));
    values.push((await fidOfFeatures(r, f)).value);
  }
  values.sort((a, b) => a - b);
  return { low: percentile(values, (1 - level) / 2), high: percentile(values, 1 - (1 - level) / 2), resamples, level };
}
