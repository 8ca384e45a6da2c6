// Problems found on data nobody here tuned to (issue 16): a symlink out of the dataset folder is a
// path-escape reject (never read), hidden entries are counted in the summary, a Latin-1 prompt CSV
// is a file-level reject rather than garbled prompts, and any label can be logged to MLflow.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { logMlflowMetrics, mlflowMetricKey } from '../../activities/run-records.ts';
import { ingestDataset } from '../../datasets/index.ts';
import { MlflowClient } from '../../tracking/mlflow-client.ts';
import { put, tempDir } from '../fixtures/bad-corpus.ts';
import { makeJpeg } from '../fixtures/images.ts';
import { datasetSpec } from '../fixtures/spec.ts';
import { testServices } from '../helpers/services.ts';

describe('found on data', () => {
  it('rejects a symlink whose target leaves the dataset folder as path-escape, keeps one that stays inside', async () => {
    const { dir } = await tempDir();
    const root = path.join(dir, 'data');
    const outside = path.join(dir, 'outside.jpg');
    await writeFile(outside, await makeJpeg(40, 30, 1));
    for (let i = 0; i < 3; i++) await put(root, `polyp/${i}.jpg`, await makeJpeg(40, 30, 10 + i));
    await mkdir(path.join(root, 'cecum'), { recursive: true });
    await symlink(outside, path.join(root, 'cecum', 'escape.jpg'));
    await symlink(path.join(root, 'polyp', '0.jpg'), path.join(root, 'cecum', 'inside.jpg'));
    await symlink(path.join(dir, 'missing.jpg'), path.join(root, 'cecum', 'dangling.jpg'));
    const result = await ingestDataset(datasetSpec({ format: 'class-folders', path: root }), { blobDir: path.join(dir, 'blobs') });
    const escape = result.rejects.find((r) => r.source.endsWith('escape.jpg'));
    expect(escape).toMatchObject({ reason: 'path-escape', detail: expect.stringMatching(/a symlink to .*outside\.jpg, outside the dataset folder: never read/) });
    expect(result.rejects.find((r) => r.source.endsWith('dangling.jpg'))).toMatchObject({ reason: 'path-escape', detail: 'a symlink that does not resolve' });
    // the symlink inside the folder is read (its bytes equal polyp/0.jpg: merged as a duplicate)
    expect(result.stats).toMatchObject({ candidates: 4, accepted: 3, duplicatesMerged: 1 });
    expect(result.rows.some((r) => r.path.endsWith('outside.jpg') || r.sourcePaths?.some((p: string) => p.endsWith('escape.jpg')))).toBe(false);
  });

  it('counts hidden entries in the summary', async () => {
    const { dir } = await tempDir();
    for (let i = 0; i < 2; i++) await put(dir, `polyp/${i}.jpg`, await makeJpeg(40, 30, 20 + i));
    await put(dir, '.DS_Store', 'x');
    await put(dir, 'polyp/.hidden.jpg', await makeJpeg(40, 30, 30));
    await put(dir, '__MACOSX/polyp/._0.jpg', 'x');
    const result = await ingestDataset(datasetSpec({ format: 'class-folders', path: dir }), { blobDir: path.join(dir, '..', 'blobs-h') });
    expect(result.stats.hiddenSkipped).toBe(3);
    expect(result.stats.accepted).toBe(2);
  });

  it('a Latin-1 prompt-gt.csv is one file-level reject; the images are still ingested', async () => {
    const { dir } = await tempDir();
    await put(dir, 'images/a.jpg', await makeJpeg(40, 30, 40));
    await put(dir, 'images/b.jpg', await makeJpeg(40, 30, 41));
    await put(dir, 'prompt-gt.csv', Buffer.from('Prompt;Filename\r\nGenerate an image with a polyp of size \xb15mm.;a.jpg\r\n', 'latin1'));
    const result = await ingestDataset(datasetSpec({ format: 'medvqa-gi-2024', path: dir }), { blobDir: path.join(dir, 'blobs') });
    expect(result.rejects).toEqual([expect.objectContaining({ reason: 'csv-unreadable', detail: expect.stringMatching(/not UTF-8 text \(Latin-1/) })]);
    expect(result.stats.accepted).toBe(2);
    expect(result.stats.byLabel).toEqual({ '(none)': 2 });
  });

  it('logs metrics of any label to a real MLflow server (labels are data, not names)', async () => {
    expect(mlflowMetricKey('dataset.label_images', '(none)')).toBe('dataset.label_images._x28_none_x29_');
    expect(mlflowMetricKey('dataset.label_images', 'polyp-snare')).toBe('dataset.label_images.polyp-snare');
    const mlflow = new MlflowClient(testServices().mlflowUri);
    const experimentId = await mlflow.getOrCreateExperiment(`labels-${Date.now()}`);
    const run = await mlflow.createRun({ experimentId, runName: 'labels', startTime: Date.now() });
    const labels = ['(none)', 'Ösophagitis', 'a;b,c', 'x'.repeat(200), '💥'];
    await logMlflowMetrics({ mlflow }, { runId: 'r', mlflowRunId: run.info.run_id, mlflowExperimentId: experimentId }, labels.map((category, i) => ({ name: 'dataset.label_images', step: 0, value: i, category })), 0);
    const logged = (await mlflow.getRun(run.info.run_id)).data.metrics.map((m) => m.key).sort();
    expect(logged).toEqual(labels.map((l) => mlflowMetricKey('dataset.label_images', l)).sort());
  });
});
