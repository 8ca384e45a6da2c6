// How an image stores its pixels, and what a consumer must do to get upright 8-bit sRGB RGB from
// it (ManifestRow.normalisations). Built from our header reader or from sharp's metadata.
import type { Metadata } from 'sharp';

export interface PixelLayout {
  format: string;
  /** As stored, before EXIF orientation. */
  width: number;
  height: number;
  /** EXIF orientation 1..8 (1 = upright). */
  orientation: number;
  /** libvips interpretation: srgb, b-w, rgb16, grey16, cmyk, ... */
  space: string;
  /** libvips band format: uchar, ushort, float, ... */
  depth: string;
  gray: boolean;
  palette: boolean;
  alpha: boolean;
}

export function layoutFromMetadata(meta: Metadata): PixelLayout {
  const orientation = meta.orientation !== undefined && meta.orientation >= 1 && meta.orientation <= 8 ? meta.orientation : 1;
  return {
    format: meta.format,
    width: meta.width,
    height: meta.height,
    orientation,
    space: meta.space,
    depth: meta.depth,
    gray: meta.channels - (meta.hasAlpha ? 1 : 0) === 1,
    palette: meta.isPalette,
    alpha: meta.hasAlpha,
  };
}

/** Width and height as displayed: orientations 5-8 turn the image by 90 degrees. */
export function displaySize(layout: PixelLayout): { width: number; height: number } {
  return layout.orientation >= 5 ? { width: layout.height, height: layout.width } : { width: layout.width, height: layout.height };
}

const SRGB_LIKE = new Set(['srgb', 'rgb', 'rgb16', 'b-w', 'grey16']);

/** In a fixed order, so that rows (and the manifest hash) are stable. */
export function normalisationsFor(layout: PixelLayout): string[] {
  const steps: string[] = [];
  if (layout.space === 'cmyk') steps.push('cmyk->srgb');
  else if (!SRGB_LIKE.has(layout.space)) steps.push(`${layout.space}->srgb`);
  if (layout.depth === 'ushort' || layout.depth === 'short') steps.push('16bit->8bit');
  else if (layout.depth !== 'uchar' && layout.depth !== 'char') steps.push(`${layout.depth}->8bit`);
  if (layout.palette) steps.push('palette->rgb');
  else if (layout.gray) steps.push('gray->rgb');
  if (layout.alpha) steps.push('alpha->flatten');
  if (layout.orientation > 1) steps.push(`exif-orientation-${layout.orientation}`);
  return steps;
}
