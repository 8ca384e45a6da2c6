// Ingestion throughput on kvasir-mini through ingestDataset (list + read + sha256 + header check
// + full decode + duplicate merge + split + manifest hash) against a plain loop that only reads,
// hashes and decodes the same files with sharp at the same concurrency. Runs interleave (A B, B A, ...);
// the result is the median ratio. Usage: node --import tsx bench/ingest.ts [kvasir-mini folder]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { datasetSchema } from '../experiments/schema.ts';
import { defaultConcurrency, ingestDataset } from '../datasets/index.ts';
import { isImageName, walkFiles } from '../datasets/image-files.ts';
import { runPool } from '../datasets/pool.ts';

const RUNS = 5;
const projectRoot = path.resolve(import.meta.dirname, '..');
const dataDir = path.resolve(process.argv[2] ?? path.join(projectRoot, '../shared/data/kvasir-mini'));
const concurrency = defaultConcurrency();

async function reference(files: readonly string[]): Promise<void> {
  await runPool(files, concurrency, async (file) => {
    const bytes = await readFile(file);
    createHash('sha256').update(bytes).digest('hex');
    await sharp(bytes).raw().toBuffer();
  });
}

async function ours(): Promise<number> {
  const spec = datasetSchema.parse({ format: 'class-folders', path: dataDir });
  const result = await ingestDataset(spec, { concurrency, blobDir: path.join(os.tmpdir(), 'medsynth-bench-blobs') });
  return result.rows.length;
}

async function imagesPerSecond(images: number, run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return images / ((performance.now() - start) / 1000);
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number, digits: number) => Number(value.toFixed(digits));

const files = (await walkFiles(dataDir)).filter(isImageName).map((rel) => path.join(dataDir, rel));
if (files.length === 0) throw new Error(`${dataDir} holds no images; pass the kvasir-mini folder as the first argument`);
await ours(); // warm-up: page cache, JIT, libvips
await reference(files);

const measureOurs = () => imagesPerSecond(files.length, ours);
const measureReference = () => imagesPerSecond(files.length, () => reference(files));
const runs: { ours: number; reference: number; ratio: number }[] = [];
for (let i = 0; i < RUNS; i++) {
  // A B, B A, A B ...: a drift in machine load does not favour either side.
  let a: number;
  let b: number;
  if (i % 2 === 0) {
    a = await measureOurs();
    b = await measureReference();
  } else {
    b = await measureReference();
    a = await measureOurs();
  }
  runs.push({ ours: round(a, 1), reference: round(b, 1), ratio: round(a / b, 3) });
}

const ratios = runs.map((r) => r.ratio);
const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
const result = {
  name: 'ingest',
  command: 'npm run bench:ingest',
  date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  commit: execFileSync('git', ['rev-parse', 'HEAD'], { cwd: projectRoot, encoding: 'utf8' }).trim(),
  machine: `${cpu}, ${os.availableParallelism()} cores`,
  workload: `kvasir-mini, ${files.length.toLocaleString('en-US')} images, 256x256 JPEG, class-folders`,
  ours: { value: median(runs.map((r) => r.ours)), unit: 'images/s' },
  reference: { name: 'plain sharp decode+sha256 loop', value: median(runs.map((r) => r.reference)), unit: 'images/s' },
  ratio: median(ratios),
  goal: '>= 0.8',
  runs: RUNS,
  spread: `${Math.min(...ratios)}..${Math.max(...ratios)}`,
  extra: {
    concurrency,
    order: 'A B, B A, A B, ... (A = ours)',
    hotPath: 'one sharp call per JPEG/PNG (full decode); size, orientation and colour layout come from our header reader',
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    perRun: runs,
  },
};

console.table(runs);
console.log(`ratio ${result.ratio} (spread ${result.spread}), goal ${result.goal}: ours ${result.ours.value} vs reference ${result.reference.value} images/s on ${result.machine}`);
await writeFile(path.join(projectRoot, 'bench/results/ingest.json'), JSON.stringify(result, null, 2) + '\n');
