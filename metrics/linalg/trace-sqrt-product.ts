// tr sqrt(S1 S2) for covariance matrices, the cross term of the Fréchet distance, without a
// general (complex, Schur-based) matrix square root: with P S1 P^T = L L^T (pivoted Cholesky),
// S1 S2 has the same non-zero eigenvalues as the symmetric PSD matrix C = L^T (P S2 P^T) L,
// so tr sqrt(S1 S2) = sum of sqrt(eig(C)). Works for singular S1 (fewer samples than dimensions).
import { matmul, transpose } from './gemm.ts';
import { pivotedCholesky } from './pivoted-cholesky.ts';
import { tridiagonalEigenvalues } from './symmetric-eigenvalues.ts';
import { tridiagonalizeBlocked } from './tridiagonalize-blocked.ts';

export interface TraceSqrt {
  value: number;
  /** rank of S1 found by the factorisation */
  rank: number;
  /** the most negative eigenvalue of C relative to the largest (rounding noise when tiny) */
  negativeRatio: number;
}

export async function traceSqrtProduct(s1: Float64Array, s2: Float64Array, n: number): Promise<TraceSqrt> {
  const { L, rank, perm } = await pivotedCholesky(s1, n);
  if (rank === 0) return { value: 0, rank, negativeRatio: 0 };
  const s2p = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const src = perm[i]! * n;
    for (let j = 0; j < n; j++) s2p[i * n + j] = s2[src + perm[j]!]!;
  }
  const w = await matmul(s2p, n, n, L, rank);
  const c = await matmul(transpose(L, n, rank), rank, n, w, rank);
  for (let i = 0; i < rank; i++) {
    for (let j = i + 1; j < rank; j++) {
      const avg = 0.5 * (c[i * rank + j]! + c[j * rank + i]!);
      c[i * rank + j] = avg;
      c[j * rank + i] = avg;
    }
  }
  const { d, e } = await tridiagonalizeBlocked(c, rank);
  const eig = tridiagonalEigenvalues(d, e);
  let value = 0;
  let max = 0;
  let min = 0;
  for (const x of eig) {
    if (x > 0) value += Math.sqrt(x);
    max = Math.max(max, x);
    min = Math.min(min, x);
  }
  return { value, rank, negativeRatio: max > 0 ? -min / max : 0 };
}
