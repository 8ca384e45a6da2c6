// The MEDVQA-GI 2024 script's Inception Score: on the softmax outputs in the order the images
// were read, floor(N / 10) images per part (the remainder is left out), eps 1e-16 inside the
// logs, mean / std / median over the 10 parts. Computed in float64 (the script's numpy ran in
// float32, so its last digits differ).
import type { FeatureMatrix } from './features/feature-matrix.ts';

export interface MedvqaIs {
  mean: number;
  std: number;
  median: number;
  scores: number[];
}

export function medvqa2024InceptionScore(probs: FeatureMatrix, splits = 10, eps = 1e-16): MedvqaIs {
  const part = Math.floor(probs.rows / splits);
  if (part < 1) throw new Error(`the MEDVQA-GI 2024 Inception Score needs at least ${splits} generated images, got ${probs.rows}`);
  const c = probs.dim;
  const scores: number[] = [];
  for (let s = 0; s < splits; s++) {
    const py = new Float64Array(c);
    for (let i = s * part; i < (s + 1) * part; i++) {
      const r = probs.row(i);
      for (let j = 0; j < c; j++) py[j]! += r[j]!;
    }
    const logPy = py.map((v) => Math.log(v / part + eps));
    let sum = 0;
    for (let i = s * part; i < (s + 1) * part; i++) {
      const r = probs.row(i);
      for (let j = 0; j < c; j++) sum += r[j]! * (Math.log(r[j]! + eps) - logPy[j]!);
    }
    scores.push(Math.exp(sum / part));
  }
  const mean = scores.reduce((a, b) => a + b, 0) / splits;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / splits);
  const sorted = [...scores].sort((a, b) => a - b);
  const median = splits % 2 ? sorted[(splits - 1) / 2]! : (sorted[splits / 2 - 1]! + sorted[splits / 2]!) / 2;
  return { mean, std, median, scores };
}
