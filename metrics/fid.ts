// Fréchet distance between Gaussians fitted to two feature sets (FID on Inception pool3).
import type { FeatureMatrix } from './features/feature-matrix.ts';
import { gaussianOf, type Gaussian } from './linalg/statistics.ts';
import { traceSqrtProduct } from './linalg/trace-sqrt-product.ts';

export interface FrechetResult {
  value: number;
  warnings: string[];
}

export async function frechetDistance(g1: Gaussian, g2: Gaussian): Promise<FrechetResult> {
  const d = g1.dim;
  if (g2.dim !== d) throw new Error(`feature dimensions differ: ${g1.dim} vs ${g2.dim}`);
  let diff2 = 0;
  for (let i = 0; i < d; i++) diff2 += (g1.mu[i]! - g2.mu[i]!) ** 2;
  let tr1 = 0;
  let tr2 = 0;
  for (let i = 0; i < d; i++) {
    tr1 += g1.sigma[i * d + i]!;
    tr2 += g2.sigma[i * d + i]!;
  }
  const cross = await traceSqrtProduct(g1.sigma, g2.sigma, d);
  const warnings: string[] = [];
  if (cross.negativeRatio > 1e-6) {
    warnings.push(`covariance product has eigenvalues down to ${(-cross.negativeRatio).toExponential(2)} of the largest: not positive semi-definite, FID is unreliable`);
  }
  const value = diff2 + tr1 + tr2 - 2 * cross.value;
  if (!Number.isFinite(value)) throw new Error('Fréchet distance is not finite: the features hold NaN or Inf');
  return { value, warnings };
}

export function smallSampleWarning(name: string, n1: number, n2: number, dim: number, hint = ''): string | undefined {
  const n = Math.min(n1, n2);
  if (n >= dim) return undefined;
  return `${name}: ${n} samples < ${dim} feature dimensions: the covariance is singular and the value is biased upwards; compare values only at equal sample counts${hint}`;
}

export async function fidOfFeatures(real: FeatureMatrix, fake: FeatureMatrix): Promise<FrechetResult> {
  return frechetDistance(await gaussianOf(real), await gaussianOf(fake));
}
