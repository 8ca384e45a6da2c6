// Images -> features of one extractor, in batches: hash every file, take what the cache has,
// decode + preprocess + run the rest (the next batch is prepared while the model runs), and
// append new rows to the cache every few batches. Memory holds features, never all the pixels.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { OpenExtractor } from '../extractors/session.ts';
import { cacheFolder, readCachedFeatures, writeCachedFeatures, type FeatureRows } from './feature-cache.ts';
import { FeatureMatrix } from './feature-matrix.ts';
import { preprocessStep } from './preprocess.ts';

export interface ExtractProgress {
  set: string;
  extractor: string;
  done: number;
  total: number;
  cached: number;
  failed: number;
}

export interface ExtractOptions {
  set: string;
  protocol: string;
  cacheDir?: string;
  batchSize?: number;
  onProgress?: (p: ExtractProgress) => void;
}

export interface FailedImage {
  path: string;
  reason: string;
}

export interface ExtractedFeatures {
  /** images that gave features, in input order; rows of every matrix follow it */
  paths: string[];
  /** sha256 of each of `paths`' contents */
  shas: string[];
  features: Map<string, FeatureMatrix>;
  failed: FailedImage[];
  cached: number;
  extracted: number;
}

const HASH_CONCURRENCY = 16;
const CACHE_FLUSH_ROWS = 1024;

async function hashFiles(paths: string[], failed: FailedImage[]): Promise<Map<string, string>> {
  const shas = new Map<string, string>();
  for (let i = 0; i < paths.length; i += HASH_CONCURRENCY) {
    await Promise.all(
      paths.slice(i, i + HASH_CONCURRENCY).map(async (p) => {
        try {
          shas.set(p, createHash('sha256').update(await readFile(p)).digest('hex'));
        } catch (err) {
          failed.push({ path: p, reason: (err as Error).message });
        }
      }),
    );
  }
  return shas;
}

interface Prepared {
  shas: string[];
  input: Float32Array;
}

export async function extractFeatures(extractor: OpenExtractor, paths: string[], opts: ExtractOptions): Promise<ExtractedFeatures> {
  const { spec, session } = extractor;
  const failed: FailedImage[] = [];
  const shaOf = await hashFiles(paths, failed);
  const wanted = new Set(shaOf.values());
  const folder = opts.cacheDir ? cacheFolder(opts.cacheDir, extractor.sha256, opts.protocol) : undefined;
  const rows: FeatureRows = folder ? await readCachedFeatures(folder, wanted, spec.outputs) : new Map();
  const cachedCount = paths.filter((p) => rows.has(shaOf.get(p) ?? '')).length;

  // one model run per distinct image content
  const todo: { path: string; sha: string }[] = [];
  const queued = new Set<string>();
  for (const p of paths) {
    const sha = shaOf.get(p);
    if (sha && !rows.has(sha) && !queued.has(sha)) {
      queued.add(sha);
      todo.push({ path: p, sha });
    }
  }

  const step = preprocessStep(spec.preprocess);
  // 16: onnxruntime's arena for an Inception batch of 32 alone holds about 1.2 GB, for 16 about 0.7 GB
  const batchSize = opts.batchSize ?? 16;
  const perImage = 3 * step.size * step.size;
  let done = cachedCount;
  const report = () =>
    opts.onProgress?.({ set: opts.set, extractor: spec.name, done, total: paths.length, cached: cachedCount, failed: failed.length });
  report();

  const prepare = async (batch: typeof todo): Promise<Prepared> => {
    const decoded = await Promise.all(
      batch.map(async ({ path, sha }) => {
        try {
          return { path, sha, pixels: await step.decode(await readFile(path)) };
        } catch (err) {
          failed.push({ path, reason: (err as Error).message });
          return undefined;
        }
      }),
    );
    const input = new Float32Array(batch.length * perImage);
    const shas: string[] = [];
    for (const d of decoded) {
      if (!d) continue;
      try {
        step.write(d.pixels, input, shas.length * perImage);
        shas.push(d.sha);
      } catch (err) {
        failed.push({ path: d.path, reason: (err as Error).message });
      }
    }
    return { shas, input: input.subarray(0, shas.length * perImage) };
  };

  let extracted = 0;
  let fresh: FeatureRows = new Map();
  const flush = async () => {
    if (folder) await writeCachedFeatures(folder, fresh, spec.outputs);
    fresh = new Map();
  };
  let next = todo.length > 0 ? prepare(todo.slice(0, batchSize)) : undefined;
  for (let start = 0; next; start += batchSize) {
    const batch = await next;
    next = start + batchSize < todo.length ? prepare(todo.slice(start + batchSize, start + 2 * batchSize)) : undefined;
    if (batch.shas.length > 0) {
      const feeds = { [spec.input.name]: new ort.Tensor('float32', batch.input, [batch.shas.length, ...spec.input.chw]) };
      const out = await session.run(feeds, spec.outputs.map((o) => o.name));
      batch.shas.forEach((sha, i) => {
        const row = new Map<string, Float32Array>();
        for (const o of spec.outputs) row.set(o.name, (out[o.name]!.data as Float32Array).slice(i * o.dim, (i + 1) * o.dim));
        rows.set(sha, row);
        fresh.set(sha, row);
      });
      for (const t of Object.values(out)) t.dispose();
      extracted += batch.shas.length;
    }
    done += Math.min(batchSize, todo.length - start);
    if (fresh.size >= CACHE_FLUSH_ROWS) await flush();
    report();
  }
  await flush();

  const okPaths = paths.filter((p) => rows.has(shaOf.get(p) ?? ''));
  const features = new Map<string, FeatureMatrix>();
  for (const o of spec.outputs) {
    const m = new FeatureMatrix(o.dim, okPaths.length);
    for (const p of okPaths) m.push(rows.get(shaOf.get(p)!)!.get(o.name)!);
    features.set(o.name, m);
  }
  done = paths.length;
  report();
  return { paths: okPaths, shas: okPaths.map((p) => shaOf.get(p)!), features, failed, cached: cachedCount, extracted };
}
