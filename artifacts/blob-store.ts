// The data plane every node reaches: content-addressed blobs on the MLflow server's artifact proxy
// (PUT/GET /api/2.0/mlflow-artifacts/artifacts/blobs/sha256/<aa>/<hash>), with a read-through cache
// per node under MEDSYNTH_HOME/cache. Where the bytes finally land is the MLflow server's
// --artifacts-destination (a local folder here; S3, GCS or Azure in production).
//
// Format: a blob of at most `chunkBytes` is one object at sha256/<aa>/<hash>. A larger one is a list
// of chunks, each a blob of its own, indexed by the JSON object sha256/<aa>/<hash>.chunks; so an
// upload or a download cut short resumes with the chunks it lacks. Every byte read, from the
// server or from the cache, is checked against its hash.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { runPool } from '../datasets/pool.ts';
import { MlflowError } from '../tracking/mlflow-error.ts';
import type { MlflowHttp } from '../tracking/mlflow-http.ts';
import { contentPath, placeOnce, sha256File } from './content-store.ts';
import { ThreadHash } from './thread-hash.ts';

/** What activities pass each other instead of paths: enough to fetch and check the bytes anywhere. */
export interface BlobRef {
  sha256: string;
  size: number;
  mediaType: string;
}

/** A folder (a checkpoint, a UNet) as one blob: a sorted list of its files' blobs. */
export interface TreeIndex {
  files: Array<{ path: string } & BlobRef>;
}

interface ChunkIndex {
  size: number;
  chunks: Array<{ sha256: string; size: number }>;
}

export const treeMediaType = 'application/vnd.medsynth.tree+json';

/** Part of the format: blobs above this size are stored as chunks of this size. */
export const chunkBytes = 8 * 1024 * 1024;

export interface BlobStoreOptions {
  /** transfers in flight at once: chunks of one blob, or files of a tree */
  concurrency?: number;
  /** attempts per object for errors the HTTP layer's own retries did not cure (cut streams, bad hashes) */
  attempts?: number;
  /** the folder under the artifact proxy's root (default "blobs") */
  prefix?: string;
}

export class BlobIntegrityError extends Error {
  override name = 'BlobIntegrityError';
}

/** Where a blob lives under the artifact proxy's root: <prefix>/sha256/<aa>/<hash>. */
export function blobKey(sha256: string, prefix = 'blobs'): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new BlobIntegrityError(`not a sha256: ${JSON.stringify(sha256)}`);
  return `${prefix}/sha256/${sha256.slice(0, 2)}/${sha256}`;
}

export const blobUri = (sha256: string, prefix = 'blobs') => `mlflow-artifacts:/${blobKey(sha256, prefix)}`;

const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

export class BlobStore {
  private readonly concurrency: number;
  private readonly attempts: number;
  private readonly prefix: string;

  constructor(
    private readonly http: MlflowHttp,
    /** this node's cache: <cacheDir>/sha256/<aa>/<hash> */
    readonly cacheDir: string,
    options: BlobStoreOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 4;
    this.attempts = options.attempts ?? 3;
    this.prefix = options.prefix ?? 'blobs';
  }

  /** The blob's MLflow URI, for records (DuckDB, provenance) that say where bytes are kept. */
  uri(sha256: string): string {
    return blobUri(sha256, this.prefix);
  }

  // ---- writing ----

  /**
   * Uploads a file (streamed: at most `concurrency` chunks in memory) and returns its reference.
   * Chunks already on the server are skipped, so a retried upload continues where one stopped.
   */
  async put(file: string, mediaType = 'application/octet-stream'): Promise<BlobRef> {
    const { size } = await stat(file);
    if (size <= chunkBytes) return this.putBytes(await readFile(file), mediaType);
    const whole = new ThreadHash();
    const chunks: ChunkIndex['chunks'] = [];
    const handle = await open(file, 'r');
    try {
      const offsets = Array.from({ length: Math.ceil(size / chunkBytes) }, (_, i) => i * chunkBytes);
      // Reads are chained, so the whole-file hash sees the chunks in order; uploads overlap.
      let reading = Promise.resolve();
      await runPool(offsets.entries(), this.concurrency, async ([i, offset]) => {
        const bytes = Buffer.allocUnsafe(Math.min(chunkBytes, size - offset));
        const read = reading.then(async () => {
          await handle.read(bytes, 0, bytes.length, offset);
          whole.update(bytes);
        });
        reading = read;
        await read;
        const sha256 = sha256Of(bytes);
        chunks[i] = { sha256, size: bytes.length };
        if ((await this.remoteSize(this.key(sha256))) !== bytes.length) await this.upload(this.key(sha256), () => bytes);
      });
    } catch (err) {
      await whole.discard();
      throw err;
    } finally {
      await handle.close();
    }
    const sha256 = await whole.digest();
    const index: ChunkIndex = { size, chunks };
    await this.upload(`${this.key(sha256)}.chunks`, () => Buffer.from(JSON.stringify(index)));
    return { sha256, size, mediaType };
  }

  /** Uploads bytes held in memory (JSON, PNGs); small ones are kept in this node's cache too. */
  async putBytes(bytes: Buffer, mediaType = 'application/octet-stream'): Promise<BlobRef> {
    if (bytes.length > chunkBytes) {
      const spill = path.join(this.cacheDir, `.put-${process.pid}-${Math.random().toString(36).slice(2)}`);
      await mkdir(this.cacheDir, { recursive: true });
      await writeFile(spill, bytes);
      try {
        return await this.put(spill, mediaType);
      } finally {
        await rm(spill, { force: true });
      }
    }
    const sha256 = sha256Of(bytes);
    await this.upload(this.key(sha256), () => bytes);
    await placeOnce(this.cachePath(sha256), bytes.length, (temporary) => writeFile(temporary, bytes));
    return { sha256, size: bytes.length, mediaType };
  }

  async putJson(value: unknown, mediaType = 'application/json'): Promise<BlobRef> {
    return this.putBytes(Buffer.from(JSON.stringify(value)), mediaType);
  }

  async putJsonLines(rows: readonly unknown[]): Promise<BlobRef> {
    return this.putBytes(Buffer.from(rows.map((r) => JSON.stringify(r) + '\n').join('')), 'application/x-ndjson');
  }

  /** Uploads every file under `dir` and an index of them; the index is the tree's reference. */
  async putTree(dir: string): Promise<BlobRef> {
    const names = await listFiles(dir);
    const files: TreeIndex['files'] = [];
    await runPool(names.entries(), this.concurrency, async ([i, name]) => {
      files[i] = { path: name, ...(await this.put(path.join(dir, name))) };
    });
    return this.putJson({ files } satisfies TreeIndex, treeMediaType);
  }

  // ---- reading ----

  /**
   * A local file holding the blob's bytes: the cached copy if its hash still matches (a corrupted
   * one is dropped and fetched again), else downloaded into the cache.
   */
  async get(ref: BlobRef): Promise<string> {
    const cached = this.cachePath(ref.sha256);
    if (await matches(cached, ref)) return cached;
    await rm(cached, { force: true });
    if (ref.size <= chunkBytes) await this.download(this.key(ref.sha256), ref);
    else await this.downloadChunked(ref);
    return cached;
  }

  /**
   * Like get, but first tries files this node may already see (a dataset's source path on a shared
   * mount): the first whose bytes hash to the blob's is used as it is.
   */
  async getLocal(ref: BlobRef, candidates: ReadonlyArray<string | null | undefined>): Promise<string> {
    for (const candidate of candidates) if (candidate && (await matches(candidate, ref))) return candidate;
    return this.get(ref);
  }

  async getJson<T>(ref: BlobRef): Promise<T> {
    return JSON.parse(await readFile(await this.get(ref), 'utf8')) as T;
  }

  /** A JSON-lines blob (putJsonLines), one value per line. */
  async getJsonLines<T>(ref: BlobRef): Promise<T[]> {
    return parseJsonLines<T>(await readFile(await this.get(ref), 'utf8'));
  }

  /** Materialises a tree under `dir`, its files hard-linked from the cache where the file system allows. */
  async getTree(ref: BlobRef, dir: string): Promise<string> {
    const { files } = await this.getJson<TreeIndex>(ref);
    await runPool(files, this.concurrency, async (file) => void (await this.getAs(file, path.join(dir, ...safeSegments(file.path)))));
    return dir;
  }

  /** The blob at a path of the caller's choosing (a name a library insists on), linked from the cache. */
  async getAs(ref: BlobRef, target: string): Promise<string> {
    if (await matches(target, ref)) return target;
    const source = await this.get(ref);
    await mkdir(path.dirname(target), { recursive: true });
    await rm(target, { force: true });
    await link(source, target).catch(() => copyFile(source, target));
    return target;
  }

  // ---- transport ----

  private key(sha256: string): string {
    return blobKey(sha256, this.prefix);
  }

  private cachePath(sha256: string): string {
    return contentPath(path.join(this.cacheDir, 'sha256'), sha256, '');
  }

  private url(key: string): string {
    return `${this.http.baseUrl}/api/2.0/mlflow-artifacts/artifacts/${key}`;
  }

  /** The size of the object the server holds at `key`, or null: one byte asked for, not the whole. */
  private async remoteSize(key: string): Promise<number | null> {
    try {
      const response = await this.http.raw('blob probe', { method: 'GET', url: this.url(key), headers: { range: 'bytes=0-0' } });
      const total = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1] ?? response.headers.get('content-length');
      await response.body?.cancel();
      return total === null || total === undefined ? null : Number(total);
    } catch (err) {
      if (err instanceof MlflowError && err.status === 404) return null;
      throw err;
    }
  }

  private async upload(key: string, bytes: () => Buffer): Promise<void> {
    await this.retrying(`upload ${key}`, () =>
      this.http.raw('blob upload', {
        method: 'PUT',
        url: this.url(key),
        body: () => ({ body: view(bytes()), headers: { 'content-type': 'application/octet-stream' } }),
      }),
    );
  }

  /** Streams one object into the cache, hashing as it goes; only a verified file gets its name. */
  private async download(key: string, expected: { sha256: string; size: number }): Promise<string> {
    const target = this.cachePath(expected.sha256);
    await rm(target, { force: true }); // callers come here when what is there does not match
    await this.retrying(`download ${key}`, () =>
      placeOnce(target, expected.size, async (temporary) => {
        const response = await this.http.raw('blob download', { method: 'GET', url: this.url(key) });
        const hash = createHash('sha256');
        let size = 0;
        const tap = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            hash.update(chunk);
            size += chunk.length;
            done(null, chunk);
          },
        });
        try {
          await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), tap, createWriteStream(temporary));
          const sha256 = hash.digest('hex');
          if (sha256 !== expected.sha256 || size !== expected.size) {
            throw new BlobIntegrityError(`${key}: the server sent ${size} bytes hashing to ${sha256}, expected ${expected.size} bytes`);
          }
        } catch (err) {
          await rm(temporary, { force: true });
          throw err;
        }
      }),
    );
    return target;
  }

  private async downloadChunked(ref: BlobRef): Promise<void> {
    const indexKey = `${this.key(ref.sha256)}.chunks`;
    const index = await this.retrying(`download ${indexKey}`, async () => {
      const response = await this.http.raw('blob download', { method: 'GET', url: this.url(indexKey) });
      return (await response.json()) as ChunkIndex;
    });
    if (index.size !== ref.size) throw new BlobIntegrityError(`${indexKey}: indexes ${index.size} bytes, expected ${ref.size}`);
    // Chunks are written in place into one partial file named after the blob, so a download cut
    // short keeps what it had: a chunk whose bytes there already hash right is not fetched again.
    // The first pass hashes each byte once (the whole file, in order); only if that hash is wrong
    // does a second pass check every chunk on its own and fetch the bad ones again.
    const target = this.cachePath(ref.sha256);
    const partial = `${target}.partial`;
    await mkdir(path.dirname(target), { recursive: true });
    const resuming = ((await stat(partial).catch(() => null))?.size ?? 0) > 0;
    let sha256 = await this.assemble(index, partial, resuming);
    if (sha256 !== ref.sha256) sha256 = await this.assemble(index, partial, true);
    if (sha256 !== ref.sha256) {
      await rm(partial, { force: true });
      throw new BlobIntegrityError(`${indexKey}: its chunks hash to ${sha256}, expected ${ref.sha256}`);
    }
    await rename(partial, target);
  }

  /**
   * Fills `partial` with the index's chunks and returns the sha256 of the whole. `check`: keep the
   * bytes already there where they hash right, and check each fetched chunk's hash. The whole-file
   * hash follows the chunks in order, with at most `concurrency` of them in memory.
   */
  private async assemble(index: ChunkIndex, partial: string, check: boolean): Promise<string> {
    const handle = await open(partial, 'a+').then(async (h) => (await h.close(), open(partial, 'r+')));
    const whole = new ThreadHash();
    // turns[i].previous resolves once chunks 0..i-1 are in the hash
    const turns: Array<{ previous: Promise<void>; done: () => void }> = [];
    let before = Promise.resolve();
    for (let i = 0; i < index.chunks.length; i++) {
      let done!: () => void;
      const next = new Promise<void>((resolve) => (done = resolve));
      turns.push({ previous: before, done });
      before = next;
    }
    try {
      const offsets = index.chunks.map((_, i) => index.chunks.slice(0, i).reduce((sum, c) => sum + c.size, 0));
      await runPool(index.chunks.entries(), this.concurrency, async ([i, chunk]) => {
        let bytes: Buffer | null = null;
        if (check) {
          const there = Buffer.allocUnsafe(chunk.size);
          const { bytesRead } = await handle.read(there, 0, chunk.size, offsets[i]);
          if (bytesRead === chunk.size && sha256Of(there) === chunk.sha256) bytes = there;
        }
        if (!bytes) {
          bytes = await this.fetchChunk(this.key(chunk.sha256), chunk, check);
          await handle.write(bytes, 0, chunk.size, offsets[i]);
        }
        await turns[i]!.previous;
        whole.update(bytes, true);
        turns[i]!.done();
      });
    } catch (err) {
      await whole.discard();
      throw err;
    } finally {
      await handle.close();
    }
    return whole.digest();
  }

  /** One chunk into memory (chunkBytes at most); `check`: against its own hash too. */
  private async fetchChunk(key: string, expected: { sha256: string; size: number }, check: boolean): Promise<Buffer> {
    return this.retrying(`download ${key}`, async () => {
      const response = await this.http.raw('blob download', { method: 'GET', url: this.url(key) });
      const bytes = Buffer.from(await response.arrayBuffer());
      if (bytes.length !== expected.size || (check && sha256Of(bytes) !== expected.sha256)) {
        throw new BlobIntegrityError(`${key}: the server sent ${bytes.length} bytes hashing to ${sha256Of(bytes)}, expected ${expected.size} bytes`);
      }
      return bytes;
    });
  }

  /** Retries what MlflowHttp does not: a stream cut mid-body, a hash mismatch. Client errors are final. */
  private async retrying<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await attempt();
      } catch (err) {
        const final = err instanceof MlflowError && !err.retryable;
        if (final || i >= this.attempts) {
          if (err instanceof MlflowError && err.status === 404) throw new BlobIntegrityError(`blob store: ${what}: not on the server`, { cause: err });
          throw err;
        }
        await sleep(250 * 2 ** (i - 1));
      }
    }
  }
}

export function parseJsonLines<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as T);
}

/** The buffer's bytes as a Uint8Array, without a copy. */
const view = (b: Buffer) => new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.length);

/** True when `file` exists with the reference's size and hash. */
async function matches(file: string, ref: { sha256: string; size: number }): Promise<boolean> {
  const info = await stat(file).catch(() => null);
  return !!info && info.isFile() && info.size === ref.size && (await sha256File(file)) === ref.sha256;
}

/** Files under `dir`, relative, '/'-separated, sorted. */
async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(path.join(dir, prefix), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

/** A tree's file path stays inside the folder it is materialised in. */
function safeSegments(rel: string): string[] {
  const segments = rel.split('/');
  if (rel.startsWith('/') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new BlobIntegrityError(`tree entry ${JSON.stringify(rel)} would leave its folder`);
  }
  return segments;
}
