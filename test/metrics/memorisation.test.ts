// Memorisation: planted copies of training images (exact, JPEG-recompressed, mirrored, slightly
// cropped) are flagged among synthetic images, unrelated real images of the same class are not,
// and the ONNX nearest-neighbour search gives numpy's answer on the same features.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../metrics/extractors/builtin.ts';
import { memorisation, nearestByCosine, unitRows } from '../../metrics/memorisation.ts';
import { NumpyRandomState } from '../../metrics/random/numpy-random-state.ts';
import { hasKvasir, kvasirImages, python, tempDir, trainedExtractorDir, writeNpy } from './helpers.ts';

const run = promisify(execFile);

describe('nearest neighbours', () => {
  it("equals numpy's argmax and max of the cosine matrix", async () => {
    const rng = new NumpyRandomState(3);
    const [m, n, d] = [300, 500, 64];
    const q = unitRows(Float32Array.from({ length: m * d }, () => rng.interval(2000) / 1000 - 1), m, d);
    const b = unitRows(Float32Array.from({ length: n * d }, () => rng.interval(2000) / 1000 - 1), n, d);
    const ours = await nearestByCosine(q, m, b, n, d, 128);
    const dir = await tempDir();
    await writeNpy(path.join(dir, 'q.npy'), q, [m, d]);
    await writeNpy(path.join(dir, 'b.npy'), b, [n, d]);
    const script = `import numpy as np, json, sys; q = np.load(sys.argv[1]); b = np.load(sys.argv[2]); s = q @ b.T; print(json.dumps({"i": s.argmax(1).tolist(), "v": s.max(1).tolist()}))`;
    const ref = JSON.parse((await run(python, ['-c', script, path.join(dir, 'q.npy'), path.join(dir, 'b.npy')])).stdout) as { i: number[]; v: number[] };
    expect(Array.from(ours.index)).toEqual(ref.i);
    for (let i = 0; i < m; i++) expect(ours.value[i]).toBeCloseTo(ref.v[i]!, 5);
  });
});

describe.skipIf(!hasKvasir)('memorisation on kvasir-mini', () => {
  it.each(['polyp', 'cecum'])('%s: planted copies flagged, unrelated real images of the class not', async (cls) => {
    const training = kvasirImages(cls, 40);
    const dir = await tempDir('medsynth-planted-');
    const plant = async (name: string, image: ReturnType<typeof sharp>) => {
      const out = path.join(dir, `${name}.png`);
      await image.png().toFile(out);
      return out;
    };
    const planted = [
      await plant('exact', sharp(training[0]!)),
      await plant('jpeg', sharp(await sharp(training[1]!).jpeg({ quality: 50 }).toBuffer())),
      await plant('mirrored', sharp(training[2]!).flop()),
      await plant('cropped', sharp(training[3]!).extract({ left: 6, top: 6, width: 243, height: 243 }).resize(256, 256)),
    ];
    const unrelated = kvasirImages(cls, 20, 40);
    const extractor = defaultRegistry(await trainedExtractorDir()).get('efficientnet-lite0');
    const result = await memorisation({ synthetic: [...planted, ...unrelated], training, extractor, cacheDir: path.join(dir, 'cache') });
    const by = new Map(result.pairs.map((p) => [p.synthetic, p]));
    for (const [i, p] of planted.entries()) {
      expect(by.get(p)!.flagged, `${path.basename(p)}: cosine ${by.get(p)!.byFeatures.cosine}, correlation ${by.get(p)!.byPixels.correlation}`).toBe(true);
      // the copy's nearest training image is the one it was made from
      expect([by.get(p)!.byFeatures.training, by.get(p)!.byPixels.training]).toContain(training[i]);
    }
    expect(by.get(planted[2]!)!.byPixels.mirrored).toBe(true);
    expect(unrelated.filter((u) => by.get(u)!.flagged)).toEqual([]);
    expect(result.flagged).toBe(4);
    expect(result.flaggedFraction).toBeCloseTo(4 / 24, 12);
  }, 300_000);
});
