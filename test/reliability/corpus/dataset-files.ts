// Bad image files and archive entries beside good ones, through one real ingestion each: every bad
// file must be one reject naming it, every good image a row.
import { access, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ingestDataset } from '../../../datasets/index.ts';
import type { IngestResult } from '../../../datasets/index.ts';
import { put, writeClassFolderCorpus, writeClassFolderZip } from '../../fixtures/bad-corpus.ts';
import { makeJpeg } from '../../fixtures/images.ts';
import { datasetSpec } from '../../fixtures/spec.ts';
import { attempt, crashed, lostGood, rejectProblems, userErrorProblems, verdict } from './case.ts';
import type { BadInputCase } from './case.ts';

/** A real JPEG whose frame header claims width x height: a bomb refused from the header alone. */
export function claimSize(jpeg: Buffer, width: number, height: number): Buffer {
  const copy = Buffer.from(jpeg);
  const sof = copy.indexOf(Buffer.from([0xff, 0xc0]));
  copy.writeUInt16BE(height, sof + 5);
  copy.writeUInt16BE(width, sof + 7);
  return copy;
}

const ingest = (format: 'class-folders', root: string, blobDir: string) =>
  ingestDataset(datasetSpec({ format, path: root }), { blobDir }).then((r): IngestResult | Error => r, (e: Error) => e);

/** Class folders: the shared bad-file fixtures, a JPEG bomb and a symlink out of the folder. */
export async function imageCases(dir: string): Promise<BadInputCase[]> {
  const root = path.join(dir, 'classes');
  const corpus = await writeClassFolderCorpus(root);
  await put(root, 'polyp/jpeg-bomb.jpg', claimSize(await makeJpeg(32, 32, 90), 60_000, 60_000));
  const outside = path.join(dir, 'outside-the-dataset.jpg');
  await writeFile(outside, await makeJpeg(24, 24, 91));
  await symlink(outside, path.join(root, 'cecum', 'link-out.jpg'));
  const result = await ingest('class-folders', root, path.join(dir, 'blobs'));
  const good = corpus.good.map((g) => path.join(root, g.rel));
  const bad = [
    ...corpus.bad.map((b) => ({ kind: 'image' as const, rel: b.rel, reason: b.reason })),
    { kind: 'image' as const, rel: 'polyp/jpeg-bomb.jpg', reason: 'too-many-pixels' },
    { kind: 'path' as const, rel: 'cecum/link-out.jpg', reason: 'path-escape' },
  ];
  return bad.map(({ kind, rel, reason }) => {
    const name = `${reason}: ${rel}`;
    const escapes = kind === 'path' ? ('dataset' as const) : undefined;
    if (result instanceof Error) return crashed(kind, name, result, escapes);
    const { problems, message } = rejectProblems(result, path.join(root, rel), reason, path.basename(rel));
    if (escapes && result.rows.some((r) => r.sourcePaths.some((s) => s.endsWith('link-out.jpg')) || r.path === outside)) problems.push('the file outside the dataset was read');
    return verdict(kind, name, [...problems, ...lostGood(result, good)], message, escapes);
  });
}

/** Kvasir v2 as a zip: the shared hostile-entry fixture, and an archive that is no zip at all. */
export async function archiveCases(dir: string): Promise<BadInputCase[]> {
  const zip = path.join(dir, 'zip', 'kvasir-v2.zip');
  const expected = await writeClassFolderZip(zip);
  const result = await ingest('class-folders', zip, path.join(dir, 'zip-blobs'));
  const good = expected.good.map((g) => `${zip}!${g.rel}`);
  const cases: BadInputCase[] = [];
  for (const b of expected.bad) {
    const escapes = b.reason === 'path-traversal' ? ('archive' as const) : undefined;
    const name = `${b.reason}: entry ${b.rel}`;
    if (result instanceof Error) {
      cases.push(crashed('archive', name, result, escapes));
      continue;
    }
    const { problems, message } = rejectProblems(result, `${zip}!${b.rel}`, b.reason, b.rel);
    if (escapes) {
      if (result.rows.some((r) => r.sourcePaths.includes(`${zip}!${b.rel}`))) problems.push('the entry was read');
      const landed = path.resolve(path.dirname(zip), b.rel.replace(/^\/+/, ''));
      if (await access(landed).then(() => true, () => false)) problems.push(`a file appeared at ${landed}`);
    }
    cases.push(verdict('archive', name, [...problems, ...lostGood(result, good)], message, escapes));
  }
  cases.push(
    await attempt('archive', 'a .zip that is not a zip archive', async () => {
      const damaged = path.join(dir, 'zip', 'damaged.zip');
      await writeFile(damaged, 'PK this is not really a zip');
      const error = await ingestDataset(datasetSpec({ format: 'class-folders', path: damaged })).then(() => undefined, (e: unknown) => e);
      const problems = userErrorProblems(error, damaged, /not a readable zip/);
      if (result instanceof Error) problems.push('the good archive beside it failed');
      return verdict('archive', 'a .zip that is not a zip archive', problems, error instanceof Error ? error.message : '');
    }),
  );
  return cases;
}

/** A dataset.path that does not exist: one error naming it and the expected layout. */
export async function missingDatasetCase(dir: string): Promise<BadInputCase> {
  const name = 'dataset.path that does not exist';
  return attempt('path', name, async () => {
    const missing = path.join(dir, 'no-such-dataset');
    const error = await ingestDataset(datasetSpec({ format: 'class-folders', path: missing })).then(() => undefined, (e: unknown) => e);
    const goodRoot = path.join(dir, 'small-good');
    await mkdir(goodRoot, { recursive: true });
    await put(goodRoot, 'polyp/a.jpg', await makeJpeg(24, 24, 92));
    const good = await ingestDataset(datasetSpec({ format: 'class-folders', path: goodRoot }), { blobDir: path.join(dir, 'blobs') });
    return verdict('path', name, [...userErrorProblems(error, missing, /does not exist; expected class folders/), ...lostGood(good, [path.join(goodRoot, 'polyp/a.jpg')])], (error as Error)?.message ?? '');
  });
}
