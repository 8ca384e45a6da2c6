// The blob store against the real MLflow artifact proxy: two stores with separate caches stand for
// two nodes that share only the server.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobIntegrityError, BlobStore, chunkBytes } from '../../artifacts/blob-store.ts';
import { MlflowHttp } from '../../tracking/mlflow-http.ts';
import { testServices } from '../helpers/services.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Counts requests by method, and can make them fail (as a connection cut would) after a budget. */
function countingFetch() {
  const counts = { GET: 0, PUT: 0 };
  const state = { failAfter: Infinity, method: '' };
  const wrapped: typeof fetch = async (input, init) => {
    const method = (init?.method ?? 'GET') as 'GET' | 'PUT';
    if (method === state.method && counts[method] >= state.failAfter) throw new TypeError('fetch failed: connection reset (test)');
    counts[method]++;
    return fetch(input, init);
  };
  return { counts, state, fetch: wrapped };
}

describe('blob store on the MLflow artifact proxy', () => {
  let dir: string;
  const node = async (name: string, fetchImpl?: typeof fetch) =>
    new BlobStore(new MlflowHttp(testServices().mlflowUri, { fetch: fetchImpl, retries: 1, retryDelayMs: 10 }), path.join(dir, name), {
      attempts: 2,
      concurrency: 1, // one transfer at a time, so where a cut falls is known
    });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medsynth-blobs-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('moves a small file from one node to another, verified by hash', async () => {
    const bytes = randomBytes(50_000);
    await writeFile(path.join(dir, 'small.bin'), bytes);
    const ref = await (await node('a')).put(path.join(dir, 'small.bin'), 'image/png');
    expect(ref).toEqual({ sha256: sha(bytes), size: bytes.length, mediaType: 'image/png' });
    const b = await node('b');
    const file = await b.get(ref);
    expect(file.startsWith(path.join(dir, 'b'))).toBe(true);
    expect(await readFile(file)).toEqual(bytes);
    expect(b.uri(ref.sha256)).toBe(`mlflow-artifacts:/blobs/sha256/${ref.sha256.slice(0, 2)}/${ref.sha256}`);
  });

  it('chunks a large file; an upload or a download cut short resumes at the chunk it lacks', async () => {
    const bytes = randomBytes(chunkBytes * 3 + 1234); // 4 chunks
    const file = path.join(dir, 'large.bin');
    await writeFile(file, bytes);

    const cut = countingFetch();
    cut.state.method = 'PUT';
    cut.state.failAfter = 2;
    await expect((await node('up1', cut.fetch)).put(file)).rejects.toThrow(/connection reset/);
    const again = countingFetch();
    const ref = await (await node('up2', again.fetch)).put(file);
    expect(ref.sha256).toBe(sha(bytes));
    expect(again.counts.PUT).toBe(4 - 2 + 1); // the missing chunks and the index

    const down = countingFetch();
    down.state.method = 'GET';
    down.state.failAfter = 3; // the index, then two chunks
    const reader = await node('down', down.fetch);
    await expect(reader.get(ref)).rejects.toThrow(/connection reset/);
    const resumed = countingFetch();
    const file2 = await (await node('down', resumed.fetch)).get(ref);
    expect(sha(await readFile(file2))).toBe(ref.sha256);
    expect(resumed.counts.GET).toBe(1 + 2); // the index and the two chunks it lacked
  });

  it('detects a corrupted cached blob and fetches it again', async () => {
    const bytes = randomBytes(10_000);
    const ref = await (await node('c1')).putBytes(bytes);
    const counting = countingFetch();
    const reader = await node('c2', counting.fetch);
    const cached = await reader.get(ref);
    const changed = Buffer.from(bytes);
    changed[100] ^= 0xff;
    await writeFile(cached, changed); // same size, other bytes
    expect(await readFile(await reader.get(ref))).toEqual(bytes);
    expect(counting.counts.GET).toBe(2);
  });

  it('round-trips a folder as a tree, and prefers a visible local copy whose hash matches', async () => {
    const src = path.join(dir, 'tree-src');
    await mkdir(path.join(src, 'sub'), { recursive: true });
    await writeFile(path.join(src, 'a.json'), '{"step":4}');
    await writeFile(path.join(src, 'sub', 'b.bin'), randomBytes(2000));
    const tree = await (await node('t1')).putTree(src);
    const out = await (await node('t2')).getTree(tree, path.join(dir, 'tree-out'));
    expect(await readFile(path.join(out, 'sub', 'b.bin'))).toEqual(await readFile(path.join(src, 'sub', 'b.bin')));
    expect(await readFile(path.join(out, 'a.json'), 'utf8')).toBe('{"step":4}');

    const local = path.join(src, 'a.json');
    const ref = { sha256: sha(Buffer.from('{"step":4}')), size: 10, mediaType: 'application/json' };
    const counting = countingFetch();
    const reader = await node('t3', counting.fetch);
    await writeFile(path.join(dir, 'impostor.json'), '{"step":5}');
    expect(await reader.getLocal(ref, [path.join(dir, 'missing.json'), path.join(dir, 'impostor.json'), local])).toBe(local);
    expect(counting.counts.GET).toBe(0);
  });

  it('names a blob the server does not have', async () => {
    const ref = { sha256: sha(randomBytes(8)), size: 8, mediaType: 'application/octet-stream' };
    const error = await (await node('m')).get(ref).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlobIntegrityError);
    expect(String(error)).toMatch(new RegExp(`${ref.sha256}: not on the server`));
  });
});
