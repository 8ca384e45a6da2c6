// Decoding image files to 8-bit pixel arrays with sharp (libvips; its JPEG decoder gives the same
// pixels as Pillow's on the JPEGs checked in the tests).
import sharp from 'sharp';

export interface Pixels {
  data: Uint8Array;
  width: number;
  height: number;
  /** interleaved channels per pixel */
  channels: number;
}

// A decompression bomb would otherwise be allocated whole.
const MAX_PIXELS = 20_000 * 20_000;

/**
 * Decodes to interleaved 8-bit RGB the way people see the image: EXIF orientation applied, grey
 * replicated, CMYK and 16-bit converted to 8-bit sRGB, alpha dropped (as Pillow's convert('RGB'),
 * which torch-fidelity and open_clip use, drops it). Pillow ignores EXIF orientation; only rotated
 * photos differ from those references.
 */
export async function decodeRgb(bytes: Uint8Array): Promise<Pixels> {
  const { data, info } = await sharp(bytes, { limitInputPixels: MAX_PIXELS, failOn: 'error' })
    .autoOrient()
    .toColourspace('srgb')
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
  return { data, width: info.width, height: info.height, channels: 3 };
}

/**
 * The pixel array as stored, as `skimage.io.imread` returns it to the MEDVQA-GI 2024 script:
 * no EXIF rotation, native channel count (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA). 16-bit files
 * are reduced to 8 bits here, where skimage would keep uint16.
 */
export async function decodeAsStored(bytes: Uint8Array): Promise<Pixels> {
  const { data, info } = await sharp(bytes, { limitInputPixels: MAX_PIXELS, failOn: 'error' })
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}
