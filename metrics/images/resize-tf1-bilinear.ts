// torch-fidelity's interpolate_bilinear_2d_like_tensorflow1x (align_corners=False, method 'slow'),
// the resize of the standard FID protocol. Every step rounds to float32 as torch's kernels do,
// so the result is bit-identical to torch-fidelity's on the CPU.
import type { Pixels } from './decode.ts';

const f32 = Math.fround;

interface Grid {
  lo: Int32Array;
  hi: Int32Array;
  frac: Float32Array;
}

function grid(inSize: number, outSize: number): Grid {
  const scale = f32(inSize / outSize); // torch.tensor(scale, dtype=float32)
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const frac = new Float32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const pos = f32(i * scale);
    lo[i] = Math.trunc(pos);
    hi[i] = Math.min(lo[i]! + 1, inSize - 1);
    frac[i] = f32(pos - lo[i]!);
  }
  return { lo, hi, frac };
}

/** Writes the resized image as float32 planes (CHW, values 0..255) into `out` at `offset`. */
export function resizeTf1Bilinear(src: Pixels, size: number, out: Float32Array, offset = 0): void {
  const { data, width, channels } = src;
  const gx = grid(width, size);
  const gy = grid(src.height, size);
  const plane = size * size;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      const rowLo = gy.lo[y]! * width;
      const rowHi = gy.hi[y]! * width;
      const dy = gy.frac[y]!;
      const base = offset + c * plane + y * size;
      for (let x = 0; x < size; x++) {
        const xl = gx.lo[x]!;
        const xh = gx.hi[x]!;
        const dx = gx.frac[x]!;
        const p00 = data[(rowLo + xl) * channels + c]!;
        const p01 = data[(rowLo + xh) * channels + c]!;
        const p10 = data[(rowHi + xl) * channels + c]!;
        const p11 = data[(rowHi + xh) * channels + c]!;
        const top = f32(p00 + f32(f32(p01 - p00) * dx));
        const bottom = f32(p10 + f32(f32(p11 - p10) * dx));
        out[base + x] = f32(top + f32(f32(bottom - top) * dy));
      }
    }
  }
}
