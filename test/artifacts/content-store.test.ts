import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { putBytes } from '../../artifacts/content-store.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('content-addressed store', () => {
  it('stores bytes by a known hash', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'medsynth-cas-'));
    const bytes = Buffer.from([1, 2, 3]);
    const file = await putBytes(root, sha(bytes), '.jpg', bytes);
    expect(await putBytes(root, sha(bytes), '.jpg', bytes)).toBe(file);
    expect(await readFile(file)).toEqual(bytes);
    expect(await readdir(path.dirname(file))).toEqual([path.basename(file)]); // no partial file left
  });
});
