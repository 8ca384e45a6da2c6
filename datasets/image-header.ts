// The facts of a JPEG or PNG read straight from its header (SOF / IHDR, EXIF orientation, tRNS),
// so that the one sharp call per image is the full decode. Other formats, or a header this reader
// does not understand, return null and are described by sharp.metadata() instead; the tests check
// that both ways agree on every fixture and every real image.
import type { PixelLayout } from './pixel-layout.ts';

export function readImageHeader(bytes: Buffer): PixelLayout | null {
  try {
    if (bytes[0] === 0xff && bytes[1] === 0xd8) return readJpegHeader(bytes);
    if (bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return readPngHeader(bytes);
  } catch {
    // Out-of-range reads on a damaged header: let sharp judge it.
  }
  return null;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_SPACES: Record<number, string> = { 1: 'b-w', 3: 'srgb', 4: 'cmyk' };

function readJpegHeader(bytes: Buffer): PixelLayout | null {
  let orientation = 1;
  let p = 2;
  while (p + 4 <= bytes.length) {
    if (bytes[p] !== 0xff) return null;
    const marker = bytes[p + 1]!;
    if (marker === 0xff) {
      p += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      p += 2; // markers without a length
      continue;
    }
    const length = bytes.readUInt16BE(p + 2);
    const segment = bytes.subarray(p + 4, p + 2 + length);
    if (marker === 0xe1 && segment.subarray(0, 6).toString('latin1') === 'Exif\0\0') orientation = exifOrientation(segment.subarray(6));
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const [precision, components] = [segment[0], segment[5]!];
      const height = segment.readUInt16BE(1);
      const width = segment.readUInt16BE(3);
      const space = JPEG_SPACES[components];
      // 12-bit and DNL-height JPEGs are rare enough to leave to sharp.
      if (precision !== 8 || height === 0 || width === 0 || space === undefined) return null;
      return { format: 'jpeg', width, height, orientation, space, depth: 'uchar', gray: components === 1, palette: false, alpha: false };
    }
    if (marker === 0xda) return null; // scan data before any frame header
    p += 2 + length;
  }
  return null;
}

const PNG_COLOUR_TYPES: Record<number, { gray: boolean; alpha: boolean; palette: boolean }> = {
  0: { gray: true, alpha: false, palette: false },
  2: { gray: false, alpha: false, palette: false },
  3: { gray: false, alpha: false, palette: true },
  4: { gray: true, alpha: true, palette: false },
  6: { gray: false, alpha: true, palette: false },
};

function readPngHeader(bytes: Buffer): PixelLayout | null {
  if (bytes.toString('latin1', 12, 16) !== 'IHDR') return null;
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  const bitDepth = bytes[24]!;
  const colour = PNG_COLOUR_TYPES[bytes[25]!];
  if (!colour || width === 0 || height === 0) return null;
  let alpha = colour.alpha;
  let orientation = 1;
  // Ancillary chunks before the image data: tRNS adds an alpha channel, eXIf may orient.
  for (let p = 8; p + 8 <= bytes.length; ) {
    const length = bytes.readUInt32BE(p);
    const type = bytes.toString('latin1', p + 4, p + 8);
    if (type === 'IDAT' || type === 'IEND') break;
    if (type === 'tRNS') alpha = true;
    if (type === 'eXIf') orientation = exifOrientation(bytes.subarray(p + 8, p + 8 + length));
    p += 12 + length;
  }
  const sixteen = bitDepth === 16;
  const space = colour.palette ? 'srgb' : colour.gray ? (sixteen ? 'grey16' : 'b-w') : sixteen ? 'rgb16' : 'srgb';
  return { format: 'png', width, height, orientation, space, depth: sixteen ? 'ushort' : 'uchar', gray: colour.gray, palette: colour.palette, alpha };
}

/** Orientation (tag 0x0112) from IFD0 of a TIFF-structured EXIF block; 1 when absent or malformed. */
function exifOrientation(tiff: Buffer): number {
  if (tiff.length < 8) return 1;
  const little = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return 1;
  const entries = u16(ifd);
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return 1;
    if (u16(entry) === 0x0112) {
      const value = u16(entry + 8);
      return value >= 1 && value <= 8 ? value : 1;
    }
  }
  return 1;
}
