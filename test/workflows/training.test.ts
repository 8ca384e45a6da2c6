// Training and generation through the experiment workflow with the real trainer (tiny preset on
// the CPU), in the layout of several machines: a cpu worker and gpu workers in their own homes,
// each in a mount namespace where the others' folders (and the dataset, for gpu workers) are hidden
// under an empty tmpfs, so they share nothing but Temporal and MLflow. A gpu worker killed with
// SIGKILL mid-training is replaced by one in a third, empty home that resumes from the checkpoint in
// the last heartbeat, fetched from the blob store, and ends with the bytes and losses of an
// uninterrupted run of the same spec. A cancelled run leaves a usable checkpoint.
import type { ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTrainer } from '../../activities/trainer-process.ts';
import { BlobStore, type BlobRef } from '../../artifacts/blob-store.ts';
import { sha256File } from '../../artifacts/content-store.ts';
import { startExperiment } from '../../client.ts';
import { parseSpec, resolveSpecPaths, specHash } from '../../experiments/load.ts';
import { resolvePaths, type Paths } from '../../settings.ts';
import { withStore } from '../../store/index.ts';
import { MlflowClient } from '../../tracking/mlflow-client.ts';
import type { ExperimentInput } from '../../workflows/messages.ts';
import { testServices } from '../helpers/services.ts';
import { waitFor } from '../helpers/wait.ts';
import { writeTinyDataset } from '../helpers/tiny-dataset.ts';
import { trainedExtractorDir } from '../metrics/helpers.ts';
import { spawnNode } from '../reliability/cluster.ts';

const root = path.resolve(import.meta.dirname, '../..');
// long enough that a heartbeat with a mid-run checkpoint is seen before training ends, even on a fast machine
const steps = 48;

interface TrainBeat {
  step: number;
  checkpoint?: { tree: BlobRef; step: number };
}

async function trainHeartbeat(handle: WorkflowHandle): Promise<TrainBeat | null> {
  const d = await handle.describe();
  const train = d.raw.pendingActivities?.find((a) => a.activityType?.name === 'train');
  const payload = train?.heartbeatDetails?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload<TrainBeat>(payload) : null;
}

/** Every file under `dir` whose name ends with `suffix`. */
async function filesEndingWith(dir: string, suffix: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((e) => e.endsWith(suffix));
}

describe('training through the workflow, on separate nodes', () => {
  const queue = `test-train-${process.pid}-${Date.now()}`;
  const gpuQueue = `${queue}-gpu`;
  let cpuHome: string;
  let paths: Paths;
  let client: Client;
  let mlflow: MlflowClient;
  let dataRoot: string;
  const gpuHomes: string[] = [];
  const workers: ResultPromise[] = [];
  const gpuChildren: ResultPromise[] = [];
  /** The killed-and-resumed run of the first test: its LoRA hash and train.loss by step. */
  let resumedRun: { lora: string; losses: number[] } | undefined;

  /** `medsynth worker` in its own home, with `hidden` folders emptied: what another machine would not see. */
  function nodeWorker(queueKind: 'cpu' | 'gpu', home: string, hidden: string[]): ResultPromise {
    const services = testServices();
    const env = { ...process.env, TEMPORAL_ADDRESS: services.temporalAddress, MLFLOW_TRACKING_URI: services.mlflowUri };
    const child = spawnNode({ kind: queueKind, home, hidden, taskQueue: queueKind === 'cpu' ? queue : gpuQueue, env }).process;
    workers.push(child);
    return child;
  }

  /** Where the test services keep their state (absent when the tests use external servers). */
  const servicesDir = path.join(root, '.medsynth-test');
  let used = 0;
  /** A gpu worker in the next empty home, seeing neither the cpu node's folders nor the other gpu homes. */
  function gpuWorker(): { child: ResultPromise; home: string } {
    const home = gpuHomes[used++]!;
    const others = gpuHomes.filter((h) => h !== home);
    const hidden = [cpuHome, dataRoot, ...(existsSync(servicesDir) ? [servicesDir] : []), ...others];
    const child = nodeWorker('gpu', home, hidden);
    gpuChildren.push(child);
    return { child, home };
  }

  function input(
    name: string,
    method: Record<string, unknown>,
    generation?: Record<string, unknown>,
    evaluation?: Record<string, unknown>,
  ): ExperimentInput {
    const spec = resolveSpecPaths(
      parseSpec({
        name,
        dataset: { format: 'class-folders', path: dataRoot },
        baseModel: { id: 'tiny', resolution: 32 },
        method: { kind: 'lora', steps, batchSize: 2, checkpointEvery: 4, mixedPrecision: 'no', rank: 4, learningRate: 1e-3, ...method },
        ...(generation ? { generation } : {}),
        ...(evaluation ? { evaluation } : {}),
      }),
    );
    return {
      spec,
      specHash: specHash(spec),
      provenance: { gitCommit: null, lockfileHashes: {}, specPath: null, medsynthVersion: 'test' },
      gpuTaskQueue: gpuQueue,
    };
  }

  beforeAll(async () => {
    const services = testServices();
    cpuHome = await mkdtemp(path.join(os.tmpdir(), 'medsynth-cpu-home-'));
    paths = resolvePaths({ MEDSYNTH_HOME: cpuHome });
    // evaluation reads MEDSYNTH_HOME/extractors: the trained EfficientNet-Lite0 and a random-weight FID Inception
    await symlink(await trainedExtractorDir(['inception-fid']), path.join(cpuHome, 'extractors'));
    client = new Client({ connection: await Connection.connect({ address: services.temporalAddress }) });
    mlflow = new MlflowClient(services.mlflowUri);
    dataRoot = (await writeTinyDataset(4)).root;
    for (let i = 0; i < 3; i++) gpuHomes.push(await mkdtemp(path.join(os.tmpdir(), 'medsynth-gpu-home-')));
    nodeWorker('cpu', cpuHome, gpuHomes);
  });

  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await Promise.all(workers);
    await client?.connection.close();
  });

  it('runs ingest, LoRA, generation and evaluation across nodes; a killed gpu worker is resumed in an empty home', async () => {
    const first = gpuWorker();
    const id = `train-kill-${Date.now()}`;
    const handle = await startExperiment(
      client,
      input(
        'train-kill',
        {},
        { prompts: ['an endoscopy image of a polyp'], seeds: [0, 1], steps: 2, batchSize: 2 },
        { protocols: ['features', 'standard'], realSplit: 'all' },
      ),
      id,
      queue,
    );
    const beat = await waitFor('a checkpoint in the heartbeat', async () => {
      const b = await trainHeartbeat(handle);
      return b?.checkpoint && b.checkpoint.step < steps ? b : null;
    });
    first.child.kill('SIGKILL');
    await first.child;
    const second = gpuWorker();

    const result = await handle.result();
    expect(result.train?.resumedFrom).toBeGreaterThanOrEqual(beat.checkpoint!.step);
    expect(result.train?.steps).toBe(steps);
    expect(result.train?.weights.kind).toBe('lora');
    // the second worker fetched the checkpoint from the blob store: its home held nothing before
    const resumed = await readdir(path.join(second.home, 'runs', id, 'train', 'resume'));
    expect(resumed.length).toBeGreaterThan(0);
    // the weights are readable from yet another node, and are what the trainer wrote
    const elsewhere = new BlobStore(mlflow.http, await mkdtemp(path.join(os.tmpdir(), 'medsynth-reader-')));
    const weights = await elsewhere.get(result.train!.weights.blob);
    const written = path.join(second.home, 'runs', id, 'train', 'lora', 'pytorch_lora_weights.safetensors');
    expect(await sha256File(weights)).toBe(await sha256File(written));
    expect(result.generate?.images).toBe(2);

    // DuckDB lives on the cpu node alone, and holds everything once
    const losses = await withStore(paths.store, (s) => s.getMetrics(id, 'train.loss'), { readOnly: true });
    expect(losses.map((m) => m.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
    resumedRun = { lora: result.train!.weights.blob.sha256, losses: losses.map((m) => m.value) };
    const history = await mlflow.getMetricHistory(result.mlflowRunId, 'train.loss');
    expect(history).toHaveLength(steps);
    const generated = await withStore(paths.store, (s) => s.query('select path from generated_images where run_id = ?', [id]), { readOnly: true });
    expect(generated.rows).toHaveLength(2);
    for (const [where] of generated.rows) expect(String(where)).toMatch(/^mlflow-artifacts:\/blobs\/sha256\/[0-9a-f]{2}\/[0-9a-f]{64}$/);
    const artifacts = await withStore(paths.store, (s) => s.query('select path, uri from artifacts where run_id = ? order by path', [id]), { readOnly: true });
    expect(artifacts.rows.map((r) => r[0])).toEqual(expect.arrayContaining(['model/pytorch_lora_weights.safetensors', 'generated/provenance.jsonl']));
    for (const home of [first.home, second.home]) {
      expect(existsSync(path.join(home, 'medsynth.duckdb'))).toBe(false);
      expect(await filesEndingWith(home, '.duckdb')).toEqual([]);
    }

    const standard = result.evaluation?.standard;
    expect(standard?.counts).toMatchObject({ real: 8, fake: 2 });
    expect(standard?.warnings.join('\n')).toMatch(/random weights/);
    const features = result.evaluation?.features;
    expect(features?.metrics).toHaveProperty('fd_efficientnet_lite0');
    expect(features?.warnings.join('\n')).not.toMatch(/random weights/);
    // which extractor made the numbers, in the result, DuckDB and MLflow
    expect(features?.extractor?.name).toBe('efficientnet-lite0');
    const params = await withStore(paths.store, (s) => s.getParams(id), { readOnly: true });
    expect(params['eval.features.extractor']).toBe('efficientnet-lite0');
    expect(params['eval.standard.extractor_sha256']).toBe(standard?.extractor?.sha256);
    expect((await mlflow.getRun(result.mlflowRunId)).data.params).toEqual(
      expect.arrayContaining([{ key: 'eval.features.extractor', value: 'efficientnet-lite0' }]),
    );
    const fid = await withStore(paths.store, (s) => s.getMetrics(id, 'eval.standard.frechet_inception_distance'), { readOnly: true });
    expect(fid.length).toBeGreaterThan(0);
    expect(fid.every((m) => Number.isFinite(m.value))).toBe(true);
    // the provenance the cpu node recorded names the blobs it evaluated
    const provenance = JSON.parse(await readFile(await elsewhere.get(result.generate!.provenance), 'utf8').then((t) => t.split('\n')[0]!));
    expect(provenance.blob.sha256).toBe(provenance.image_sha256);
  });

  it('an uninterrupted run of the same spec ends with the same LoRA bytes and the same loss at every step', async () => {
    expect(resumedRun, 'needs the killed-and-resumed run of the test before').toBeDefined();
    const id = `train-straight-${Date.now()}`;
    const handle = await startExperiment(client, input('train-straight', {}), id, queue);
    const result = await handle.result();
    expect(result.train?.resumedFrom).toBeNull();
    expect(result.train!.weights.blob.sha256).toBe(resumedRun!.lora);
    const losses = await withStore(paths.store, (s) => s.getMetrics(id, 'train.loss'), { readOnly: true });
    expect(losses.map((m) => m.value)).toEqual(resumedRun!.losses);
  });

  it('cancelling mid-training leaves a checkpoint that a new trainer resumes from', async () => {
    // only this test's gpu worker polls the queue, so the checkpoint is in its home
    await Promise.all(gpuChildren.map(async (c) => (c.kill('SIGKILL'), await c)));
    const gpu = gpuWorker();
    const id = `train-cancel-${Date.now()}`;
    const spec = input('train-cancel', { steps: 400, checkpointEvery: 1000 });
    const handle = await startExperiment(client, spec, id, queue);
    await waitFor('training to make progress', async () => ((await trainHeartbeat(handle))?.step ?? 0) >= 2);
    await handle.cancel();
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);

    // The trainer checkpointed on SIGTERM: checkpoints/step-N under the run's train folder.
    const trainDir = path.join(resolvePaths({ MEDSYNTH_HOME: gpu.home }).runs, id, 'train');
    const saved = (await readdir(path.join(trainDir, 'checkpoints'))).filter((d) => /^step-\d+$/.test(d)).sort();
    expect(saved.length).toBeGreaterThan(0);
    const step = Number(saved.at(-1)!.slice('step-'.length));
    expect(step).toBeGreaterThanOrEqual(2);

    let resumedFrom: number | undefined;
    await runTrainer({
      command: 'train',
      job: { kind: 'train', runId: id, baseModel: spec.spec.baseModel, method: { ...spec.spec.method!, steps: step + 2 }, data: { file: path.join(trainDir, 'data.jsonl') }, device: 'cpu' },
      outDir: trainDir,
      resume: path.join(trainDir, 'checkpoints', saved.at(-1)!),
      onEvent: (e) => {
        if (e.event === 'started') resumedFrom = e.resumedFrom;
      },
    });
    expect(resumedFrom).toBe(step);
  });
});
