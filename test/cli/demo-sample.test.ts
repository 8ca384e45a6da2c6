// `medsynth demo` on a fresh machine without the sample folders: the Kvasir-VQA sample it fetches
// (limit, atomic cache write, reuse) against real DuckDB on local parquet written by the fixture,
// the hub checks against local servers that answer 404 or never answer, and the offline path of
// the real CLI (this machine has no route to huggingface.co).
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHubDataset, loadHttpfs } from '../../datasets/hub-reachable.ts';
import { ingestDataset } from '../../datasets/index.ts';
import { fetchKvasirVqaSample, sampleFile } from '../../datasets/sample.ts';
import { UserError } from '../../errors.ts';
import { tempDir } from '../fixtures/bad-corpus.ts';
import { makeJpeg } from '../fixtures/images.ts';
import { writeKvasirVqaParquet } from '../fixtures/kvasir-vqa-parquet.ts';
import type { VqaImage } from '../fixtures/kvasir-vqa-parquet.ts';
import { datasetSpec } from '../fixtures/spec.ts';

const root = path.resolve(import.meta.dirname, '../..');
const hubId = 'SimulaMet-HOST/Kvasir-VQA';

let temp: Awaited<ReturnType<typeof tempDir>>;
let images: VqaImage[];
let source: string;

/** img_ids that do not sort in file order, so "first" can only mean first in the file. */
const imgId = (i: number) => `vqa-${String((i * 7) % 10)}${i}`;
const qa = (n: number, id: string) => Array.from({ length: n }, (_, k) => ({ question: `Q${k} of ${id}?`, answer: `A${k}` }));

beforeAll(async () => {
  temp = await tempDir('medsynth-sample-');
  images = await Promise.all(
    Array.from({ length: 10 }, async (_, i) => ({
      imgId: imgId(i),
      source: i % 3 === 0 ? 'kvasir-instrument' : 'hyperkvasir',
      bytes: await makeJpeg(40 + i, 32, i),
      qa: qa(1 + (i % 3), imgId(i)),
    })),
  );
  source = path.join(temp.dir, 'source', 'train-00000-of-00001.parquet');
  await writeParquet(source, images);
});
afterAll(() => temp.remove());

async function writeParquet(file: string, rows: VqaImage[]): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeKvasirVqaParquet(file, rows);
}

async function readSample(file: string): Promise<{ imgId: string; source: string; question: string; bytes: Buffer }[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    const reader = await db.runAndReadAll(`SELECT img_id, source, question, image.bytes AS bytes FROM read_parquet('${file}')`);
    return reader.getRowObjectsJS().map((row) => ({
      imgId: String(row.img_id),
      source: String(row.source),
      question: String(row.question),
      bytes: Buffer.from(row.bytes as Uint8Array),
    }));
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

describe('the Kvasir-VQA sample, from a local parquet source', () => {
  it('holds the first N images in file order with all their QA rows, and ingests as kvasir-vqa', async () => {
    const cacheDir = path.join(temp.dir, 'limit');
    const sample = await fetchKvasirVqaSample({ source: datasetSpec({ format: 'kvasir-vqa', path: source }), limit: 4, cacheDir });
    expect(sample).toEqual({ file: path.join(cacheDir, 'train-00000-of-00001-4.parquet'), images: 4, fetched: true });

    const rows = await readSample(sample.file);
    const first = images.slice(0, 4);
    expect(new Set(rows.map((r) => r.imgId))).toEqual(new Set(first.map((i) => i.imgId)));
    expect(rows).toHaveLength(first.reduce((n, i) => n + i.qa.length, 0));
    for (const image of first) {
      const own = rows.filter((r) => r.imgId === image.imgId);
      expect(own.map((r) => r.question).sort()).toEqual(image.qa.map((q) => q.question).sort());
      expect(own.every((r) => r.source === image.source && r.bytes.equals(image.bytes!))).toBe(true);
    }
    expect(await readdir(cacheDir)).toEqual([path.basename(sample.file)]); // no temporary file left

    const ingested = await ingestDataset(datasetSpec({ format: 'kvasir-vqa', path: sample.file }), { blobDir: path.join(temp.dir, 'blobs') });
    expect(ingested.stats).toMatchObject({ candidates: 4, accepted: 4 });
  });

  it('holds every image when the source has fewer than the limit', async () => {
    const sample = await fetchKvasirVqaSample({ source: datasetSpec({ format: 'kvasir-vqa', path: source }), limit: 500, cacheDir: path.join(temp.dir, 'all') });
    expect(sample.images).toBe(images.length);
    expect(new Set((await readSample(sample.file)).map((r) => r.imgId)).size).toBe(images.length);
  });

  it('is written once and then reused without reading the source; a damaged cache file is fetched again', async () => {
    const copy = path.join(temp.dir, 'reuse', 'kvasir-vqa.parquet');
    await writeParquet(copy, images);
    const cacheDir = path.join(temp.dir, 'reuse-cache');
    const opts = { source: datasetSpec({ format: 'kvasir-vqa', path: copy }), limit: 3, cacheDir };
    const written = await fetchKvasirVqaSample(opts);
    expect(written).toMatchObject({ file: path.join(cacheDir, 'kvasir-vqa-3.parquet'), images: 3, fetched: true });
    const before = await stat(written.file);

    await rm(copy); // the source is gone: only the cache can answer now
    expect(await fetchKvasirVqaSample(opts)).toEqual({ ...written, fetched: false });
    expect((await stat(written.file)).mtimeMs).toBe(before.mtimeMs);
    await expect(fetchKvasirVqaSample({ ...opts, limit: 2 })).rejects.toThrow(/does not exist; expected Kvasir-VQA parquet/);

    await writeParquet(copy, images);
    await writeFile(written.file, 'PAR1 half a file');
    expect(await fetchKvasirVqaSample(opts)).toEqual(written);
    expect((await readSample(written.file)).map((r) => r.imgId)).toContain(imgId(0));
  });

  it('rejects a limit that is not a positive whole number', async () => {
    await expect(fetchKvasirVqaSample({ source: datasetSpec({ format: 'kvasir-vqa', path: source }), limit: 0, cacheDir: temp.dir })).rejects.toThrow(
      /sample limit 0: expected a positive whole number/,
    );
  });

  it('a fetch killed while it writes leaves no file at the cache path, and the next fetch completes it', async () => {
    // 64 images of 1 MiB each, so the copy is still writing when the kill lands.
    const big = path.join(temp.dir, 'big', 'kvasir-vqa.parquet');
    const bigImages = Array.from({ length: 64 }, (_, i) => ({ imgId: `big-${i}`, source: 'hyperkvasir', bytes: randomBytes(1 << 20), qa: qa(1, `big-${i}`) }));
    await writeParquet(big, bigImages);
    const cacheDir = path.join(temp.dir, 'killed');
    const spec = datasetSpec({ format: 'kvasir-vqa', path: big });
    const script = path.join(temp.dir, 'fetch-sample.mts'); // .mts: an ES module outside the package
    await writeFile(
      script,
      `import { fetchKvasirVqaSample } from ${JSON.stringify(path.join(root, 'datasets/sample.ts'))};\n` +
        `await fetchKvasirVqaSample({ source: ${JSON.stringify(spec)}, limit: 64, cacheDir: ${JSON.stringify(cacheDir)} });\n`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<string>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? `exit ${code}: ${stderr}`)));
    // Kill it as soon as anything appears in the cache folder.
    while (child.exitCode === null && (await readdir(cacheDir).catch(() => [])).length === 0) await new Promise((r) => setTimeout(r, 2));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const final = sampleFile(spec, 64, cacheDir);
    const left = await readdir(cacheDir);
    // Whatever moment the kill hit, the cache path holds a complete sample or nothing.
    if (left.includes(path.basename(final))) expect(new Set((await readSample(final)).map((r) => r.imgId)).size).toBe(64);
    expect(left.filter((name) => name !== path.basename(final)).every((name) => name.endsWith('.tmp'))).toBe(true);

    const again = await fetchKvasirVqaSample({ source: spec, limit: 64, cacheDir });
    expect(again.images).toBe(64);
    expect(new Set((await readSample(final)).map((r) => r.imgId)).size).toBe(64);
  });
});

/** Local stand-ins for the hub: one that answers with a status, one that accepts and never answers. */
async function listen<S extends http.Server | net.Server>(server: S): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('the hub checks: bounded, one clear line each', () => {
  const requests: string[] = [];
  let answering: (status: number) => string;
  let silent: Awaited<ReturnType<typeof listen>>;
  let statusServer: Awaited<ReturnType<typeof listen>>;
  let status = 200;
  beforeAll(async () => {
    statusServer = await listen(
      http.createServer((req, res) => {
        requests.push(`${req.method} ${req.url}`);
        res.statusCode = status;
        res.end('{}');
      }),
    );
    silent = await listen(net.createServer(() => undefined));
    answering = (s) => {
      status = s;
      return statusServer.url;
    };
  });
  afterAll(async () => {
    await statusServer.close();
    await silent.close();
  });

  it('asks the hub API for the dataset and accepts a 200', async () => {
    await checkHubDataset(hubId, { endpoint: answering(200), deadline: Date.now() + 5000 });
    expect(requests.at(-1)).toBe(`GET /api/datasets/${hubId}`);
  });

  it.each([
    [404, /^the Hugging Face hub has no public dataset "SimulaMet-HOST\/Kvasir-VQA" \(http:\/\/127\.0\.0\.1:\d+\/api\/datasets\/SimulaMet-HOST\/Kvasir-VQA answered 404\)$/],
    [503, /^the Hugging Face hub answered 503 for http:\/\/127\.0\.0\.1:\d+\/api\/datasets\//],
  ])('a hub answering %i is a UserError that says so', async (code, message) => {
    const check = checkHubDataset(hubId, { endpoint: answering(code), deadline: Date.now() + 5000 });
    await expect(check).rejects.toBeInstanceOf(UserError);
    await expect(check).rejects.toThrow(message);
  });

  it('a hub that never answers fails at the deadline, naming the URL', async () => {
    const started = Date.now();
    await expect(checkHubDataset(hubId, { endpoint: silent.url, deadline: started + 600 })).rejects.toThrow(
      /^cannot reach http:\/\/127\.0\.0\.1:\d+\/api\/datasets\/SimulaMet-HOST\/Kvasir-VQA \(no answer within 0\.6 s\)$/,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a refused connection fails at once', async () => {
    const closed = await listen(net.createServer());
    await closed.close();
    const started = Date.now();
    await expect(checkHubDataset(hubId, { endpoint: closed.url, deadline: started + 10_000 })).rejects.toThrow(/^cannot reach .* \(connect ECONNREFUSED /);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  describe('DuckDB httpfs, on an instance whose extension folder is empty', () => {
    async function withFreshDuckDb<T>(repository: string, use: (db: Awaited<ReturnType<DuckDBInstance['connect']>>) => Promise<T>): Promise<T> {
      const extensions = path.join(temp.dir, `extensions-${randomBytes(3).toString('hex')}`);
      const instance = await DuckDBInstance.create(':memory:', { extension_directory: extensions, autoinstall_known_extensions: 'false' });
      const db = await instance.connect();
      try {
        await db.run(`SET custom_extension_repository = '${repository}'`);
        return await use(db);
      } finally {
        db.closeSync();
        instance.closeSync();
      }
    }

    it('an extension repository answering 404: "cannot download DuckDB\'s httpfs extension"', async () => {
      await withFreshDuckDb(answering(404), async (db) => {
        await expect(loadHttpfs(db, { deadline: Date.now() + 5000 })).rejects.toThrow(
          /^cannot download DuckDB's httpfs extension: http:\/\/127\.0\.0\.1:\d+\/v[\d.]+\/\w+\/httpfs\.duckdb_extension\.gz answered 404$/,
        );
      });
      expect(requests.at(-1)).toMatch(/^HEAD \/v[\d.]+\/\w+\/httpfs\.duckdb_extension\.gz$/);
    });

    it('an extension repository that never answers fails at the deadline', async () => {
      await withFreshDuckDb(silent.url, async (db) => {
        await expect(loadHttpfs(db, { deadline: Date.now() + 500 })).rejects.toThrow(/^cannot reach http:\/\/127\.0\.0\.1:\d+\/.*httpfs.* \(no answer within 0\.5 s\)$/);
      });
    });
  });

  it('a hub source that cannot be reached writes nothing to the cache', async () => {
    const cacheDir = path.join(temp.dir, 'unreachable');
    const fetching = fetchKvasirVqaSample({ source: datasetSpec({ format: 'kvasir-vqa', hub: hubId }), limit: 8, cacheDir, endpoint: silent.url, timeoutMs: 500 });
    await expect(fetching).rejects.toThrow(/^cannot reach http:\/\/127\.0\.0\.1:\d+\/api\/datasets\/SimulaMet-HOST\/Kvasir-VQA \(no answer within 0\.5 s\)$/);
    expect(existsSync(cacheDir)).toBe(false);
    expect(sampleFile(datasetSpec({ format: 'kvasir-vqa', hub: hubId }), 8, cacheDir)).toBe(path.join(cacheDir, 'kvasir-vqa-8.parquet'));
  });
});

/** Whether huggingface.co answers from here; the offline test below needs it not to. */
async function hubAnswers(): Promise<boolean> {
  try {
    await fetch(`https://huggingface.co/api/datasets/${hubId}`, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
    return true;
  } catch {
    return false;
  }
}
const online = await hubAnswers();

describe('medsynth demo without sample data', () => {
  async function medsynth(args: string[], home: string): Promise<{ code: number; stderr: string; ms: number }> {
    const started = Date.now();
    try {
      const { stderr } = await promisify(execFile)('node', [path.join(root, 'bin/medsynth.mjs'), ...args], {
        cwd: root,
        env: { ...process.env, MEDSYNTH_HOME: home, TEMPORAL_ADDRESS: '', MLFLOW_TRACKING_URI: '' },
        timeout: 60_000,
      });
      return { code: 0, stderr, ms: Date.now() - started };
    } catch (err) {
      const e = err as { code: number; stderr: string };
      return { code: e.code, stderr: e.stderr, ms: Date.now() - started };
    }
  }

  it.skipIf(online)('offline: one line naming what it tried and what to do, exit 1, before any service starts', async () => {
    const home = path.join(temp.dir, 'home-offline');
    const empty = path.join(temp.dir, 'no-data');
    const out = await medsynth(['demo', '--data', empty], home);
    expect(out.code).toBe(1);
    const lines = out.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^error: no sample data under ${empty} \\(kvasir-mini/, medvqa-gi-2024-dev/\\), and the Kvasir-VQA sample could not be fetched: ` +
          `cannot reach https://huggingface\\.co/api/datasets/SimulaMet-HOST/Kvasir-VQA \\(.+\\)\\. ` +
          'Pass --data DIR with a folder holding kvasir-mini/ or medvqa-gi-2024-dev/ .*or connect to the network and run again\\.$',
      ),
    );
    expect(out.stderr).not.toMatch(/internal error|^\s+at /m);
    expect(out.ms).toBeLessThan(20_000);
    expect(existsSync(path.join(home, 'services'))).toBe(false); // nothing started
    expect(existsSync(path.join(home, 'samples'))).toBe(false); // nothing half written
  });

  it('--sample-limit takes a positive whole number', async () => {
    const out = await medsynth(['demo', '--sample-limit', '0'], path.join(temp.dir, 'home-flag'));
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/option '--sample-limit <n>' argument '0' is invalid\. expected a positive whole number/);
  });
});
