// Inception Score as torch-fidelity computes it: logits shuffled with numpy's
// RandomState(seed).permutation, softmax in float64, exp(mean KL(p(y|x) || p(y))) per split.
import type { FeatureMatrix } from './features/feature-matrix.ts';
import { withDefaults } from './defaults.ts';
import { NumpyRandomState } from './random/numpy-random-state.ts';

export interface IscOptions {
  splits: number;
  shuffle: boolean;
  seed: number;
}

export const ISC_DEFAULTS: IscOptions = { splits: 10, shuffle: true, seed: 2020 };

export interface IscResult {
  mean: number;
  std: number;
  scores: number[];
}

function logSoftmax(row: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(row, (v) => v - lse);
}

export function inceptionScore(logits: FeatureMatrix, options: Partial<IscOptions> = {}): IscResult {
  const o = withDefaults(ISC_DEFAULTS, options);
  const n = logits.rows;
  const c = logits.dim;
  if (n < o.splits) throw new Error(`Inception Score with ${o.splits} splits needs at least ${o.splits} images, got ${n}`);
  const order = o.shuffle ? new NumpyRandomState(o.seed).permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
  const scores: number[] = [];
  for (let s = 0; s < o.splits; s++) {
    const from = Math.floor((s * n) / o.splits);
    const to = Math.floor(((s + 1) * n) / o.splits);
    const logp = Array.from({ length: to - from }, (_, k) => logSoftmax(logits.row(order[from + k]!)));
    const q = new Float64Array(c);
    for (const lp of logp) for (let j = 0; j < c; j++) q[j]! += Math.exp(lp[j]!);
    const logq = q.map((v) => Math.log(v / logp.length));
    let kl = 0;
    for (const lp of logp) {
      let row = 0;
      for (let j = 0; j < c; j++) row += Math.exp(lp[j]!) * (lp[j]! - logq[j]!);
      kl += row;
    }
    scores.push(Math.exp(kl / logp.length));
  }
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / scores.length);
  return { mean, std, scores };
}
