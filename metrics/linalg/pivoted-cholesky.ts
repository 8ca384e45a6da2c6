// Cholesky with diagonal pivoting of a symmetric positive semi-definite matrix (LAPACK dpstrf):
// P A P^T = L L^T with L n x r, r the numerical rank. Covariances of fewer samples than
// dimensions are singular, which plain Cholesky cannot factor. Panels of NB columns are
// factored in JS; the trailing update of each panel is one GEMM in onnxruntime.
import { matmul, transpose } from './gemm.ts';

const NB = 64;

export interface PivotedCholesky {
  /** n x rank, row-major, lower trapezoidal */
  L: Float64Array;
  rank: number;
  /** row i of L belongs to row perm[i] of A */
  perm: Int32Array;
}

function swapRowsAndColumns(a: Float64Array, n: number, i: number, j: number): void {
  const ri = i * n;
  const rj = j * n;
  for (let c = 0; c < n; c++) {
    const t = a[ri + c]!;
    a[ri + c] = a[rj + c]!;
    a[rj + c] = t;
  }
  // rows above min(i, j) hold finished rows of L, whose entries right of the diagonal are unused
  for (let r = Math.min(i, j) * n; r < n * n; r += n) {
    const t = a[r + i]!;
    a[r + i] = a[r + j]!;
    a[r + j] = t;
  }
}

/** Factors a copy of `matrix` (n x n row-major). Pivots below `tol` (default n * eps * max diagonal) end the factorisation. */
export async function pivotedCholesky(matrix: Float64Array, n: number, tol?: number): Promise<PivotedCholesky> {
  const a = Float64Array.from(matrix);
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  const d = new Float64Array(n);
  let maxDiag = 0;
  for (let i = 0; i < n; i++) {
    d[i] = a[i * n + i]!;
    maxDiag = Math.max(maxDiag, d[i]!);
  }
  const threshold = tol ?? n * Number.EPSILON * maxDiag;
  let rank = n;
  outer: for (let k0 = 0; k0 < n; k0 += NB) {
    const kEnd = Math.min(k0 + NB, n);
    for (let j = k0; j < kEnd; j++) {
      let p = j;
      for (let i = j + 1; i < n; i++) if (d[i]! > d[p]!) p = i;
      if (!(d[p]! > threshold)) {
        rank = j;
        break outer;
      }
      if (p !== j) {
        swapRowsAndColumns(a, n, j, p);
        [d[j], d[p]] = [d[p]!, d[j]!];
        [perm[j], perm[p]] = [perm[p]!, perm[j]!];
      }
      const ljj = Math.sqrt(d[j]!);
      const rowJ = j * n;
      a[rowJ + j] = ljj;
      for (let i = j + 1; i < n; i++) {
        const rowI = i * n;
        let s = a[rowI + j]!;
        for (let l = k0; l < j; l++) s -= a[rowI + l]! * a[rowJ + l]!;
        const v = s / ljj;
        a[rowI + j] = v;
        d[i]! -= v * v;
      }
    }
    const m = n - kEnd;
    const nb = kEnd - k0;
    if (m === 0) continue;
    const l21 = new Float64Array(m * nb);
    for (let i = 0; i < m; i++) l21.set(a.subarray((kEnd + i) * n + k0, (kEnd + i) * n + kEnd), i * nb);
    const update = await matmul(l21, m, nb, transpose(l21, m, nb), m);
    for (let i = 0; i < m; i++) {
      const row = (kEnd + i) * n + kEnd;
      for (let j = 0; j < m; j++) a[row + j]! -= update[i * m + j]!;
    }
  }
  const L = new Float64Array(n * rank);
  for (let i = 0; i < n; i++) {
    const cols = Math.min(i + 1, rank);
    L.set(a.subarray(i * n, i * n + cols), i * rank);
  }
  return { L, rank, perm };
}
