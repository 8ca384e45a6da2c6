import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { putArtifact, putBytes } from '../../artifacts/content-store.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('content-addressed store', () => {
  it('keeps a file once under its sha256, whatever its name, and leaves no partial files', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'medsynth-cas-'));
    const root = path.join(dir, 'store');
    const bytes = Buffer.from('lora weights');
    await writeFile(path.join(dir, 'a.safetensors'), bytes);
    await writeFile(path.join(dir, 'b.safetensors'), bytes);
    const a = await putArtifact(root, path.join(dir, 'a.safetensors'));
    const b = await putArtifact(root, path.join(dir, 'b.safetensors'));
    expect(a).toEqual(b);
    expect(a.sha256).toBe(sha(bytes));
    expect(a.path).toBe(path.join(root, a.sha256.slice(0, 2), `${a.sha256}.safetensors`));
    expect(await readFile(a.path)).toEqual(bytes);
    expect(await readdir(path.dirname(a.path))).toEqual([path.basename(a.path)]);
  });

  it('stores bytes by a known hash', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'medsynth-cas-'));
    const bytes = Buffer.from([1, 2, 3]);
    const file = await putBytes(root, sha(bytes), '.jpg', bytes);
    expect(await putBytes(root, sha(bytes), '.jpg', bytes)).toBe(file);
    expect(await readFile(file)).toEqual(bytes);
  });
});
