// Eigenvalues of a real symmetric matrix: Householder reduction to tridiagonal form, then the
// implicit QL algorithm. Each reduction step updates the trailing matrix and multiplies it by
// the next Householder vector in the same pass, so the matrix is streamed once per step.
const EPS = Number.EPSILON;

interface Reflector {
  tau: number;
  beta: number;
}

/** LAPACK dlarfg on x = row[from..to): v (v[0] = 1) into `v`, returns tau and beta. */
function householder(row: Float64Array, from: number, to: number, v: Float64Array): Reflector {
  const alpha = row[from]!;
  let sigma = 0;
  for (let j = from + 1; j < to; j++) sigma += row[j]! * row[j]!;
  v[0] = 1;
  if (sigma === 0) {
    for (let j = 1; j < to - from; j++) v[j] = 0;
    return { tau: 0, beta: alpha };
  }
  const norm = Math.sqrt(alpha * alpha + sigma);
  const beta = alpha <= 0 ? norm : -norm;
  const scale = 1 / (alpha - beta);
  for (let j = from + 1; j < to; j++) v[j - from] = row[j]! * scale;
  return { tau: (beta - alpha) / beta, beta };
}

/**
 * a[row+j] -= vi*w[j] + wi*v[j] for j in 1..m-1, returning sum of the new a[row+j] * u[j-1].
 * Four accumulators: one would make the loop wait on the latency of each add.
 */
function updateRowDot(a: Float64Array, row: number, v: Float64Array, w: Float64Array, vi: number, wi: number, u: Float64Array, m: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 1;
  for (; j + 3 < m; j += 4) {
    const r = row + j;
    const x0 = a[r]! - (vi * w[j]! + wi * v[j]!);
    const x1 = a[r + 1]! - (vi * w[j + 1]! + wi * v[j + 1]!);
    const x2 = a[r + 2]! - (vi * w[j + 2]! + wi * v[j + 2]!);
    const x3 = a[r + 3]! - (vi * w[j + 3]! + wi * v[j + 3]!);
    a[r] = x0;
    a[r + 1] = x1;
    a[r + 2] = x2;
    a[r + 3] = x3;
    s0 += x0 * u[j - 1]!;
    s1 += x1 * u[j]!;
    s2 += x2 * u[j + 1]!;
    s3 += x3 * u[j + 2]!;
  }
  for (; j < m; j++) {
    const x = a[row + j]! - (vi * w[j]! + wi * v[j]!);
    a[row + j] = x;
    s0 += x * u[j - 1]!;
  }
  return s0 + s1 + s2 + s3;
}

/** Reduces `a` (n x n symmetric, row-major; overwritten) to tridiagonal (diagonal d, off-diagonal e). */
export function tridiagonalize(a: Float64Array, n: number): { d: Float64Array; e: Float64Array } {
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 1) {
    d[0] = a[0]!;
    return { d, e };
  }
  let v = new Float64Array(n);
  let p = new Float64Array(n);
  let vNext = new Float64Array(n);
  let pNext = new Float64Array(n);
  const w = new Float64Array(n);
  // step 0: reflector from row 0, p = tau * A' v with A' = a[1:, 1:]
  let h = householder(a.subarray(0, n), 1, n, v);
  d[0] = a[0]!;
  e[0] = h.beta;
  for (let i = 0; i < n - 1; i++) {
    const row = (i + 1) * n + 1;
    let s = 0;
    for (let j = 0; j < n - 1; j++) s += a[row + j]! * v[j]!;
    p[i] = h.tau * s;
  }
  for (let k = 0; k <= n - 3; k++) {
    const m = n - k - 1; // size of A' = a[k+1:, k+1:]
    const base = k + 1;
    let pv = 0;
    for (let i = 0; i < m; i++) pv += p[i]! * v[i]!;
    const K = 0.5 * h.tau * pv;
    for (let i = 0; i < m; i++) w[i] = p[i]! - K * v[i]!;
    if (h.tau === 0) for (let i = 0; i < m; i++) w[i] = 0;
    // first row of A' gives the next reflector
    const row0 = base * n + base;
    const v0 = v[0]!;
    const w0 = w[0]!;
    for (let j = 0; j < m; j++) a[row0 + j]! -= v0 * w[j]! + w0 * v[j]!;
    if (m === 2) {
      const r1 = (base + 1) * n + base;
      a[r1 + 1]! -= v[1]! * w[1]! + w[1]! * v[1]!;
      d[base] = a[row0]!;
      e[base] = a[row0 + 1]!;
      d[base + 1] = a[r1 + 1]!;
      break;
    }
    const hn = householder(a.subarray(base * n, base * n + n), base + 1, n, vNext);
    d[base] = a[row0]!;
    e[base] = hn.beta;
    // rows 1.. of A': update columns 1.. and multiply by the next reflector in the same pass
    for (let i = 1; i < m; i++) {
      const row = (base + i) * n + base;
      const vi = v[i]!;
      const wi = w[i]!;
      pNext[i - 1] = hn.tau * updateRowDot(a, row, v, w, vi, wi, vNext, m);
    }
    [v, vNext] = [vNext, v];
    [p, pNext] = [pNext, p];
    h = hn;
  }
  if (n === 2) {
    d[1] = a[3]!;
    e[0] = a[1]!;
  }
  return { d, e };
}

/** Eigenvalues of the symmetric tridiagonal matrix (d, e[i] between i and i+1), unsorted. */
export function tridiagonalEigenvalues(dIn: Float64Array, eIn: Float64Array): Float64Array {
  const n = dIn.length;
  const d = Float64Array.from(dIn);
  const e = Float64Array.from(eIn);
  e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    let m: number;
    do {
      for (m = l; m < n - 1; m++) {
        const dd = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= EPS * dd) break;
      }
      if (m !== l) {
        if (iter++ === 100) throw new Error('tridiagonal QL did not converge');
        let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
        let r = Math.hypot(g, 1);
        g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
        let s = 1;
        let c = 1;
        let p = 0;
        let i: number;
        for (i = m - 1; i >= l; i--) {
          const f = s * e[i]!;
          const b = c * e[i]!;
          r = Math.hypot(f, g);
          e[i + 1] = r;
          if (r === 0) {
            d[i + 1]! -= p;
            e[m] = 0;
            break;
          }
          s = f / r;
          c = g / r;
          g = d[i + 1]! - p;
          r = (d[i]! - g) * s + 2 * c * b;
          p = s * r;
          d[i + 1] = g + p;
          g = c * r - b;
        }
        if (r === 0 && i >= l) continue;
        d[l]! -= p;
        e[l] = g;
        e[m] = 0;
      }
    } while (m !== l);
  }
  return d;
}

export function symmetricEigenvalues(matrix: Float64Array, n: number): Float64Array {
  const { d, e } = tridiagonalize(Float64Array.from(matrix), n);
  return tridiagonalEigenvalues(d, e);
}
