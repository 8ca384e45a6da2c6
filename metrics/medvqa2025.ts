// MEDVQA-GI 2025 (Task 2, image generation) as the organisers' scoring code computes it
// (SushantGautam/MedVQA, medvqa/submission_samples/gi-2025/submission_task2.py):
// - features: BiomedCLIP ViT-B/16 CLS token after the final LayerNorm (768-d, no projection),
//   L2-normalised;
// - prompts sorted, paired (0,1), (2,3), ...; each pair shares one set of real reference images;
// - per pair: agreement = mean cosine similarity of A's and B's images; diversity of A and of B =
//   mean pairwise Euclidean distance within the prompt's images; FID of A and of B against the
//   pair's real images, averaged;
// - fidelity = mean over pairs of 100 / (1 + that average FID); agreement and diversity averaged
//   over the scored pairs (diversity over their prompts); FBD = FID of all scored pairs' images
//   against their real images concatenated (a real image counts once per pair that uses it).
// Mode `official` keeps the script's pairing loop `range(0, len(prompts)//2, 2)`, which scores only
// the first half of the prompts; `corrected` scores every pair.
import type { FeatureMatrix } from './features/feature-matrix.ts';
import { fidOfFeatures } from './fid.ts';
import type { PromptPair } from './metric-registry.ts';

export type Medvqa2025Mode = 'official' | 'corrected';
export const MEDVQA2025_MODES: readonly Medvqa2025Mode[] = ['official', 'corrected'];

function normalised(m: FeatureMatrix, i: number): Float64Array {
  const r = m.row(i);
  let s = 0;
  for (const v of r) s += v * v;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  return Float64Array.from(r, (v) => v * inv);
}

/** The rows of `m`, each divided by its L2 norm (as the official extract_features does). */
export function l2Normalised(m: FeatureMatrix): FeatureMatrix {
  const out = m.select([]);
  for (let i = 0; i < m.rows; i++) out.push(normalised(m, i));
  return out;
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

/** Consecutive pairs of the sorted prompts; an odd last prompt stays unpaired. */
export function consecutivePairs(prompts: string[]): PromptPair[] {
  const pairs: PromptPair[] = [];
  for (let i = 0; i + 1 < prompts.length; i += 2) pairs.push({ a: prompts[i]!, b: prompts[i + 1]! });
  return pairs;
}

/** How many of `pairs` the official loop scores: i in range(0, n // 2, 2) over n = 2 x pairs prompts. */
export function officialPairCount(pairs: number): number {
  return Math.ceil(Math.floor((2 * pairs) / 2) / 2);
}

export interface PairScore {
  a: string;
  b: string;
  images: { a: number; b: number; real: number };
  agreement: number;
  diversity: { a: number; b: number };
  fid: { a: number; b: number };
  /** 100 / (1 + mean of the two FIDs) */
  fidelity: number;
}

export async function scorePair(pair: PromptPair, a: FeatureMatrix, b: FeatureMatrix, real: FeatureMatrix): Promise<PairScore> {
  const fa = (await fidOfFeatures(a, real)).value;
  const fb = (await fidOfFeatures(b, real)).value;
  return {
    a: pair.a,
    b: pair.b,
    images: { a: a.rows, b: b.rows, real: real.rows },
    agreement: agreement(a, b),
    diversity: { a: diversity(a), b: diversity(b) },
    fid: { a: fa, b: fb },
    fidelity: 100 / (1 + (fa + fb) / 2),
  };
}
