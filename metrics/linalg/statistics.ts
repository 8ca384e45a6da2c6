// Mean and covariance (np.cov, rowvar=False, ddof=1) of feature rows, in float64. The rows are
// centred on the mean before the product, so no large sums cancel.
import type { FeatureMatrix } from '../features/feature-matrix.ts';
import { matmul, transpose } from './gemm.ts';

export interface Gaussian {
  mu: Float64Array;
  sigma: Float64Array; // d x d row-major
  n: number;
  dim: number;
}

const CHUNK_ROWS = 1024;

export function mean(features: FeatureMatrix): Float64Array {
  const { dim, rows } = features;
  const mu = new Float64Array(dim);
  for (let i = 0; i < rows; i++) {
    const r = features.row(i);
    for (let j = 0; j < dim; j++) mu[j]! += r[j]!;
  }
  for (let j = 0; j < dim; j++) mu[j]! /= rows;
  return mu;
}

export async function gaussianOf(features: FeatureMatrix): Promise<Gaussian> {
  const { dim, rows } = features;
  if (rows < 2) throw new Error(`a covariance needs at least 2 samples, got ${rows}`);
  const mu = mean(features);
  const sigma = new Float64Array(dim * dim);
  for (let start = 0; start < rows; start += CHUNK_ROWS) {
    const count = Math.min(CHUNK_ROWS, rows - start);
    const centred = new Float64Array(count * dim);
    for (let i = 0; i < count; i++) {
      const r = features.row(start + i);
      for (let j = 0; j < dim; j++) centred[i * dim + j] = r[j]! - mu[j]!;
    }
    const part = await matmul(transpose(centred, count, dim), dim, count, centred, dim);
    for (let i = 0; i < sigma.length; i++) sigma[i]! += part[i]!;
  }
  for (let i = 0; i < sigma.length; i++) sigma[i]! /= rows - 1;
  return { mu, sigma, n: rows, dim };
}
