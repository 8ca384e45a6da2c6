// MEDVQA-GI 2025 scoring on BiomedCLIP embeddings, per prompt pair (A, B): agreement = mean
// cosine similarity between A's and B's images; diversity = mean pairwise Euclidean distance of
// the L2-normalised embeddings within one prompt's images; fidelity = 1000 / (1 + FID) of the
// pair's images against its real reference images.
import type { FeatureMatrix } from './features/feature-matrix.ts';
import { fidOfFeatures } from './fid.ts';
import type { PromptPair } from './metric-registry.ts';

function normalised(m: FeatureMatrix, i: number): Float64Array {
  const r = m.row(i);
  let s = 0;
  for (const v of r) s += v * v;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  return Float64Array.from(r, (v) => v * inv);
}

const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);

export function agreement(a: FeatureMatrix, b: FeatureMatrix): number {
  const an = Array.from({ length: a.rows }, (_, i) => normalised(a, i));
  const bn = Array.from({ length: b.rows }, (_, i) => normalised(b, i));
  let s = 0;
  for (const x of an) for (const y of bn) s += dot(x, y);
  return s / (an.length * bn.length);
}

export function diversity(m: FeatureMatrix): number {
  if (m.rows < 2) throw new Error(`diversity needs at least 2 images of a prompt, got ${m.rows}`);
  const n = Array.from({ length: m.rows }, (_, i) => normalised(m, i));
  let s = 0;
  let pairs = 0;
  for (let i = 0; i < n.length; i++) {
    for (let j = i + 1; j < n.length; j++) {
      let d = 0;
      for (let k = 0; k < n[i]!.length; k++) d += (n[i]![k]! - n[j]![k]!) ** 2;
      s += Math.sqrt(d);
      pairs++;
    }
  }
  return s / pairs;
}

export interface PairScore {
  a: string;
  b: string;
  images: { a: number; b: number; real: number };
  agreement: number;
  diversity: { a: number; b: number };
  fid: number;
  fidelity: number;
}

export async function scorePair(pair: PromptPair, a: FeatureMatrix, b: FeatureMatrix, real: FeatureMatrix): Promise<PairScore> {
  const both = a.select([]);
  for (let i = 0; i < a.rows; i++) both.push(a.row(i));
  for (let i = 0; i < b.rows; i++) both.push(b.row(i));
  const fid = (await fidOfFeatures(real, both)).value;
  return {
    a: pair.a,
    b: pair.b,
    images: { a: a.rows, b: b.rows, real: real.rows },
    agreement: agreement(a, b),
    diversity: { a: diversity(a), b: diversity(b) },
    fid,
    fidelity: 1000 / (1 + fid),
  };
}
