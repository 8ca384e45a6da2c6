// open_clip's evaluation transform for BiomedCLIP: Resize(224, BICUBIC) on the shortest side
// (torchvision on a PIL image, i.e. Pillow's resampling), CenterCrop(224), ToTensor, Normalize
// with the OpenAI CLIP mean/std. Float32 arithmetic in torchvision's order.
import type { Pixels } from './decode.ts';
import { pilBicubicResize } from './pil-bicubic.ts';

export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** torchvision's _compute_resized_output_size for an int size (no max_size). */
export function shortestSideSize(width: number, height: number, size: number): [number, number] {
  const [short, long] = width <= height ? [width, height] : [height, width];
  const newLong = Math.trunc((size * long) / short);
  return width <= height ? [size, newLong] : [newLong, size];
}

// Python's round(): halves go to the even neighbour
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function clipPreprocess(src: Pixels, size: number, out: Float32Array, offset = 0): void {
  const [w, h] = shortestSideSize(src.width, src.height, size);
  const resized = w === src.width && h === src.height ? src : pilBicubicResize(src, w, h);
  const top = roundHalfEven((h - size) / 2);
  const left = roundHalfEven((w - size) / 2);
  const plane = size * size;
  const f32 = Math.fround;
  for (let c = 0; c < 3; c++) {
    const mean = f32(CLIP_MEAN[c]);
    const std = f32(CLIP_STD[c]);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const v = resized.data[((y + top) * w + (x + left)) * 3 + c]!;
        out[offset + c * plane + y * size + x] = f32(f32(f32(v / 255) - mean) / std);
      }
    }
  }
}
