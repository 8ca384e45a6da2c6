// Pillow's Image.resize(..., BICUBIC) for 8-bit images (libImaging/Resample.c): separable,
// antialiased (the kernel widens by the scale when shrinking), coefficients in fixed point with
// 22 fractional bits, horizontal pass first with each pass rounded to 8 bits. open_clip's
// preprocessing (torchvision Resize on a PIL image) resizes through this code.
import type { Pixels } from './decode.ts';

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

function bicubic(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Coeffs {
  ksize: number;
  bounds: Int32Array; // [min, count] per output index
  kk: Float64Array; // integer coefficients (exact in float64)
}

function precompute(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 2 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Float64Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = bicubic((x + xmin - center + 0.5) * ss);
      ww += w[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const k = ww !== 0 ? w[x]! / ww : w[x]!;
      kk[xx * ksize + x] = Math.trunc(k < 0 ? -0.5 + k * ONE : 0.5 + k * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

function clip8(v: number): number {
  if (v >= ONE * 256) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / ONE);
}

/** Resizes interleaved RGB to (outW, outH), returning interleaved RGB, as Pillow does. */
export function pilBicubicResize(src: Pixels, outW: number, outH: number): Pixels {
  const C = src.channels;
  const needH = outW !== src.width;
  const needV = outH !== src.height;
  const horiz = precompute(src.width, outW);
  const vert = precompute(src.height, outH);
  let img = src;
  if (needH) {
    // only the rows the vertical pass reads
    const first = vert.bounds[0]!;
    const last = vert.bounds[outH * 2 - 2]! + vert.bounds[outH * 2 - 1]!;
    const rows = needV ? last - first : src.height;
    const start = needV ? first : 0;
    const out = new Uint8Array(outW * rows * C);
    for (let y = 0; y < rows; y++) {
      const row = (y + start) * src.width;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = horiz.bounds[xx * 2]!;
        const count = horiz.bounds[xx * 2 + 1]!;
        const k0 = xx * horiz.ksize;
        for (let c = 0; c < C; c++) {
          let ss = HALF;
          for (let x = 0; x < count; x++) ss += src.data[(row + xmin + x) * C + c]! * horiz.kk[k0 + x]!;
          out[(y * outW + xx) * C + c] = clip8(ss);
        }
      }
    }
    if (needV) for (let i = 0; i < outH; i++) vert.bounds[i * 2] = vert.bounds[i * 2]! - first;
    img = { data: out, width: outW, height: rows, channels: C };
  }
  if (!needV) return img;
  const out = new Uint8Array(img.width * outH * C);
  for (let yy = 0; yy < outH; yy++) {
    const ymin = vert.bounds[yy * 2]!;
    const count = vert.bounds[yy * 2 + 1]!;
    const k0 = yy * vert.ksize;
    for (let x = 0; x < img.width; x++) {
      for (let c = 0; c < C; c++) {
        let ss = HALF;
        for (let y = 0; y < count; y++) ss += img.data[((ymin + y) * img.width + x) * C + c]! * vert.kk[k0 + y]!;
        out[(yy * img.width + x) * C + c] = clip8(ss);
      }
    }
  }
  return { data: out, width: img.width, height: outH, channels: C };
}
