// Blob store throughput against plain curl, side by side, on one local MLflow server: a 300 MB
// weights file and 1,000 small PNGs, each uploaded and downloaded. Ours: BlobStore.put / get into an
// empty cache (hash, chunking, existence probes and verification included). Reference: one curl
// process per workload, PUT (--upload-file) then GET of the same objects, sequential over one kept-
// alive connection (a curl config file lists every transfer). Fresh bytes every run, so nothing is
// skipped as already stored. Goal: ours >= 0.8 of curl's MB/s. Usage: npm run bench:blobs
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { BlobStore, type BlobRef } from '../artifacts/blob-store.ts';
import { runPool } from '../datasets/pool.ts';
import { servicesDown, servicesUp } from '../services/index.ts';
import { MlflowHttp } from '../tracking/mlflow-http.ts';
import { interleave, median, round, saveResult } from './result.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const largeBytes = 300 * 1024 * 1024;
const smallCount = Number(process.env.BENCH_SMALL ?? 1000);

const work = await mkdtemp(path.join(os.tmpdir(), 'medsynth-bench-blobs-'));
const services = await servicesUp({ stateDir: path.join(work, 'services') });
const http = new MlflowHttp(services.mlflowUri);
const proxy = `${services.mlflowUri}/api/2.0/mlflow-artifacts/artifacts`;

/** A 64x64 noise PNG: incompressible, like the texture of real images (~12 KB). */
async function noisePng(): Promise<Buffer> {
  return sharp(randomBytes(64 * 64 * 3), { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
}

interface Workload {
  name: string;
  files: string[];
  bytes: number;
}

async function makeWorkloads(dir: string): Promise<Workload[]> {
  await mkdir(path.join(dir, 'small'), { recursive: true });
  const large = path.join(dir, 'weights.safetensors');
  const handle = await open(large, 'w');
  for (let written = 0; written < largeBytes; written += 16 << 20) await handle.write(randomBytes(Math.min(16 << 20, largeBytes - written)));
  await handle.close();
  const small: string[] = [];
  let smallBytes = 0;
  for (let i = 0; i < smallCount; i++) {
    const png = await noisePng();
    const file = path.join(dir, 'small', `${i}.png`);
    await writeFile(file, png);
    small.push(file);
    smallBytes += png.length;
  }
  return [
    { name: 'weights 300 MB', files: [large], bytes: largeBytes },
    { name: `${smallCount} PNGs`, files: small, bytes: smallBytes },
  ];
}

/** Seconds for upload + download of every file of the workload through our blob store. */
async function ours(workload: Workload, cacheDir: string): Promise<number> {
  const store = new BlobStore(http, cacheDir);
  const start = performance.now();
  const refs: BlobRef[] = new Array(workload.files.length);
  // many small files: several at once, as the activities do; one large file: its chunks overlap
  await runPool(workload.files.entries(), 8, async ([i, file]) => void (refs[i] = await store.put(file)));
  await runPool(refs, 8, async (ref) => void (await store.get(ref)));
  return (performance.now() - start) / 1000;
}

/** The same bytes with curl: every PUT, then every GET, in one process. */
async function curl(workload: Workload, dir: string, tag: string): Promise<number> {
  const put = workload.files.map((f, i) => `upload-file = "${f}"\nurl = "${proxy}/curl-bench/${tag}/${i}"\n`).join('');
  const get = workload.files.map((_, i) => `url = "${proxy}/curl-bench/${tag}/${i}"\noutput = "${path.join(dir, `${i}.out`)}"\n`).join('');
  await writeFile(path.join(dir, 'put.cfg'), put);
  await writeFile(path.join(dir, 'get.cfg'), get);
  const start = performance.now();
  execFileSync('curl', ['--silent', '--fail', '--config', path.join(dir, 'put.cfg')], { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('curl', ['--silent', '--fail', '--config', path.join(dir, 'get.cfg')], { stdio: ['ignore', 'ignore', 'inherit'] });
  return (performance.now() - start) / 1000;
}

const results: Record<string, unknown> = {};
try {
  const summary: Array<{ workload: string; oursMBs: number; curlMBs: number; ratio: number; spread: string }> = [];
  for (const kind of [0, 1]) {
    const perRun: Array<{ ours: number; curl: number; ratio: number }> = [];
    let label = '';
    const runs = await interleave(
      RUNS,
      async () => {
        const dir = await mkdtemp(path.join(work, 'ours-'));
        const workload = (await makeWorkloads(dir))[kind]!;
        label = workload.name;
        const seconds = await ours(workload, path.join(dir, 'cache'));
        await rm(dir, { recursive: true, force: true });
        return (2 * workload.bytes) / 1e6 / seconds;
      },
      async () => {
        const dir = await mkdtemp(path.join(work, 'curl-'));
        const workload = (await makeWorkloads(dir))[kind]!;
        const seconds = await curl(workload, dir, path.basename(dir));
        await rm(dir, { recursive: true, force: true });
        return (2 * workload.bytes) / 1e6 / seconds;
      },
    );
    for (const { a, b } of runs) perRun.push({ ours: round(a, 1), curl: round(b, 1), ratio: round(a / b) });
    const workloadRatios = perRun.map((p) => p.ratio);
    summary.push({
      workload: label,
      oursMBs: median(perRun.map((p) => p.ours)),
      curlMBs: median(perRun.map((p) => p.curl)),
      ratio: median(workloadRatios),
      spread: `${Math.min(...workloadRatios)}..${Math.max(...workloadRatios)}`,
    });
    results[label] = { perRun };
  }
  console.table(summary);
  const worst = summary.reduce((a, b) => (a.ratio <= b.ratio ? a : b));
  const file = saveResult({
    name: 'blobs',
    command: 'npm run bench:blobs',
    workload: `upload + download through a local MLflow artifact proxy: one 300 MB file; ${smallCount} noise PNGs of 64x64 (~12 KB)`,
    ours: { value: worst.oursMBs, unit: `MB/s (${worst.workload}, the worse ratio)` },
    reference: { name: 'curl --config: sequential PUTs then GETs on one connection', value: worst.curlMBs, unit: 'MB/s' },
    ratio: worst.ratio,
    goal: '>= 0.8 for each workload',
    runs: RUNS,
    spread: summary.map((s) => `${s.workload}: ${s.spread}`).join('; '),
    extra: {
      perWorkload: summary,
      bytesCounted: 'upload + download, each byte once each way',
      ours: 'sha256 of every byte, existence probe per 8 MiB chunk, hash check of every download; 8 transfers in flight',
      runs: results,
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    },
  });
  console.log(`ratios ${summary.map((s) => `${s.workload} ${s.ratio}`).join(', ')}; wrote ${file}`);
} finally {
  await servicesDown(path.join(work, 'services'));
  await rm(work, { recursive: true, force: true });
}
