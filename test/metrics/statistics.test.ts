// FID, KID, IS and PRDC on fixed feature matrices against the references' own functions
// (torch-fidelity, pytorch-fid, numpy/scipy), plus closed forms.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FeatureMatrix } from '../../metrics/features/feature-matrix.ts';
import { fidOfFeatures, frechetDistance } from '../../metrics/fid.ts';
import { fidBootstrap } from '../../metrics/fid-bootstrap.ts';
import { inceptionScore } from '../../metrics/isc.ts';
import { kid } from '../../metrics/kid.ts';
import { gaussianOf } from '../../metrics/linalg/statistics.ts';
import { symmetricEigenvalues, tridiagonalEigenvalues } from '../../metrics/linalg/symmetric-eigenvalues.ts';
import { tridiagonalizeBlocked } from '../../metrics/linalg/tridiagonalize-blocked.ts';
import { prdc } from '../../metrics/prdc.ts';
import { NumpyRandomState } from '../../metrics/random/numpy-random-state.ts';
import { reference, tempDir, writeNpy } from './helpers.ts';

/** Deterministic correlated features: rows of z * mixing + offset, with a normal-ish z. */
function features(n: number, d: number, seed: number, shift = 0, scale = 1): Float64Array {
  let s = seed;
  const u = () => ((s = (s * 48271) % 2147483647) / 2147483647);
  const z = () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
  const mix = Float64Array.from({ length: d * d }, () => (u() < 0.1 ? z() * 0.5 : 0));
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const zi = Float64Array.from({ length: d }, z);
    for (let j = 0; j < d; j++) {
      let v = zi[j]! * scale + shift + 0.01 * j;
      for (let k = 0; k < d; k++) v += zi[k]! * mix[k * d + j]!;
      out[i * d + j] = v;
    }
  }
  return out;
}

async function referenceFor(x: Float64Array, y: Float64Array, d: number, params: object): Promise<Record<string, any>> {
  const dir = await tempDir();
  await writeNpy(path.join(dir, 'x.npy'), x, [x.length / d, d]);
  await writeNpy(path.join(dir, 'y.npy'), y, [y.length / d, d]);
  await import('node:fs/promises').then((fs) => fs.writeFile(path.join(dir, 'params.json'), JSON.stringify(params)));
  await reference('metrics_reference.py', dir);
  return JSON.parse(await readFile(path.join(dir, 'reference.json'), 'utf8'));
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('FID', () => {
  it('equals numpy/scipy, pytorch-fid and torch-fidelity on fixed features (1e-6 relative)', async () => {
    const d = 64;
    const x = features(300, d, 1);
    const y = features(250, d, 2, 0.3, 1.2);
    const ref = await referenceFor(x, y, d, { fid: true });
    const ours = (await fidOfFeatures(FeatureMatrix.fromFloat64(x, d), FeatureMatrix.fromFloat64(y, d))).value;
    expect(rel(ours, ref.fid_numpy)).toBeLessThan(1e-6);
    expect(rel(ours, ref.fid_pytorch_fid)).toBeLessThan(1e-6);
    expect(rel(ours, ref.fid_torch_fidelity)).toBeLessThan(1e-6);
  });

  it('matches torch-fidelity with fewer samples than dimensions (singular covariances)', async () => {
    const d = 96;
    const x = features(40, d, 3);
    const y = features(50, d, 4, 0.2);
    const ref = await referenceFor(x, y, d, { fid: true });
    const ours = (await fidOfFeatures(FeatureMatrix.fromFloat64(x, d), FeatureMatrix.fromFloat64(y, d))).value;
    expect(rel(ours, ref.fid_torch_fidelity)).toBeLessThan(1e-6);
  });

  it('bootstrap interval equals a numpy/scipy bootstrap with the same RandomState draws (1e-6)', async () => {
    const d = 12;
    const x = features(40, d, 21);
    const y = features(35, d, 22, 0.3);
    const params = { resamples: 30, seed: 5, level: 0.9 };
    const ref = await referenceFor(x, y, d, { bootstrap: params });
    const r = await fidBootstrap(FeatureMatrix.fromFloat64(x, d), FeatureMatrix.fromFloat64(y, d), params.resamples, params.seed, params.level);
    expect(rel(r.low, ref.bootstrap.low)).toBeLessThan(1e-6);
    expect(rel(r.high, ref.bootstrap.high)).toBeLessThan(1e-6);
    expect(r.low).toBeLessThan(r.high);
  });

  it('is zero for identical sets', async () => {
    const d = 32;
    const m = FeatureMatrix.fromFloat64(features(200, d, 5), d);
    expect(Math.abs((await fidOfFeatures(m, m)).value)).toBeLessThanOrEqual(1e-6);
  });

  it('gives the closed form for two Gaussians with diagonal covariances', async () => {
    const d = 16;
    const mu1 = Float64Array.from({ length: d }, (_, i) => i * 0.1);
    const mu2 = Float64Array.from({ length: d }, (_, i) => 1 - i * 0.05);
    const v1 = Float64Array.from({ length: d }, (_, i) => 1 + i);
    const v2 = Float64Array.from({ length: d }, (_, i) => 4 / (1 + i));
    const diag = (v: Float64Array) => {
      const s = new Float64Array(d * d);
      v.forEach((x, i) => (s[i * d + i] = x));
      return s;
    };
    let expected = 0;
    for (let i = 0; i < d; i++) expected += (mu1[i]! - mu2[i]!) ** 2 + v1[i]! + v2[i]! - 2 * Math.sqrt(v1[i]! * v2[i]!);
    const { value } = await frechetDistance({ mu: mu1, sigma: diag(v1), n: 100, dim: d }, { mu: mu2, sigma: diag(v2), n: 100, dim: d });
    expect(rel(value, expected)).toBeLessThan(1e-12);
  });

  it('computes the covariance as np.cov does', async () => {
    const d = 3;
    const m = FeatureMatrix.fromFloat64(Float64Array.from([1, 2, 3, 2, 4, 7, 0, 1, 1, 5, 5, 2]), d);
    const g = await gaussianOf(m);
    expect(Array.from(g.mu)).toEqual([2, 3, 3.25]);
    expect(g.sigma[0]).toBeCloseTo(14 / 3, 12); // var of [1,2,0,5]
  });
});

describe('symmetric eigenvalues', () => {
  it('equal numpy.linalg.eigvalsh', async () => {
    const d = 40;
    const x = features(60, d, 9);
    const g = await gaussianOf(FeatureMatrix.fromFloat64(x, d));
    const ref = await referenceFor(g.sigma, g.sigma, d, { eig: true });
    const ours = Array.from(symmetricEigenvalues(g.sigma, d)).sort((a, b) => a - b);
    ours.forEach((v, i) => expect(Math.abs(v - ref.eigenvalues[i])).toBeLessThan(1e-10 * ref.eigenvalues.at(-1)));
  });
});

describe('blocked tridiagonal reduction (the path of matrices over 256 rows)', () => {
  it('gives numpy.linalg.eigvalsh eigenvalues and the FID of the references', async () => {
    const d = 320;
    const x = features(400, d, 21);
    const y = features(380, d, 22, 0.05);
    const g = await gaussianOf(FeatureMatrix.fromFloat64(x, d));
    const [eigRef, fidRef] = await Promise.all([referenceFor(g.sigma, g.sigma, d, { eig: true }), referenceFor(x, y, d, { fid: true })]);
    const { d: diag, e } = await tridiagonalizeBlocked(g.sigma, d);
    const ours = Array.from(tridiagonalEigenvalues(diag, e)).sort((a, b) => a - b);
    ours.forEach((v, i) => expect(Math.abs(v - eigRef.eigenvalues[i])).toBeLessThan(1e-10 * eigRef.eigenvalues.at(-1)));
    const fid = (await fidOfFeatures(FeatureMatrix.fromFloat64(x, d), FeatureMatrix.fromFloat64(y, d))).value;
    expect(rel(fid, fidRef.fid_torch_fidelity)).toBeLessThan(1e-6);
  });
});

describe('numpy RandomState', () => {
  it('permutes and chooses as numpy does for the same seed', async () => {
    const ref = await referenceFor(new Float64Array(1), new Float64Array(1), 1, { rng: { seed: 2020, n: 1000, size: 100 } });
    const rng = new NumpyRandomState(2020);
    expect(Array.from(rng.permutation(1000))).toEqual(ref.permutation);
    expect(Array.from(rng.choiceWithoutReplacement(1000, 100))).toEqual(ref.choice);
  });
});

describe('KID, IS, PRDC', () => {
  it("KID equals torch-fidelity's kid_features_to_metric for the same subsets (1e-6 relative)", async () => {
    const d = 48;
    const x = features(120, d, 11);
    const y = features(90, d, 12, 0.1);
    const ref = await referenceFor(x, y, d, { kid: { kid_subsets: 10, kid_subset_size: 50, rng_seed: 2020 } });
    const r = await kid(FeatureMatrix.fromFloat64(x, d), FeatureMatrix.fromFloat64(y, d), { subsets: 10, subsetSize: 50, seed: 2020 });
    expect(rel(r.mean, ref.kid_mean)).toBeLessThan(1e-6);
    expect(rel(r.std, ref.kid_std)).toBeLessThan(1e-6);
    // few small subsets: the engine takes the per-subset dot products instead of one Gram matrix
    const few = await referenceFor(x, y, d, { kid: { kid_subsets: 3, kid_subset_size: 20, rng_seed: 7 } });
    const s = await kid(FeatureMatrix.fromFloat64(x, d), FeatureMatrix.fromFloat64(y, d), { subsets: 3, subsetSize: 20, seed: 7 });
    expect(rel(s.mean, few.kid_mean)).toBeLessThan(1e-6);
    expect(rel(s.std, few.kid_std)).toBeLessThan(1e-6);
  });

  it("IS equals torch-fidelity's isc_features_to_metric (1e-6 relative)", async () => {
    const d = 20;
    const y = features(105, d, 13, 0, 2);
    const ref = await referenceFor(y, y, d, { isc: { splits: 10, shuffle: true, rng_seed: 2020 } });
    const r = inceptionScore(FeatureMatrix.fromFloat64(y, d), { splits: 10, seed: 2020 });
    expect(rel(r.mean, ref.isc_mean)).toBeLessThan(1e-6);
    expect(rel(r.std, ref.isc_std)).toBeLessThan(1e-6);
  });

  it("PRDC equals Naeem et al.'s prdc.compute_prdc, on sets larger than the engine's 512-row blocks", async () => {
    const d = 24;
    const x = features(700, d, 14);
    const y = features(600, d, 15, 0.4);
    const ref = await referenceFor(x, y, d, { prdc: { k: 5 } });
    const r = await prdc(FeatureMatrix.fromFloat64(x, d), FeatureMatrix.fromFloat64(y, d), 5);
    expect(r.precision).toBeCloseTo(ref.prdc.precision, 12);
    expect(r.recall).toBeCloseTo(ref.prdc.recall, 12);
    expect(r.density).toBeCloseTo(ref.prdc.density, 12);
    expect(r.coverage).toBeCloseTo(ref.prdc.coverage, 12);
  });

  it('refuse too few samples clearly', async () => {
    const one = FeatureMatrix.fromFloat64(new Float64Array(8), 8);
    await expect(fidOfFeatures(one, one)).rejects.toThrow(/at least 2 samples/);
    expect(() => inceptionScore(FeatureMatrix.fromFloat64(new Float64Array(5 * 4), 4))).toThrow(/at least 10 images/);
  });
});
