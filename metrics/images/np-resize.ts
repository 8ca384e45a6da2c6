// numpy's np.resize(img, (299, 299, 3)) as the MEDVQA-GI 2024 script applies it: not a resize
// but the pixel array flattened in C order and repeated (or cut) to 299*299*3 values, which are
// then read back as a 299x299x3 image. Kept exactly, because that is what its numbers measured.
import type { Pixels } from './decode.ts';

export function npResizeTiling(src: Pixels, size: number, out: Float32Array, offset = 0): void {
  const flat = src.data;
  const n = flat.length;
  if (n === 0) throw new Error('empty image');
  const plane = size * size;
  for (let i = 0; i < plane * 3; i++) {
    // out HWC position i -> CHW plane
    const pixel = Math.floor(i / 3);
    out[offset + (i % 3) * plane + pixel] = flat[i % n]!;
  }
}
