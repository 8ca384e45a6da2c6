// Thumbnails for report pages: small JPEG data URIs, so a page of hundreds of images stays a few
// MB and needs no file beside it.
import sharp from 'sharp';
import { REPORT_DEFAULTS } from './defaults.ts';

export type ThumbnailOptions = typeof REPORT_DEFAULTS.thumbnails;

/** The image at `file` shrunk to fit size x size (never enlarged), or null when it cannot be decoded. */
export async function thumbnail(file: string, options: ThumbnailOptions = REPORT_DEFAULTS.thumbnails): Promise<string | null> {
  try {
    const jpeg = await sharp(file, { failOn: 'error', limitInputPixels: 1 << 26 })
      .rotate()
      .resize(options.size, options.size, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#000' })
      .jpeg({ quality: options.quality })
      .toBuffer();
    return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
  } catch {
    return null;
  }
}
