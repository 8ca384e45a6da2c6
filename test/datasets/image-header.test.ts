// Our JPEG/PNG header reader must describe every image exactly as sharp.metadata() does: it
// replaces that call on the hot path.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readImageHeader } from '../../datasets/image-header.ts';
import { isImageName, walkFiles } from '../../datasets/image-files.ts';
import { inspectImage } from '../../datasets/inspect-image.ts';
import { layoutFromMetadata } from '../../datasets/pixel-layout.ts';
import { corruptPngCrc, layoutVariants, makeJpeg, makePng, makePngBomb, truncate } from '../fixtures/images.ts';
import { sharedData } from '../fixtures/spec.ts';

async function expectSameAsSharp(name: string, bytes: Buffer): Promise<void> {
  const header = readImageHeader(bytes);
  expect(header, name).not.toBeNull();
  expect(header, name).toEqual(layoutFromMetadata(await sharp(bytes).metadata()));
}

describe('readImageHeader', () => {
  it('agrees with sharp.metadata() on every generated pixel layout', async () => {
    for (const [name, bytes] of Object.entries(await layoutVariants())) await expectSameAsSharp(name, bytes);
  });

  it.skipIf(!existsSync(sharedData))(`agrees with sharp.metadata() on every real image in ${sharedData}`, async () => {
    const files = (await walkFiles(sharedData)).filter(isImageName);
    expect(files.length).toBeGreaterThan(4000);
    for (const rel of files) await expectSameAsSharp(rel, await readFile(path.join(sharedData, rel)));
  });

  it('leaves other formats and damaged headers to sharp', async () => {
    expect(readImageHeader(await sharp({ create: { width: 4, height: 4, channels: 3, background: 'red' } }).webp().toBuffer())).toBeNull();
    expect(readImageHeader(truncate(await makeJpeg(16, 16, 1), 0.01))).toBeNull();
    expect(readImageHeader(Buffer.from('GIF89a'))).toBeNull();
  });

  it('reads the size of a decompression bomb from its header, so inspection refuses it undecoded', async () => {
    const bomb = makePngBomb();
    expect(readImageHeader(bomb)).toMatchObject({ width: 50_000, height: 50_000 });
    expect(await inspectImage(bomb, 40_000_000)).toMatchObject({ ok: false, reason: 'too-many-pixels' });
  });
});

describe('inspectImage under concurrent decodes', () => {
  // libvips keeps one error log for every thread: a decode's message can name another file's
  // failure. CI once saw a CRC error reported as "truncated" this way.
  it('tells a corrupt file from a truncated one however many decodes run at once', async () => {
    const png = await makePng(64, 48, 22);
    const jpeg = await makeJpeg(64, 48, 23);
    const files = { corrupt: corruptPngCrc(png), truncatedPng: truncate(png), truncatedJpeg: truncate(jpeg) };
    const expected = { corrupt: 'corrupt', truncatedPng: 'truncated', truncatedJpeg: 'truncated' };
    const rounds = await Promise.all(
      Array.from({ length: 40 }, async () =>
        Object.fromEntries(
          await Promise.all(
            Object.entries(files).map(async ([name, bytes]) => {
              const result = await inspectImage(bytes, 40_000_000);
              return [name, result.ok ? 'ok' : result.reason];
            }),
          ),
        ),
      ),
    );
    for (const round of rounds) expect(round).toEqual(expected);
  });
});
