// End to end: `medsynth eval` on two image folders, a real process, against torch-fidelity's own
// calculate_metrics on the same folders with the same (seeded random) Inception weights: file
// search, decoding, resizing, batching, features and the three metrics all differ in code and
// must agree in numbers.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../services/paths.ts';
import { extractorDirOf, hasKvasir, kvasirImages, reference, tempDir } from './helpers.ts';

const run = promisify(execFile);

/** Two folders of real images of two classes (or generated ones without ../shared/data). */
async function twoFolders(dir: string, n: number): Promise<{ real: string; fake: string }> {
  const real = path.join(dir, 'real');
  const fake = path.join(dir, 'fake', 'nested'); // torch-fidelity's samples_find_deep and our recursive search
  await mkdir(real, { recursive: true });
  await mkdir(fake, { recursive: true });
  if (hasKvasir) {
    for (const file of kvasirImages('polyp', n)) await copyFile(file, path.join(real, path.basename(file)));
    for (const file of kvasirImages('ulcerative-colitis', n)) await copyFile(file, path.join(fake, path.basename(file)));
  } else {
    for (let i = 0; i < 2 * n; i++) {
      const noise = await sharp({ create: { width: 90 + i, height: 80, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 60 + (i % n) * 3, sigma: 30 } } })
        .png()
        .toBuffer();
      await sharp(noise).toFile(path.join(i < n ? real : fake, `img-${String(i).padStart(3, '0')}.png`));
    }
  }
  return { real, fake: path.dirname(fake) };
}

describe("medsynth eval against torch-fidelity's whole pipeline", () => {
  it('gives the same FID, KID and IS on two real image folders (1e-4 relative)', async () => {
    const dir = await tempDir('medsynth-e2e-');
    const { real, fake } = await twoFolders(dir, 30);
    const shared = { kid_subset_size: 20, kid_subsets: 30, isc_splits: 3, rng_seed: 2020, batch_size: 8 };
    const refFile = path.join(dir, 'reference.json');
    const oursFile = path.join(dir, 'ours.json');
    const extractors = await extractorDirOf(['inception-fid']); // seed 0, as the reference builds it
    const cli = [
      path.join(projectRoot, 'bin', 'medsynth.mjs'), 'eval', '--protocol', 'standard', '--real', real, '--fake', fake,
      '--kid-subset-size', String(shared.kid_subset_size), '--kid-subsets', String(shared.kid_subsets),
      '--isc-splits', String(shared.isc_splits), '--seed', String(shared.rng_seed), '--batch-size', String(shared.batch_size),
      '--extractor-dir', extractors, '--no-cache', '--out', oursFile,
    ];
    await Promise.all([
      reference('torch_fidelity_pipeline.py', refFile, '0', real, fake, JSON.stringify(shared)),
      run('node', cli, { cwd: projectRoot, maxBuffer: 1 << 24 }),
    ]);
    const ref = JSON.parse(await readFile(refFile, 'utf8'));
    const ours = JSON.parse(await readFile(oursFile, 'utf8'));
    const values = ours.metrics as Record<string, number>;
    const rel = (key: string, refKey: string) => Math.abs(values[key]! - ref[refKey]) / Math.abs(ref[refKey]);
    expect(ours.counts).toMatchObject({ real: 30, fake: 30 });
    expect(rel('frechet_inception_distance', 'fid')).toBeLessThan(1e-4);
    expect(rel('kernel_inception_distance_mean', 'kid_mean')).toBeLessThan(1e-4);
    expect(rel('kernel_inception_distance_std', 'kid_std')).toBeLessThan(1e-4);
    expect(rel('inception_score_mean', 'isc_mean')).toBeLessThan(1e-4);
    expect(rel('inception_score_std', 'isc_std')).toBeLessThan(1e-4);
  });
});
