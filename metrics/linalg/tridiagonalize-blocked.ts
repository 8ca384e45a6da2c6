// Blocked Householder tridiagonalisation (LAPACK dsytrd/dlatrd, lower): panels of NB reflectors
// are built with matrix-vector products on the panel's starting matrix (onnxruntime GEMV,
// corrected for the panel's earlier reflectors), then the trailing matrix gets one rank-2*NB
// update by GEMM. Reading the matrix once per reflector instead of reading and writing it makes
// this several times faster than the unblocked loop at n = 2048.
import { matmul, transpose } from './gemm.ts';
import { tridiagonalize } from './symmetric-eigenvalues.ts';

const NB = 32;
const UNBLOCKED_BELOW = 256;

export async function tridiagonalizeBlocked(matrix: Float64Array, n: number): Promise<{ d: Float64Array; e: Float64Array }> {
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  let a: Float64Array = Float64Array.from(matrix); // the trailing matrix, m x m, contiguous
  let m = n;
  let off = 0;
  const col = new Float64Array(n);
  const vpad = new Float64Array(n);
  const t1 = new Float64Array(NB);
  const t2 = new Float64Array(NB);
  while (m > UNBLOCKED_BELOW) {
    const nb = NB;
    const V = new Float64Array(m * nb);
    const W = new Float64Array(m * nb);
    for (let i = 0; i < nb; i++) {
      // column i updated by the panel's earlier reflectors: a[:, i] - V W[i]^T - W V[i]^T (rows >= i)
      for (let r = i; r < m; r++) {
        let s = a[i * m + r]!;
        const vr = r * nb;
        const vi = i * nb;
        for (let l = 0; l < i; l++) s -= V[vr + l]! * W[vi + l]! + W[vr + l]! * V[vi + l]!;
        col[r] = s;
      }
      d[off + i] = col[i]!;
      // reflector annihilating col[i+2..m)
      const alpha = col[i + 1]!;
      let sigma = 0;
      for (let r = i + 2; r < m; r++) sigma += col[r]! * col[r]!;
      vpad.fill(0, 0, m);
      vpad[i + 1] = 1;
      let tau = 0;
      let beta = alpha;
      if (sigma !== 0) {
        const norm = Math.sqrt(alpha * alpha + sigma);
        beta = alpha <= 0 ? norm : -norm;
        tau = (beta - alpha) / beta;
        const scale = 1 / (alpha - beta);
        for (let r = i + 2; r < m; r++) vpad[r] = col[r]! * scale;
      }
      e[off + i] = beta;
      for (let r = i + 1; r < m; r++) V[r * nb + i] = vpad[r]!;
      if (tau === 0) continue; // W column stays zero
      // y = A[i+1:, :] vpad (v is zero outside i+1..m)
      const rows = m - i - 1;
      const y = await matmul(a.subarray((i + 1) * m, m * m), rows, m, vpad.subarray(0, m), 1);
      for (let l = 0; l < i; l++) {
        let s1 = 0;
        let s2 = 0;
        for (let r = i + 1; r < m; r++) {
          s1 += W[r * nb + l]! * vpad[r]!;
          s2 += V[r * nb + l]! * vpad[r]!;
        }
        t1[l] = s1;
        t2[l] = s2;
      }
      let yv = 0;
      for (let k = 0; k < rows; k++) {
        const r = i + 1 + k;
        let s = y[k]!;
        for (let l = 0; l < i; l++) s -= V[r * nb + l]! * t1[l]! + W[r * nb + l]! * t2[l]!;
        s *= tau;
        y[k] = s;
        yv += s * vpad[r]!;
      }
      const k0 = -0.5 * tau * yv;
      for (let k = 0; k < rows; k++) W[(i + 1 + k) * nb + i] = y[k]! + k0 * vpad[i + 1 + k]!;
    }
    // trailing update: A' = A[nb:, nb:] - V' W'^T - W' V'^T, as A' = A22 - [V' W'] [W' V']^T
    const mp = m - nb;
    const x = new Float64Array(mp * 2 * nb);
    const yT = new Float64Array(mp * 2 * nb);
    for (let r = 0; r < mp; r++) {
      const src = (r + nb) * nb;
      x.set(V.subarray(src, src + nb), r * 2 * nb);
      x.set(W.subarray(src, src + nb), r * 2 * nb + nb);
      yT.set(W.subarray(src, src + nb), r * 2 * nb);
      yT.set(V.subarray(src, src + nb), r * 2 * nb + nb);
    }
    const p = await matmul(x, mp, 2 * nb, transpose(yT, mp, 2 * nb), mp);
    for (let r = 0; r < mp; r++) {
      const src = (r + nb) * m + nb;
      for (let c = 0; c < mp; c++) p[r * mp + c] = a[src + c]! - p[r * mp + c]!;
    }
    a = p;
    m = mp;
    off += nb;
  }
  const tail = tridiagonalize(a, m);
  d.set(tail.d.subarray(0, m), off);
  e.set(tail.e.subarray(0, m), off);
  return { d, e };
}
