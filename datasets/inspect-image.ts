// Decides whether bytes are a usable image and describes it. The header comes first (our JPEG/PNG
// reader, else sharp.metadata) so that decompression bombs are refused before any pixel is
// decoded; then exactly one full decode proves the pixel data complete (libvips decodes lazily, so
// only a real sink such as raw() forces every scanline through the decoder).
import sharp from 'sharp';
import { readImageHeader } from './image-header.ts';
import { displaySize, layoutFromMetadata, normalisationsFor } from './pixel-layout.ts';
import type { PixelLayout } from './pixel-layout.ts';
import { RejectReason } from './rejects.ts';
import type { RejectReasonCode } from './rejects.ts';

export interface ImageFacts {
  width: number;
  height: number;
  format: string;
  normalisations: string[];
}

export type Inspection =
  | { ok: true; facts: ImageFacts }
  | { ok: false; reason: RejectReasonCode; detail: string };

/** Raster formats we ingest; vector/document loaders (svg, pdf) are refused even though sharp reads them. */
const RASTER_FORMATS = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif', 'heif', 'avif']);

export async function inspectImage(bytes: Buffer, maxPixels: number): Promise<Inspection> {
  if (bytes.length === 0) return { ok: false, reason: RejectReason.emptyFile, detail: 'the file is empty (0 bytes)' };
  let layout = readImageHeader(bytes);
  if (!layout) {
    try {
      // Header only, without a pixel limit, so that an oversized image is reported as such below.
      layout = layoutFromMetadata(await sharp(bytes, { limitInputPixels: false }).metadata());
    } catch (error) {
      return { ok: false, reason: RejectReason.notAnImage, detail: `not a readable image (${messageOf(error)})` };
    }
  }
  if (!RASTER_FORMATS.has(layout.format)) {
    return { ok: false, reason: RejectReason.unsupportedFormat, detail: `decodes as ${layout.format}, not a raster image format` };
  }
  // Only the first page/frame is decoded (sharp's default), so that is what the limit guards.
  const pixels = layout.width * layout.height;
  if (pixels > maxPixels) {
    return {
      ok: false,
      reason: RejectReason.tooManyPixels,
      detail: `${layout.width}x${layout.height} is ${pixels} pixels, over maxPixels ${maxPixels} (decompression-bomb guard); raise dataset.maxPixels if the image is genuine`,
    };
  }
  const failure = await decodeFailure(bytes, layout, maxPixels);
  if (failure) return failure;
  return { ok: true, facts: { ...displaySize(layout), format: layout.format, normalisations: normalisationsFor(layout) } };
}

async function decodeFailure(bytes: Buffer, layout: PixelLayout, maxPixels: number): Promise<Inspection | null> {
  try {
    await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' }).raw().toBuffer();
    return null;
  } catch (error) {
    const message = messageOf(error);
    if (/pixel limit/i.test(message)) {
      return { ok: false, reason: RejectReason.tooManyPixels, detail: `over maxPixels ${maxPixels} (${message})` };
    }
    const truncated = looksTruncated(bytes, layout.format, message);
    return {
      ok: false,
      reason: truncated ? RejectReason.truncated : RejectReason.corrupt,
      detail: `${layout.format} pixel data ${truncated ? 'ends early' : 'does not decode'} (${message})`,
    };
  }
}

/**
 * Truncated or corrupt, decided from the bytes wherever the format allows: libvips keeps one error
 * log for all threads, so under concurrent decodes a message can belong to another file (a CRC
 * error here was once reported as another file's "premature end"). Messages decide other formats.
 */
function looksTruncated(bytes: Buffer, format: string, message: string): boolean {
  if (format === 'jpeg') return !(bytes[bytes.length - 2] === 0xff && bytes[bytes.length - 1] === 0xd9);
  if (format === 'png') return !pngReachesIend(bytes);
  return /premature end|truncat|unexpected end|end of (file|stream|data)/i.test(message);
}

/** Walks the PNG chunk list: true when every chunk fits in the file and an IEND chunk is reached. */
function pngReachesIend(bytes: Buffer): boolean {
  let at = 8;
  while (at + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(at);
    if (bytes.toString('latin1', at + 4, at + 8) === 'IEND') return true;
    at += 12 + length;
  }
  return false;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
