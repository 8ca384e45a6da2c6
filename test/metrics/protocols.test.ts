// The protocols end to end on real images (kvasir-mini when present, generated ones otherwise):
// the MEDVQA-GI 2024 computation against the organisers' steps on a real Keras model, bad inputs,
// the feature cache, per-category results and the 2025 pair scores.
import { mkdir, writeFile } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  evaluate,
  KEY_AGREEMENT,
  KEY_DIVERSITY,
  KEY_FBD,
  KEY_FID,
  KEY_FIDELITY,
  KEY_ISC_MEAN,
  KEY_KID_MEAN,
  KEY_MEDVQA2024_FID,
  KEY_MEDVQA2024_IS_MEAN,
  KEY_MEDVQA2024_IS_MEDIAN,
  KEY_MEDVQA2024_IS_STD,
  KEY_PRECISION,
} from '../../metrics/index.ts';
import { agreement, diversity } from '../../metrics/medvqa2025.ts';
import { FeatureMatrix } from '../../metrics/features/feature-matrix.ts';
import { defaultMetrics } from '../../metrics/builtin-metrics.ts';
import { listImages } from '../../metrics/images/list-images.ts';
import { MEDVQA_GI_2024, PROTOCOLS } from '../../metrics/protocols/protocols.ts';
import { hasKvasir, kvasirImages, randomExtractorDir, python, reference, tempDir, writeNpy } from './helpers.ts';

/** n distinct generated images (smooth gradients with shapes), for machines without ../shared/data */
async function generatedImages(dir: string, n: number, seed: number): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files = [];
  for (let i = 0; i < n; i++) {
    const w = 200 + ((i * 37 + seed) % 80);
    const data = Buffer.alloc(w * 180 * 3);
    for (let p = 0; p < w * 180; p++) {
      const x = p % w;
      const y = Math.floor(p / w);
      data[p * 3] = (x * (3 + seed) + i * 11) % 256;
      data[p * 3 + 1] = (y * 2 + ((x * y) >> (4 + (i % 3)))) % 256;
      data[p * 3 + 2] = (128 + 100 * Math.sin((x + y * i) / (10 + seed))) | 0;
    }
    const file = path.join(dir, `img-${seed}-${i}.png`);
    await sharp(data, { raw: { width: w, height: 180, channels: 3 } }).png().toFile(file);
    files.push(file);
  }
  return files;
}

async function imageSets(n1: number, n2: number): Promise<{ real: string[]; fake: string[] }> {
  if (hasKvasir) return { real: kvasirImages('polyp', n1), fake: kvasirImages('cecum', n2) };
  const dir = await tempDir();
  return { real: await generatedImages(path.join(dir, 'real'), n1, 1), fake: await generatedImages(path.join(dir, 'fake'), n2, 2) };
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('medvqa-gi-2024', () => {
  it("reproduces the organisers' computation (np.resize, Keras InceptionV3 softmax, FID and 10-part IS)", async () => {
    const { real, fake } = await imageSets(12, 20);
    const dir = await tempDir();
    const out = path.join(dir, 'reference.json');
    const [extractorDir] = await Promise.all([
      randomExtractorDir(['keras-inception-v3']),
      reference('medvqa2024_reference.py', out, '0', '--real', ...real, '--fake', ...fake),
    ]);
    const ref = JSON.parse(await readFile(out, 'utf8'));
    const result = await evaluate({ protocol: 'medvqa-gi-2024', real, fake, extractorDir, cacheDir: false });
    expect(result.counts).toMatchObject({ real: 12, fake: 20 });
    expect(result.note).toMatch(/NOT comparable with standard FID/);
    // float32 Keras/numpy vs float64 here, and a rank-deficient covariance product for scipy's sqrtm
    expect(rel(result.metrics[KEY_MEDVQA2024_FID]!, ref.fid)).toBeLessThan(2e-3);
    expect(rel(result.metrics[KEY_MEDVQA2024_IS_MEAN]!, ref.is_avg)).toBeLessThan(1e-5);
    expect(rel(result.metrics[KEY_MEDVQA2024_IS_STD]!, ref.is_std)).toBeLessThan(1e-3);
    expect(rel(result.metrics[KEY_MEDVQA2024_IS_MEDIAN]!, ref.is_med)).toBeLessThan(1e-5);
  });
});

describe('standard protocol', () => {
  let extractorDir = '';
  let sets: { real: string[]; fake: string[] };
  beforeAll(async () => {
    [extractorDir, sets] = await Promise.all([randomExtractorDir(['inception-fid']), imageSets(24, 24)]);
  });

  it('evaluates the rest and lists an unreadable image among good ones; a second run extracts nothing', async () => {
    const dir = await tempDir();
    const broken = path.join(dir, 'broken.jpg');
    await writeFile(broken, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    const cacheDir = path.join(dir, 'cache');
    const fake = [...sets.fake, broken];
    const progress: number[] = [];
    const first = await evaluate({ protocol: 'standard', real: sets.real, fake, extractorDir, cacheDir, kid: { subsets: 5 }, onProgress: (p) => progress.push(p.done) });
    expect(first.counts).toMatchObject({ real: 24, fake: 24, failed: 1, extracted: 48, cached: 0 });
    expect(first.failed.map((f) => f.path)).toEqual([broken]);
    expect(first.warnings.join('\n')).toContain(broken);
    for (const key of [KEY_FID, KEY_KID_MEAN, KEY_ISC_MEAN, KEY_PRECISION]) expect(Number.isFinite(first.metrics[key])).toBe(true);
    expect(first.warnings.join('\n')).toMatch(/24 samples < 2048 feature dimensions/);
    expect(progress.length).toBeGreaterThan(2);
    const second = await evaluate({ protocol: 'standard', real: sets.real, fake, extractorDir, cacheDir, kid: { subsets: 5 } });
    expect(second.counts).toMatchObject({ extracted: 0, cached: 48 });
    expect(second.metrics[KEY_FID]).toBe(first.metrics[KEY_FID]);
  });

  it('reports per category with sample counts', async () => {
    const categories = new Map<string, string>();
    [...sets.real, ...sets.fake].forEach((p, i) => categories.set(p, i % 2 ? 'odd' : 'even'));
    const r = await evaluate({ protocol: 'standard', real: sets.real, fake: sets.fake, extractorDir, byCategory: true, categories, cacheDir: false, kid: { subsets: 3 } });
    expect(Object.keys(r.categories!)).toEqual(['even', 'odd']);
    expect(r.categories!.even!.counts).toEqual({ real: 12, fake: 12 });
    expect(Number.isFinite(r.categories!.even!.metrics[KEY_FID])).toBe(true);
  });

  it('gives clear errors for an empty set, a single image and a folder without images', async () => {
    const dir = await tempDir();
    const opts = { protocol: 'standard', extractorDir, cacheDir: false as const };
    await expect(evaluate({ ...opts, real: sets.real, fake: [] })).rejects.toThrow(/fake: no readable images/);
    await expect(evaluate({ ...opts, real: sets.real.slice(0, 1), fake: sets.fake })).rejects.toThrow(/real: only 1 readable image/);
    await expect(evaluate({ ...opts, real: dir, fake: sets.fake })).rejects.toThrow(/real: no readable images/);
    await expect(evaluate({ ...opts, real: path.join(dir, 'nope'), fake: sets.fake })).rejects.toThrow(/is not a folder/);
    await expect(evaluate({ ...opts, protocol: 'fid-please', real: sets.real, fake: sets.fake })).rejects.toThrow(/unknown protocol/);
  });
});

describe('medvqa-gi-2025', () => {
  it('agreement and diversity follow their definitions', () => {
    const a = FeatureMatrix.fromFloat64(Float64Array.from([1, 0, 0, 2]), 2); // unit vectors e1, e2
    const b = FeatureMatrix.fromFloat64(Float64Array.from([3, 0]), 2);
    expect(agreement(a, b)).toBeCloseTo(0.5, 12);
    expect(diversity(a)).toBeCloseTo(Math.SQRT2, 12);
  });

  it('scores prompt pairs and FBD from prompt folders', async () => {
    const dir = await tempDir();
    const { real, fake: pool } = await imageSets(10, 12);
    const fakeDir = path.join(dir, 'fake');
    for (const [i, file] of pool.entries()) {
      const prompt = ['p1', 'p2', 'p3'][i % 3]!;
      await mkdir(path.join(fakeDir, prompt), { recursive: true });
      await writeFile(path.join(fakeDir, prompt, path.basename(file)), await readFile(file));
    }
    const extractorDir = await randomExtractorDir(['biomedclip']);
    const r = await evaluate({ protocol: 'medvqa-gi-2025', real, fake: fakeDir, extractorDir, cacheDir: false, pairs: [{ a: 'p1', b: 'p2' }] });
    expect(r.counts).toMatchObject({ real: 10, fake: 12 });
    for (const key of [KEY_FBD, KEY_AGREEMENT, KEY_DIVERSITY, KEY_FIDELITY]) expect(Number.isFinite(r.metrics[key]), key).toBe(true);
    const pairs = r.details.pairs as { images: { a: number; b: number; real: number }; fidelity: number; fid: { a: number; b: number } }[];
    expect(pairs).toHaveLength(1);
    expect(pairs[0]!.images).toEqual({ a: 4, b: 4, real: 10 });
    expect(pairs[0]!.fidelity).toBeCloseTo(100 / (1 + (pairs[0]!.fid.a + pairs[0]!.fid.b) / 2), 9);
  });

  it("equals the organisers' formulas on the same features, in official and corrected mode (1e-6)", async () => {
    const dim = 24;
    const prompts = Array.from({ length: 8 }, (_, p) => `prompt${String(p + 1).padStart(4, '0')}`);
    const perPrompt = 6;
    const rng = (() => {
      let s = 12345;
      return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    })();
    const fakeData = new Float64Array(prompts.length * perPrompt * dim).map((_, i) => rng() + (Math.floor(i / (perPrompt * dim)) % 3) * 0.3);
    const realData = new Float64Array(30 * dim).map(() => rng() + 0.1);
    const fake = FeatureMatrix.fromFloat64(fakeData, dim);
    const realM = FeatureMatrix.fromFloat64(realData, dim);
    const fakePaths = prompts.flatMap((p) => Array.from({ length: perPrompt }, (_, i) => `/fake/${p}/${i}.png`));
    const labels = new Map(fakePaths.map((f) => [f, f.split('/')[2]!]));
    // the reference reads the same float32 values the engine holds
    const dir = await tempDir();
    await writeNpy(path.join(dir, 'fake.npy'), fake.toFloat64(), [fake.rows, dim]);
    await writeNpy(path.join(dir, 'real.npy'), realM.toFloat64(), [realM.rows, dim]);
    await writeFile(path.join(dir, 'prompts.json'), JSON.stringify(fakePaths.map((f) => Number(labels.get(f)!.slice('prompt'.length)))));
    await reference('medvqa2025_reference.py', dir);
    const want = JSON.parse(await readFile(path.join(dir, 'reference.json'), 'utf8')) as Record<string, Record<string, number>>;
    const metric = defaultMetrics().get('medvqa-gi-2025');
    for (const mode of ['official', 'corrected'] as const) {
      const out = await metric.compute({
        real: { paths: Array.from({ length: realM.rows }, (_, i) => `/real/${i}.png`), features: new Map([['cls', realM]]) },
        fake: { paths: fakePaths, features: new Map([['cls', fake]]) },
        options: { fakeLabels: labels, medvqa2025Mode: mode },
      });
      expect(out.details?.scoredPairs, mode).toBe(want[mode]!.pairs);
      for (const [ours, theirs] of [[KEY_FIDELITY, 'fidelity'], [KEY_AGREEMENT, 'agreement'], [KEY_DIVERSITY, 'diversity'], [KEY_FBD, 'FBD']] as const) {
        const w = want[mode]![theirs]!;
        expect(Math.abs(out.values[ours]! - w) / Math.abs(w), `${mode} ${theirs}: ${out.values[ours]} vs ${w}`).toBeLessThan(1e-6);
      }
      if (mode === 'official') expect(out.warnings?.join('\n')).toMatch(/scores 2 of 4 prompt pairs/);
    }
  });
});

describe('medvqa-gi-2024 official file order', () => {
  it("reads one folder in os.listdir order with the script's extension filter", async () => {
    const dir = await tempDir();
    const { fake } = await imageSets(2, 6);
    const names = ['k.png', 'b.jpg', 'z.jpeg', 'a.png', 'm.PNG', 'q.gif', 'c.png', 'xpng'];
    for (const [i, name] of names.entries()) await writeFile(path.join(dir, name), await readFile(fake[i % fake.length]!));
    await mkdir(path.join(dir, 'sub.png'));
    const { execFile } = await import('node:child_process');
    const listed = await new Promise<string[]>((resolve, reject) =>
      execFile(python, ['-c', `import os, json; print(json.dumps([f for f in os.listdir(${JSON.stringify(dir)}) if f.endswith(('png', 'jpg', 'jpeg')) and os.path.isfile(os.path.join(${JSON.stringify(dir)}, f))]))`], (err, out) =>
        err ? reject(err) : resolve(JSON.parse(out) as string[]),
      ),
    );
    const protocol = PROTOCOLS[MEDVQA_GI_2024]!;
    const ours = await listImages(dir, 'fake', protocol.fileFilter, 'listdir');
    expect(ours.paths.map((p) => path.basename(p))).toEqual(listed);
    expect(listed).not.toContain('m.PNG');
    const sorted = await listImages(dir, 'fake', protocol.fileFilter);
    // sorted mode also wants a known image extension: 'xpng' is the script's alone
    expect(sorted.paths.map((p) => path.basename(p))).toEqual(listed.filter((n) => n !== 'xpng').sort());
  });
});
