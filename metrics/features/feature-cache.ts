// Features on disk, keyed by (image sha256, extractor sha256, protocol): one folder per extractor
// file and protocol, holding Arrow IPC files of rows {sha256, <output>: FixedSizeList<Float32>}.
// Each evaluation appends one file with the rows it had to extract; nothing is rewritten.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Field, FixedSizeList, Float32, makeData, makeVector, Table, tableFromIPC, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import type { ExtractorOutput } from '../extractors/registry.ts';

export type FeatureRows = Map<string, Map<string, Float32Array>>; // image sha256 -> output -> values

export function cacheFolder(cacheDir: string, extractorSha256: string, protocol: string): string {
  return path.join(cacheDir, `${extractorSha256.slice(0, 16)}-${protocol}`);
}

/** Rows of the wanted images found in the folder (all outputs present with the right sizes). */
export async function readCachedFeatures(folder: string, wanted: Set<string>, outputs: ExtractorOutput[]): Promise<FeatureRows> {
  const found: FeatureRows = new Map();
  const files = (await readdir(folder).catch(() => [] as string[])).filter((f) => f.endsWith('.arrow')).sort();
  for (const file of files) {
    const table = tableFromIPC(await readFile(path.join(folder, file)));
    const shas = table.getChild('sha256');
    const columns = outputs.map((o) => ({ o, col: table.getChild(o.name) }));
    if (!shas || columns.some(({ o, col }) => !col || (col.type as FixedSizeList).listSize !== o.dim)) continue;
    for (let i = 0; i < table.numRows; i++) {
      const sha = shas.get(i) as string;
      if (!wanted.has(sha) || found.has(sha)) continue;
      const row = new Map<string, Float32Array>();
      for (const { o, col } of columns) row.set(o.name, Float32Array.from(col!.get(i) as Iterable<number>));
      found.set(sha, row);
    }
  }
  return found;
}

export async function writeCachedFeatures(folder: string, rows: FeatureRows, outputs: ExtractorOutput[]): Promise<void> {
  if (rows.size === 0) return;
  await mkdir(folder, { recursive: true });
  const shas = [...rows.keys()];
  const columns: Record<string, ReturnType<typeof makeVector>> = { sha256: vectorFromArray(shas, new Utf8()) };
  for (const o of outputs) {
    const values = new Float32Array(shas.length * o.dim);
    shas.forEach((sha, i) => values.set(rows.get(sha)!.get(o.name)!, i * o.dim));
    const child = makeData({ type: new Float32(), length: values.length, data: values });
    const type = new FixedSizeList(o.dim, new Field('value', new Float32(), false));
    columns[o.name] = makeVector(makeData({ type, length: shas.length, nullCount: 0, child }));
  }
  const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.arrow`;
  const tmp = path.join(folder, `.${name}.tmp`);
  await writeFile(tmp, tableToIPC(new Table(columns), 'file'));
  await rename(tmp, path.join(folder, name));
}
