// Kernel Inception Distance as torch-fidelity computes it: unbiased MMD^2 with the polynomial
// kernel (x.y / d + 1)^3, averaged over random subsets drawn with numpy's RandomState(seed).
// When all pairwise products are cheaper than the subsets' (small sets), the Gram matrix of
// all samples is computed once and subsets read from it.
import type { FeatureMatrix } from './features/feature-matrix.ts';
import { matmul, transpose } from './linalg/gemm.ts';
import { withDefaults } from './defaults.ts';
import { NumpyRandomState } from './random/numpy-random-state.ts';

export interface KidOptions {
  subsets: number;
  subsetSize: number;
  degree: number;
  /** default 1 / feature dimension */
  gamma?: number;
  coef0: number;
  seed: number;
}

export const KID_DEFAULTS: KidOptions = { subsets: 100, subsetSize: 1000, degree: 3, coef0: 1, seed: 2020 };

export interface KidResult {
  mean: number;
  std: number;
  subsetSize: number;
  warnings: string[];
}

const GRAM_LIMIT = 6000; // samples: a 6000^2 float64 Gram matrix is 288 MB

type Dot = (set1: 0 | 1, i: Int32Array, set2: 0 | 1, j: Int32Array) => Promise<Float64Array>;

function subsetDots(x: [FeatureMatrix, FeatureMatrix]): Dot {
  return async (s1, i, s2, j) => {
    const a = x[s1].toFloat64(i);
    const b = x[s2].toFloat64(j);
    const d = x[s1].dim;
    return matmul(a, i.length, d, transpose(b, j.length, d), j.length);
  };
}

async function gramDots(x: [FeatureMatrix, FeatureMatrix]): Promise<Dot> {
  const [f1, f2] = x;
  const n = f1.rows + f2.rows;
  const d = f1.dim;
  const all = new Float64Array(n * d);
  all.set(f1.toFloat64(), 0);
  all.set(f2.toFloat64(), f1.rows * d);
  const g = await matmul(all, n, d, transpose(all, n, d), n);
  return async (s1, i, s2, j) => {
    const o1 = s1 === 0 ? 0 : f1.rows;
    const o2 = s2 === 0 ? 0 : f1.rows;
    const out = new Float64Array(i.length * j.length);
    for (let a = 0; a < i.length; a++) {
      const row = (o1 + i[a]!) * n + o2;
      for (let b = 0; b < j.length; b++) out[a * j.length + b] = g[row + j[b]!]!;
    }
    return out;
  };
}

/** torch-fidelity's mmd2 (unbiased) from the three kernel matrices of an m-sample subset pair. */
export function unbiasedMmd2(kxx: Float64Array, kxy: Float64Array, kyy: Float64Array, m: number): number {
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      if (i !== j) {
        sxx += kxx[i * m + j]!;
        syy += kyy[i * m + j]!;
      }
      sxy += kxy[i * m + j]!;
    }
  }
  return (sxx + syy) / (m * (m - 1)) - (2 * sxy) / (m * m);
}

export async function kid(f1: FeatureMatrix, f2: FeatureMatrix, options: Partial<KidOptions> = {}): Promise<KidResult> {
  const o = withDefaults(KID_DEFAULTS, options);
  const warnings: string[] = [];
  const n1 = f1.rows;
  const n2 = f2.rows;
  let m = o.subsetSize;
  if (n1 < m || n2 < m) {
    m = Math.min(n1, n2);
    warnings.push(`KID: subset size lowered from ${o.subsetSize} to ${m} (the smaller set's size); torch-fidelity would refuse`);
  }
  if (m < 2) throw new Error(`KID needs at least 2 samples in each set, got ${n1} and ${n2}`);
  if (m === n1 || m === n2) {
    const which = m === n1 && m === n2 ? 'both sets' : m === n1 ? 'the first set' : 'the second set';
    warnings.push(
      `KID: the subset size (${m}) equals the size of ${which}, so every subset holds all of it: the std does not measure the estimate's spread (${m === n1 && m === n2 ? 'it is 0' : 'only the other set is resampled'}); use a subset size below the set sizes for a meaningful std`,
    );
  }
  const gamma = o.gamma ?? 1 / f1.dim;
  const kernel = (dots: Float64Array) => dots.map((v) => (v * gamma + o.coef0) ** o.degree);
  const useGram = n1 + n2 <= GRAM_LIMIT && (n1 + n2) ** 2 <= 3 * o.subsets * m * m;
  const dot = useGram ? await gramDots([f1, f2]) : subsetDots([f1, f2]);
  const rng = new NumpyRandomState(o.seed);
  const mmds = new Float64Array(o.subsets);
  for (let s = 0; s < o.subsets; s++) {
    const i = rng.choiceWithoutReplacement(n1, m).slice();
    const j = rng.choiceWithoutReplacement(n2, m).slice();
    mmds[s] = unbiasedMmd2(kernel(await dot(0, i, 0, i)), kernel(await dot(0, i, 1, j)), kernel(await dot(1, j, 1, j)), m);
  }
  const mean = mmds.reduce((a, b) => a + b, 0) / o.subsets;
  const std = Math.sqrt(mmds.reduce((a, b) => a + (b - mean) ** 2, 0) / o.subsets);
  return { mean, std, subsetSize: m, warnings };
}
