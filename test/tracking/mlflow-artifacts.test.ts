import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowError } from '../../tracking/mlflow-error.ts';
import { freshRun } from './mlflow-fixture.ts';

describe('MlflowClient: artifacts through the server proxy', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'medsynth-artifacts-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads files, lists them, and downloads the same bytes', async () => {
    const { mlflow, runId } = await freshRun('artifacts');
    const bytes = randomBytes(300_000);
    const file = join(dir, 'manifest.parquet');
    await writeFile(file, bytes);
    await writeFile(join(dir, 'spec.json'), '{"name":"demo"}');

    await mlflow.uploadArtifact(runId, file, 'dataset/manifest.parquet');
    await mlflow.uploadArtifact(runId, join(dir, 'spec.json'), 'spec.json');

    expect(await mlflow.listArtifacts(runId)).toEqual([
      { path: 'dataset', is_dir: true },
      { path: 'spec.json', is_dir: false, file_size: 15 },
    ]);
    expect(await mlflow.listArtifacts(runId, 'dataset')).toEqual([{ path: 'dataset/manifest.parquet', is_dir: false, file_size: bytes.length }]);
    expect((await mlflow.downloadArtifact(runId, 'dataset/manifest.parquet')).equals(bytes)).toBe(true);
  });

  it('uploading again replaces the file (a retried upload is harmless)', async () => {
    const { mlflow, runId } = await freshRun('artifacts-again');
    const file = join(dir, 'report.html');
    await writeFile(file, 'first');
    await mlflow.uploadArtifact(runId, file, 'report.html');
    await writeFile(file, 'second');
    await mlflow.uploadArtifact(runId, file, 'report.html');
    expect((await mlflow.downloadArtifact(runId, 'report.html')).toString()).toBe('second');
  });

  it('refuses paths outside the run, and reports a missing artifact as 404', async () => {
    const { mlflow, runId } = await freshRun('artifacts-bad');
    await writeFile(join(dir, 'x'), 'x');
    await expect(mlflow.uploadArtifact(runId, join(dir, 'x'), '../other-run/x')).rejects.toThrow(/relative/);
    const missing = await mlflow.downloadArtifact(runId, 'nope.bin').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(MlflowError);
    expect(missing).toMatchObject({ status: 404, errorCode: 'RESOURCE_DOES_NOT_EXIST' });
  });
});
