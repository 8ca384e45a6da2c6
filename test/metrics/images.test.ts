// Decoding and the three protocols' resizes against the references' own code on the same files:
// torch-fidelity's TF1 bilinear, numpy's np.resize tiling, Pillow's bicubic + open_clip's crop.
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipPreprocess } from '../../metrics/images/clip-preprocess.ts';
import { decodeAsStored, decodeRgb } from '../../metrics/images/decode.ts';
import { npResizeTiling } from '../../metrics/images/np-resize.ts';
import { resizeTf1Bilinear } from '../../metrics/images/resize-tf1-bilinear.ts';
import { hasKvasir, kvasirDir, kvasirImages, readNpy, reference, tempDir } from './helpers.ts';

const medvqaDir = path.resolve(kvasirDir, '../medvqa-gi-2024-dev/images');

let files: string[] = [];
let dir = '';

beforeAll(async () => {
  dir = await tempDir();
  // generated: odd sizes, grey, RGBA, palette, 16-bit, upscaling and downscaling
  const noise = (w: number, h: number, c: number) => Buffer.from(Array.from({ length: w * h * c }, (_, i) => (i * 7919) % 251));
  const make = async (name: string, img: Sharp) => {
    const file = path.join(dir, name);
    await img.toFile(file);
    files.push(file);
  };
  await make('odd.png', sharp(noise(97, 131, 3), { raw: { width: 97, height: 131, channels: 3 } }).png());
  await make('wide.jpg', sharp(noise(400, 180, 3), { raw: { width: 400, height: 180, channels: 3 } }).jpeg({ quality: 92 }));
  await make('grey.png', sharp(noise(120, 90, 1), { raw: { width: 120, height: 90, channels: 1 } }).png());
  await make('rgba.png', sharp(noise(64, 80, 4), { raw: { width: 64, height: 80, channels: 4 } }).png());
  await make('opaque-rgba.png', sharp(noise(50, 70, 3), { raw: { width: 50, height: 70, channels: 3 } }).ensureAlpha(1).png());
  await make('small.png', sharp(noise(30, 20, 3), { raw: { width: 30, height: 20, channels: 3 } }).png({ palette: true }));
  if (hasKvasir) {
    files.push(...kvasirImages('polyp', 3), ...kvasirImages('esophagitis', 2));
    if (existsSync(medvqaDir)) files.push(...readdirSync(medvqaDir).sort().slice(0, 3).map((f) => path.join(medvqaDir, f)));
  }
  await reference('image_reference.py', dir, ...files);
});

describe('image preprocessing', () => {
  it("TF1 bilinear resize to 299 is bit-identical to torch-fidelity's", async () => {
    const ref = await readNpy(path.join(dir, 'tf1.npy'));
    const per = 3 * 299 * 299;
    for (const [i, file] of files.entries()) {
      const out = new Float32Array(per);
      resizeTf1Bilinear(await decodeRgb(await readFile(file)), 299, out);
      let maxDiff = 0;
      for (let k = 0; k < per; k++) maxDiff = Math.max(maxDiff, Math.abs(out[k]! - ref.data[i * per + k]!));
      expect(maxDiff, path.basename(file)).toBe(0);
    }
  });

  it("np.resize tiling equals numpy's on the pixel array as stored", async () => {
    const ref = await readNpy(path.join(dir, 'npresize.npy'));
    const per = 299 * 299 * 3;
    for (const [i, file] of files.entries()) {
      const out = new Float32Array(per);
      npResizeTiling(await decodeAsStored(await readFile(file)), 299, out);
      const plane = 299 * 299;
      let mismatches = 0;
      for (let k = 0; k < per; k++) if (out[(k % 3) * plane + Math.floor(k / 3)] !== ref.data[i * per + k]) mismatches++;
      expect(mismatches, path.basename(file)).toBe(0);
    }
  });

  // open_clip resizes an RGBA image with premultiplied alpha and drops alpha afterwards, and a
  // palette image with nearest-neighbour (Pillow's rule for mode P); we drop alpha and expand the
  // palette first, so those two kinds differ (rgba.png, small.png here), opaque RGB(A) does not
  it("BiomedCLIP preprocessing equals Pillow's bicubic resize + open_clip's crop and normalisation", async () => {
    const ref = await readNpy(path.join(dir, 'clip.npy'));
    const per = 3 * 224 * 224;
    for (const [i, file] of files.entries()) {
      if (file.endsWith('/rgba.png') || file.endsWith('/small.png')) continue;
      const out = new Float32Array(per);
      clipPreprocess(await decodeRgb(await readFile(file)), 224, out);
      let maxDiff = 0;
      for (let k = 0; k < per; k++) maxDiff = Math.max(maxDiff, Math.abs(out[k]! - ref.data[i * per + k]!));
      expect(maxDiff, path.basename(file)).toBeLessThanOrEqual(1e-6);
    }
  });

  it('decodes grey, alpha and 16-bit images to 8-bit RGB', async () => {
    const grey16 = await sharp(Buffer.alloc(8 * 8 * 2, 0x80), { raw: { width: 8, height: 8, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toBuffer()
      .catch(() => undefined);
    if (grey16) {
      const px = await decodeRgb(grey16);
      expect(px.channels).toBe(3);
    }
    const rgba = await decodeRgb(await readFile(path.join(dir, 'rgba.png')));
    expect(rgba.channels).toBe(3);
    await expect(decodeRgb(Buffer.from('not an image'))).rejects.toThrow();
  });

  it.skipIf(!hasKvasir)('uses real images from ../shared/data when present', () => {
    expect(files.length).toBeGreaterThan(5);
  });
});
