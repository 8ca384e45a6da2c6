// Precision, recall, density and coverage (Naeem et al. 2020, k-nearest-neighbour balls), as
// their reference code (clovaai/generative-evaluation-prdc) defines them, with Euclidean
// distances from blocks of Gram matrices so that no N x N matrix is ever held.
import type { FeatureMatrix } from './features/feature-matrix.ts';
import { matmul, transpose } from './linalg/gemm.ts';

export interface PrdcResult {
  precision: number;
  recall: number;
  density: number;
  coverage: number;
  k: number;
}

const BLOCK = 512;

function squaredNorms(x: Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j]! ** 2;
    out[i] = s;
  }
  return out;
}

/** Calls visit(i0, rows, dist) with Euclidean distances of rows i0.. of A to every row of B. */
async function forDistanceBlocks(
  a: Float64Array,
  na: number,
  b: Float64Array,
  nb: number,
  d: number,
  visit: (i0: number, rows: number, dist: Float64Array) => void,
): Promise<void> {
  const bt = transpose(b, nb, d);
  const an = squaredNorms(a, na, d);
  const bn = squaredNorms(b, nb, d);
  for (let i0 = 0; i0 < na; i0 += BLOCK) {
    const rows = Math.min(BLOCK, na - i0);
    const dots = await matmul(a.subarray(i0 * d, (i0 + rows) * d), rows, d, bt, nb);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < nb; j++) {
        dots[i * nb + j] = Math.sqrt(Math.max(0, an[i0 + i]! + bn[j]! - 2 * dots[i * nb + j]!));
      }
    }
    visit(i0, rows, dots);
  }
}

/** The (k+1)-th smallest value of the row with row[self] taken as 0, by insertion into a sorted buffer. */
function kthSmallestWithSelf(row: Float64Array, self: number, k: number): number {
  const best = new Float64Array(k + 1).fill(Infinity);
  for (let j = 0; j < row.length; j++) {
    const v = j === self ? 0 : row[j]!;
    if (v >= best[k]!) continue;
    let p = k;
    while (p > 0 && best[p - 1]! > v) {
      best[p] = best[p - 1]!;
      p--;
    }
    best[p] = v;
  }
  return best[k]!;
}

/** Distance of each row to its k-th nearest neighbour in the same set (itself excluded). */
async function kthNeighbourRadii(x: Float64Array, n: number, d: number, k: number): Promise<Float64Array> {
  const radii = new Float64Array(n);
  await forDistanceBlocks(x, n, x, n, d, (i0, rows, dist) => {
    for (let i = 0; i < rows; i++) {
      // the (k+1)-th smallest including the zero self-distance, as np.partition(..., k+1)[:k+1].max()
      radii[i0 + i] = kthSmallestWithSelf(dist.subarray(i * n, (i + 1) * n), i0 + i, k);
    }
  });
  return radii;
}

export async function prdc(real: FeatureMatrix, fake: FeatureMatrix, k = 5): Promise<PrdcResult> {
  const nr = real.rows;
  const nf = fake.rows;
  const d = real.dim;
  if (nr <= k || nf <= k) throw new Error(`PRDC with k=${k} needs more than ${k} images per set, got ${nr} real and ${nf} fake`);
  const r = real.toFloat64();
  const f = fake.toFloat64();
  const realRadii = await kthNeighbourRadii(r, nr, d, k);
  const fakeRadii = await kthNeighbourRadii(f, nf, d, k);
  let precisionHits = 0;
  let densityCount = 0;
  const recalled = new Uint8Array(nr);
  const nearestFake = new Float64Array(nr).fill(Infinity);
  await forDistanceBlocks(f, nf, r, nr, d, (j0, rows, dist) => {
    for (let j = 0; j < rows; j++) {
      let inside = 0;
      for (let i = 0; i < nr; i++) {
        const dij = dist[j * nr + i]!;
        if (dij < realRadii[i]!) inside++;
        if (dij < fakeRadii[j0 + j]!) recalled[i] = 1;
        if (dij < nearestFake[i]!) nearestFake[i] = dij;
      }
      if (inside > 0) precisionHits++;
      densityCount += inside;
    }
  });
  let recall = 0;
  let coverage = 0;
  for (let i = 0; i < nr; i++) {
    recall += recalled[i]!;
    if (nearestFake[i]! < realRadii[i]!) coverage++;
  }
  return { precision: precisionHits / nf, recall: recall / nr, density: densityCount / (k * nf), coverage: coverage / nr, k };
}
