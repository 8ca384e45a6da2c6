// A small class-folders dataset written with sharp: distinct real JPEGs per class, an exact
// duplicate, and two bad files, so a run has something to accept, merge and reject.
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

export interface TinyDataset {
  root: string;
  good: number;
  duplicates: number;
  bad: number;
}

export async function writeTinyDataset(perClass = 6, classes = ['polyp', 'cecum']): Promise<TinyDataset> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'medsynth-tiny-'));
  for (const [c, label] of classes.entries()) {
    await mkdir(path.join(root, label));
    for (let i = 0; i < perClass; i++) {
      const jpeg = await sharp({
        create: { width: 32 + i, height: 24, channels: 3, background: { r: 40 * c, g: 20 * i, b: 200 - 30 * c } },
      })
        .jpeg()
        .toBuffer();
      await writeFile(path.join(root, label, `${label}-${i}.jpg`), jpeg);
    }
  }
  const first = path.join(root, classes[0], `${classes[0]}-0.jpg`);
  await copyFile(first, path.join(root, classes[0], 'copy-of-0.jpg'));
  const jpeg = await sharp(first).toBuffer();
  await writeFile(path.join(root, classes[1], 'truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  await writeFile(path.join(root, classes[1], 'empty.jpg'), Buffer.alloc(0));
  return { root, good: perClass * classes.length, duplicates: 1, bad: 2 };
}
