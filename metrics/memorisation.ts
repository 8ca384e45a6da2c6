// Does the generator copy its training images? For every synthetic image its nearest training image
// by two measures: the cosine of their features in the trained extractor's space (the evaluation
// engine's cached features), and the Pearson correlation of their 32x32 grayscale pixels (the
// synthetic image also mirrored: a flipped copy is a copy). A pair above either threshold is
// flagged. The nearest-neighbour search is one ONNX graph (Gemm with B transposed, ReduceMax, ArgMax) run by
// onnxruntime's CPU kernels, in blocks of queries.
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { extractSets } from './evaluate.ts';
import type { ExtractorSpec } from './extractors/registry.ts';
import { ONNX_FLOAT, onnxModel, type OnnxNode } from './linalg/onnx-graph.ts';

/** The thresholds, documented with their reason (calibrated on kvasir-mini, see the test). */
export const MEMORISATION_DEFAULTS = {
  /**
   * Feature cosine at or above which a pair is a copy. On kvasir-mini (trained EfficientNet-Lite0)
   * exact, JPEG-50, mirrored and 5 %-cropped copies score 0.926-1.0 (the JPEG one's pixels
   * correlate 1.0); unrelated polyp images at most 0.83, cecum 0.925. Near-identical video frames
   * in the sources (bbps-2-3, impacted-stool) score 0.975: flagged, rightly, as near copies.
   */
  cosine: 0.93,
  /** 32x32 grayscale correlation at or above which a pair is a copy (unrelated polyp: at most 0.85, cecum 0.93; copies 0.938-1.0) */
  correlation: 0.95,
  /** side of the grayscale thumbnails compared */
  pixels: 32,
  /** queries per ONNX run */
  block: 1024,
};

export interface Nearest {
  index: Int32Array;
  value: Float32Array;
}

let session: Promise<ort.InferenceSession> | undefined;
/** Cosines of unit rows, their maximum and its index, per query row; rows are normalised inside (a zero row stays zero: its norm is floored at eps). */
function nnSession(): Promise<ort.InferenceSession> {
  const unit = (x: string): OnnxNode[] => [
    { op: 'ReduceL2', inputs: [x], outputs: [`${x}_norm`], attributes: { axes: [1], keepdims: 1 } },
    { op: 'Max', inputs: [`${x}_norm`, 'eps'], outputs: [`${x}_floor`] },
    { op: 'Div', inputs: [x, `${x}_floor`], outputs: [`${x}_unit`] },
  ];
  session ??= ort.InferenceSession.create(
    onnxModel(
      [
        ...unit('q'),
        ...unit('b'),
        { op: 'Gemm', inputs: ['q_unit', 'b_unit'], outputs: ['s'], attributes: { transB: 1 } },
        { op: 'ReduceMax', inputs: ['s'], outputs: ['max'], attributes: { axes: [1], keepdims: 0 } },
        { op: 'ArgMax', inputs: ['s'], outputs: ['arg'], attributes: { axis: 1, keepdims: 0 } },
      ],
      [
        { name: 'q', elemType: ONNX_FLOAT, dims: ['m', 'd'] },
        { name: 'b', elemType: ONNX_FLOAT, dims: ['n', 'd'] },
        { name: 'eps', elemType: ONNX_FLOAT, dims: [] },
      ],
      [
        { name: 'max', elemType: ONNX_FLOAT, dims: ['m'] },
        { name: 'arg', elemType: 7, dims: ['m'] },
      ],
    ),
    { executionProviders: ['cpu'], intraOpNumThreads: os.availableParallelism() },
  );
  return session;
}

/** Rows scaled to unit length (zero rows stay zero), as one row-major Float32Array. */
export function unitRows(data: Float32Array, rows: number, dim: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0, o = 0; r < rows; r++, o += dim) {
    let norm = 0;
    for (let j = o; j < o + dim; j++) norm += data[j]! * data[j]!;
    if (norm === 0) continue;
    const scale = 1 / Math.sqrt(norm);
    for (let j = o; j < o + dim; j++) out[j] = data[j]! * scale;
  }
  return out;
}

/** For each query row, the base row of largest cosine, and that cosine. */
export async function nearestByCosine(query: Float32Array, m: number, base: Float32Array, n: number, dim: number, block = MEMORISATION_DEFAULTS.block): Promise<Nearest> {
  const s = await nnSession();
  const baseTensor = new ort.Tensor('float32', base, [n, dim]);
  const eps = new ort.Tensor('float32', Float32Array.of(1e-12), []);
  const index = new Int32Array(m);
  const value = new Float32Array(m);
  for (let start = 0; start < m; start += block) {
    const rows = Math.min(block, m - start);
    const out = await s.run({ q: new ort.Tensor('float32', query.subarray(start * dim, (start + rows) * dim), [rows, dim]), b: baseTensor, eps });
    const arg = out.arg!.data as BigInt64Array;
    value.set(out.max!.data as Float32Array, start);
    for (let i = 0; i < rows; i++) index[start + i] = Number(arg[i]);
  }
  return { index, value };
}

/** A 32x32 grayscale thumbnail, centred and scaled to unit length (dot products are then correlations); also mirrored. */
export async function pixelVectors(file: string, side = MEMORISATION_DEFAULTS.pixels): Promise<[Float32Array, Float32Array]> {
  const raw = await sharp(file, { limitInputPixels: 1 << 26 }).resize(side, side, { fit: 'fill' }).grayscale().raw().toBuffer();
  const v = Float32Array.from(raw.subarray(0, side * side));
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  for (let i = 0; i < v.length; i++) v[i]! -= mean;
  const mirrored = new Float32Array(v.length);
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) mirrored[y * side + x] = v[y * side + (side - 1 - x)]!;
  return [unitRows(v, 1, v.length), unitRows(mirrored, 1, v.length)];
}

export interface MemorisationPair {
  synthetic: string;
  /** nearest training image by feature cosine */
  byFeatures: { training: string; cosine: number };
  /** nearest training image by pixel correlation (the synthetic image or its mirror) */
  byPixels: { training: string; correlation: number; mirrored: boolean };
  flagged: boolean;
}

export interface MemorisationResult {
  pairs: MemorisationPair[];
  flagged: number;
  flaggedFraction: number;
  thresholds: { cosine: number; correlation: number };
  extractor: { name: string; sha256: string };
  warnings: string[];
}

export async function memorisation(opts: {
  synthetic: string[];
  training: string[];
  extractor: ExtractorSpec;
  cacheDir?: string;
  thresholds?: Partial<{ cosine: number; correlation: number }>;
  onProgress?: (p: { done: number; total: number }) => void;
}): Promise<MemorisationResult> {
  const thresholds = { cosine: opts.thresholds?.cosine ?? MEMORISATION_DEFAULTS.cosine, correlation: opts.thresholds?.correlation ?? MEMORISATION_DEFAULTS.correlation };
  if (!opts.extractor.featureOutput) throw new Error(`extractor ${opts.extractor.name} names no feature output`);
  const sets = await extractSets(opts.extractor, { real: opts.training, fake: opts.synthetic }, { protocol: 'memorisation', cacheDir: opts.cacheDir, onProgress: (p) => opts.onProgress?.({ done: p.done, total: p.total }) });
  const train = sets.real.features.get(opts.extractor.featureOutput)!;
  const synth = sets.fake.features.get(opts.extractor.featureOutput)!;
  const byFeatures = await nearestByCosine(Float32Array.from(synth.toFloat64()), synth.rows, Float32Array.from(train.toFloat64()), train.rows, train.dim);

  const side = MEMORISATION_DEFAULTS.pixels ** 2;
  const trainPixels = new Float32Array(sets.real.paths.length * side);
  for (const [i, f] of sets.real.paths.entries()) trainPixels.set((await pixelVectors(f))[0], i * side);
  const queries = new Float32Array(sets.fake.paths.length * 2 * side);
  for (const [i, f] of sets.fake.paths.entries()) {
    const [v, mirrored] = await pixelVectors(f);
    queries.set(v, 2 * i * side);
    queries.set(mirrored, (2 * i + 1) * side);
  }
  const byPixels = await nearestByCosine(queries, 2 * sets.fake.paths.length, trainPixels, sets.real.paths.length, side);

  const pairs = sets.fake.paths.map((synthetic, i): MemorisationPair => {
    const mirrored = byPixels.value[2 * i + 1]! > byPixels.value[2 * i]!;
    const p = 2 * i + (mirrored ? 1 : 0);
    const cosine = byFeatures.value[i]!;
    const correlation = byPixels.value[p]!;
    return {
      synthetic,
      byFeatures: { training: sets.real.paths[byFeatures.index[i]!]!, cosine },
      byPixels: { training: sets.real.paths[byPixels.index[p]!]!, correlation, mirrored },
      flagged: cosine >= thresholds.cosine || correlation >= thresholds.correlation,
    };
  });
  const flagged = pairs.filter((p) => p.flagged).length;
  return { pairs, flagged, flaggedFraction: pairs.length ? flagged / pairs.length : 0, thresholds, extractor: { name: sets.extractor.name, sha256: sets.extractor.sha256 }, warnings: sets.warnings };
}
