// The experiment workflow end to end: a real Temporal server, a real MLflow server, a real DuckDB
// file, real images, and the real activities served by a worker on a private task queue.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { bundleWorkflowCode, type Worker } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, nodeDeps } from '../../activities/index.ts';
import { rootMessage } from '../../errors.ts';
import { startExperiment } from '../../client.ts';
import { parseSpec, resolveSpecPaths, specHash } from '../../experiments/load.ts';
import { resolvePaths, type Paths } from '../../settings.ts';
import { withStore } from '../../store/index.ts';
import { MlflowClient } from '../../tracking/mlflow-client.ts';
import { createWorker, workflowsPath } from '../../worker.ts';
import type { DatasetSummary, ExperimentInput } from '../../workflows/messages.ts';
import { testServices } from '../helpers/services.ts';
import { writeTinyDataset, type TinyDataset } from '../helpers/tiny-dataset.ts';

const provenance = { gitCommit: 'test-commit', lockfileHashes: { 'package-lock.json': 'abc' }, specPath: null, medsynthVersion: 'test' };

function inputFor(name: string, dataset: Record<string, unknown>): ExperimentInput {
  const spec = resolveSpecPaths(parseSpec({ name, dataset }));
  return { spec, specHash: specHash(spec), provenance };
}

async function rows(paths: Paths, sql: string): Promise<unknown[][]> {
  return withStore(paths.store, async (store) => (await store.query(sql)).rows, { readOnly: true });
}

describe('experiment workflow', () => {
  const taskQueue = `test-experiment-${process.pid}-${Date.now()}`;
  let paths: Paths;
  let mlflow: MlflowClient;
  let client: Client;
  let worker: Worker;
  let closeWorker: () => Promise<void>;
  let tiny: TinyDataset;

  beforeAll(async () => {
    const services = testServices();
    paths = resolvePaths({ MEDSYNTH_HOME: await mkdtemp(path.join(os.tmpdir(), 'medsynth-home-')) });
    mlflow = new MlflowClient(services.mlflowUri);
    client = new Client({ connection: await Connection.connect({ address: services.temporalAddress }) });
    const workflowBundle = await bundleWorkflowCode({ workflowsPath, logger: undefined });
    const created = await createWorker({
      queue: 'cpu',
      taskQueueName: taskQueue,
      workflowBundle,
      temporalAddress: services.temporalAddress,
      mlflowUri: services.mlflowUri,
      paths,
    });
    worker = created.worker;
    const running = worker.run();
    closeWorker = async () => {
      worker.shutdown();
      await running;
      await created.connection.close();
    };
    tiny = await writeTinyDataset();
  });

  afterAll(async () => {
    await closeWorker?.();
    await client?.connection.close();
  });

  it('ingests a dataset and records it in DuckDB and MLflow, rejects included', async () => {
    const input = inputFor('wf-ingest', { format: 'class-folders', path: tiny.root, splits: { seed: 7 } });
    const id = `wf-ingest-${Date.now()}`;
    const result = await (await startExperiment(client, input, id, taskQueue)).result();

    expect(result.runId).toBe(id);
    expect(result.dataset.images).toBe(tiny.good);
    expect(result.dataset.duplicatesMerged).toBe(tiny.duplicates);
    expect(result.dataset.rejected).toBe(tiny.bad);
    expect(Object.values(result.dataset.bySplit).reduce((a, b) => a + b, 0)).toBe(tiny.good);

    const hash = result.dataset.manifestHash;
    expect(await rows(paths, `select status, mlflow_run_id, spec_hash from runs where run_id = '${id}'`)).toEqual([
      ['FINISHED', result.mlflowRunId, input.specHash],
    ]);
    expect(await rows(paths, `select count(*) from images where manifest_hash = '${hash}'`)).toEqual([[tiny.good]]);
    expect(await rows(paths, `select reason from rejects where manifest_hash = '${hash}' order by reason`)).toHaveLength(tiny.bad);
    expect(await rows(paths, `select value from metrics where run_id = '${id}' and name = 'dataset.images'`)).toEqual([[tiny.good]]);

    const run = await mlflow.getRun(result.mlflowRunId);
    expect(run.info.status).toBe('FINISHED');
    const tags = Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]));
    expect(tags).toMatchObject({
      'medsynth.spec_hash': input.specHash,
      'medsynth.temporal.workflow_id': id,
      'medsynth.dataset.manifest_hash': hash,
      'mlflow.source.git.commit': 'test-commit',
      'medsynth.lock.package-lock.json': 'abc',
    });
    const params = Object.fromEntries(run.data.params.map((p) => [p.key, p.value]));
    expect(params['dataset.format']).toBe('class-folders');
    expect(params['dataset.splits.seed']).toBe('7');
    const metrics = Object.fromEntries(run.data.metrics.map((m) => [m.key, m.value]));
    expect(metrics['dataset.images']).toBe(tiny.good);
    expect(metrics['dataset.rejected']).toBe(tiny.bad);
    const artifacts = (await mlflow.listArtifacts(result.mlflowRunId, 'dataset')).map((f) => f.path);
    expect(artifacts).toEqual(expect.arrayContaining(['dataset/manifest.parquet', 'dataset/rejects.csv']));
  });

  it('fails at once, without retries, on a dataset folder that does not exist', async () => {
    const missing = path.join(tiny.root, 'no-such-folder');
    const id = `wf-missing-${Date.now()}`;
    const handle = await startExperiment(client, inputFor('wf-missing', { format: 'class-folders', path: missing }), id, taskQueue);
    const err = await handle.result().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(rootMessage(err)).toContain(missing);

    const history = await handle.fetchHistory();
    const ingestAttempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0);
    expect(Math.max(...ingestAttempts)).toBe(1);
    expect(await rows(paths, `select status, error like '%no-such-folder%' from runs where run_id = '${id}'`)).toEqual([['FAILED', true]]);
  });

  it('cancels mid-ingestion and marks the run KILLED everywhere', async () => {
    // Large noisy JPEGs decode slowly enough to cancel mid-way; trailing bytes make each file distinct.
    const big = await mkdtemp(path.join(os.tmpdir(), 'medsynth-big-'));
    await mkdir(path.join(big, 'polyp'));
    const side = 3000;
    const noise = Buffer.from(Array.from({ length: side * side * 3 }, (_, i) => (i * 2654435761) >>> 24));
    const jpeg = await sharp(noise, { raw: { width: side, height: side, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
    for (let i = 0; i < 80; i++) await writeFile(path.join(big, 'polyp', `${i}.jpg`), Buffer.concat([jpeg, Buffer.from(`#${i}`)]));
    const id = `wf-cancel-${Date.now()}`;
    const handle = await startExperiment(client, inputFor('wf-cancel', { format: 'class-folders', path: big }), id, taskQueue);
    for (let i = 0; i < 200; i++) {
      const d = await handle.describe();
      if (d.raw.pendingActivities?.some((a) => a.activityType?.name === 'ingest')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await handle.cancel();
    const err = await handle.result().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    expect(await rows(paths, `select status from runs where run_id = '${id}'`)).toEqual([['KILLED']]);
    const mlflowRunId = (await rows(paths, `select mlflow_run_id from runs where run_id = '${id}'`))[0][0] as string;
    expect((await mlflow.getRun(mlflowRunId)).info.status).toBe('KILLED');
  });

  it('retried tracking activities write nothing twice', async () => {
    const activities = createActivities(nodeDeps(paths, mlflow));
    const input = inputFor('wf-idempotent', { format: 'class-folders', path: tiny.root });
    const start = { ...input, runId: `wf-idem-${Date.now()}`, temporalRunId: 'r1', at: Date.now() };
    const run = await activities.startRun(start);
    expect(await activities.startRun(start)).toEqual(run);

    const summary = (await new MockActivityEnvironment().run(activities.ingest, { runId: run.runId, dataset: input.spec.dataset })) as DatasetSummary;
    const record = { run, dataset: summary, at: Date.now() };
    await activities.recordDataset(record);
    const countMetrics = async () => (await rows(paths, `select count(*) from metrics where run_id = '${run.runId}'`))[0][0];
    const before = await countMetrics();
    await activities.recordDataset(record);
    expect(await countMetrics()).toBe(before);
    expect(await mlflow.getMetricHistory(run.mlflowRunId, 'dataset.images')).toHaveLength(1);
    const runs = await rows(paths, `select count(*) from runs where run_id = '${run.runId}'`);
    expect(runs).toEqual([[1]]);
  });
});
