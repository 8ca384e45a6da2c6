// Decoded pixels -> one image's slot of a float32 NCHW batch, per extractor preprocess.
import { clipPreprocess } from '../images/clip-preprocess.ts';
import { decodeAsStored, decodeRgb, type Pixels } from '../images/decode.ts';
import { npResizeTiling } from '../images/np-resize.ts';
import { resizeTf1Bilinear } from '../images/resize-tf1-bilinear.ts';
import { PREPROCESS_SIZE, type Preprocess } from '../extractors/registry.ts';

export interface PreprocessStep {
  size: number;
  decode: (bytes: Uint8Array) => Promise<Pixels>;
  write: (pixels: Pixels, out: Float32Array, offset: number) => void;
}

export function preprocessStep(kind: Preprocess): PreprocessStep {
  const size = PREPROCESS_SIZE[kind];
  switch (kind) {
    case 'tf1-bilinear-299':
    case 'tf1-bilinear-224':
      return { size, decode: decodeRgb, write: (p, out, o) => resizeTf1Bilinear(p, size, out, o) };
    case 'np-resize-299':
      return { size, decode: decodeAsStored, write: (p, out, o) => npResizeTiling(p, size, out, o) };
    case 'clip-224':
      return { size, decode: decodeRgb, write: (p, out, o) => clipPreprocess(p, size, out, o) };
  }
}
