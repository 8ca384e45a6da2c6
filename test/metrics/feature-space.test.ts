// The features protocol with the trained EfficientNet-Lite0 on real endoscopy images
// (../shared/data/kvasir-mini): its numbers must rank image sets the way a person would.
// Same-class sets are closer than cross-class ones; FD and KID grow as one set is disturbed more
// (Gaussian noise, blur, JPEG loss: the disturbance experiments of Heusel et al. 2017);
// precision falls when the generated set is replaced by noise.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate, type EvaluationResult } from '../../metrics/index.ts';
import { inFeatureSpace, KEY_FD, KEY_PRECISION } from '../../metrics/keys.ts';
import { hasKvasir, kvasirImages, tempDir, trainedExtractorDir } from './helpers.ts';

const N = 40;
const FD = inFeatureSpace(KEY_FD, 'efficientnet-lite0');
const KID = `${inFeatureSpace('kid', 'efficientnet-lite0')}_mean`;
const PRECISION = inFeatureSpace(KEY_PRECISION, 'efficientnet-lite0');

/** A seeded standard normal (Box-Muller on a small LCG), so the noise is the same every run. */
function normal(seed: number): () => number {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 1) / 4294967297;
  return () => Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
}

type Disturbance = (image: Sharp, level: number, index: number) => Promise<Buffer>;

const disturbances: Record<string, { levels: number[]; apply: Disturbance }> = {
  'gaussian noise (sigma, 0..255)': {
    levels: [8, 24, 64],
    async apply(image, sigma, index) {
      const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
      const draw = normal(1000 + index);
      for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, Math.round(data[i]! + sigma * draw())));
      return sharp(data, { raw: info }).png().toBuffer();
    },
  },
  'gaussian blur (sigma, px)': { levels: [1, 3, 8], apply: (image, sigma) => image.blur(sigma).png().toBuffer() },
  // quality falls as the level rises; chroma subsampling adds loss at the low qualities
  'JPEG loss (100 - quality)': { levels: [70, 90, 98], apply: (image, loss) => image.jpeg({ quality: 100 - loss }).toBuffer() },
};

describe.skipIf(!hasKvasir)('features protocol: the trained extractor ranks real image sets sensibly', () => {
  let extractorDir: string;
  let cacheDir: string;
  let work: string;
  const polypA = () => kvasirImages('polyp', N, 0);
  const polypB = () => kvasirImages('polyp', N, N);

  const score = (real: string[], fake: string[]): Promise<EvaluationResult> =>
    evaluate({ protocol: 'features', real, fake, extractorDir, cacheDir, kid: { subsetSize: 20, subsets: 50 } });

  beforeAll(async () => {
    extractorDir = await trainedExtractorDir();
    work = await tempDir('medsynth-feature-space-');
    cacheDir = path.join(work, 'cache');
  }, 300_000);

  it('says which extractor made the numbers, with trained weights and no random-weight warning', async () => {
    const r = await score(polypA(), polypB());
    expect(r.extractor.name).toBe('efficientnet-lite0');
    expect(r.note).toMatch(/not FID/);
    expect(Object.keys(r.metrics)).toEqual(expect.arrayContaining([FD, KID, PRECISION]));
    expect(r.warnings.join('\n')).not.toMatch(/random weights/);
  });

  it('puts two sets of one class closer than sets of different classes', async () => {
    const same = await score(polypA(), polypB());
    for (const other of ['esophagitis', 'cecum', 'instrument']) {
      const cross = await score(polypA(), kvasirImages(other, N));
      expect(same.metrics[FD], `polyp vs ${other}`).toBeLessThan(cross.metrics[FD]!);
      expect(same.metrics[KID], `polyp vs ${other}`).toBeLessThan(cross.metrics[KID]!);
    }
  });

  for (const [name, { levels, apply }] of Object.entries(disturbances)) {
    it(`FD and KID grow with ${name}`, async () => {
      const fds: number[] = [];
      const kids: number[] = [];
      for (const level of [0, ...levels]) {
        const dir = path.join(work, name.replace(/\W+/g, '-'), String(level));
        await mkdir(dir, { recursive: true });
        const files = await Promise.all(
          polypB().map(async (file, i) => {
            if (level === 0) return file;
            const out = path.join(dir, `${i}.${name.startsWith('JPEG') ? 'jpg' : 'png'}`);
            await sharp(await apply(sharp(file).removeAlpha(), level, i)).toFile(out);
            return out;
          }),
        );
        const r = await score(polypA(), files);
        fds.push(r.metrics[FD]!);
        kids.push(r.metrics[KID]!);
      }
      for (let i = 1; i < fds.length; i++) {
        expect(fds[i], `FD at levels ${fds.map((v) => v.toFixed(1)).join(' < ')}`).toBeGreaterThan(fds[i - 1]!);
        expect(kids[i], `KID at levels ${kids.map((v) => v.toFixed(4)).join(' < ')}`).toBeGreaterThan(kids[i - 1]!);
      }
    }, 120_000);
  }

  it('loses precision when the generated set is replaced by noise', async () => {
    const dir = path.join(work, 'noise');
    await mkdir(dir, { recursive: true });
    const noise = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const draw = normal(7 + i);
        const data = Buffer.alloc(224 * 224 * 3, 0).map(() => Math.max(0, Math.min(255, Math.round(128 + 60 * draw()))));
        const file = path.join(dir, `${i}.png`);
        await sharp(data, { raw: { width: 224, height: 224, channels: 3 } }).png().toFile(file);
        return file;
      }),
    );
    const real = await score(polypA(), polypB());
    const fake = await score(polypA(), noise);
    expect(real.metrics[PRECISION]).toBeGreaterThan(0.5);
    expect(fake.metrics[PRECISION]).toBeLessThan(real.metrics[PRECISION]! / 2);
  });

  it('warns when the sets share images, and when the KID std cannot mean anything', async () => {
    const same = await score(polypA(), polypA());
    expect(same.warnings.join('\n')).toMatch(/40 of 40 fake image\(s\) have the same bytes/);
    expect(same.metrics[KID]).toBeLessThan(0); // the unbiased estimate on identical sets
    const whole = await evaluate({ protocol: 'features', real: polypA(), fake: polypB(), extractorDir, cacheDir, kid: { subsetSize: N } });
    expect(whole.warnings.join('\n')).toMatch(/subset size \(40\) equals the size of both sets/);
    const apart = await score(polypA(), polypB());
    expect(apart.warnings.join('\n')).not.toMatch(/same bytes|equals the size/);
  });
});
