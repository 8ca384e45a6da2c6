// Training and generation through the experiment workflow with the real trainer (tiny preset on
// the CPU): a gpu worker process killed with SIGKILL mid-training is replaced by another that
// resumes from the checkpoint in the last heartbeat; a cancelled run leaves a usable checkpoint.
import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTrainer } from '../../activities/trainer-process.ts';
import { startExperiment } from '../../client.ts';
import { parseSpec, resolveSpecPaths, specHash } from '../../experiments/load.ts';
import { resolvePaths, type Paths } from '../../settings.ts';
import { withStore } from '../../store/index.ts';
import { MlflowClient } from '../../tracking/mlflow-client.ts';
import { createWorker, workflowsPath } from '../../worker.ts';
import type { ExperimentInput } from '../../workflows/messages.ts';
import { testServices } from '../helpers/services.ts';
import { writeTinyDataset } from '../helpers/tiny-dataset.ts';
import { randomExtractorDir } from '../metrics/helpers.ts';

const root = path.resolve(import.meta.dirname, '../..');
// long enough that a heartbeat with a mid-run checkpoint is seen before training ends, even on a fast machine
const steps = 48;

interface TrainBeat {
  step: number;
  checkpoint?: { path: string; step: number };
}

async function trainHeartbeat(handle: WorkflowHandle): Promise<TrainBeat | null> {
  const d = await handle.describe();
  const train = d.raw.pendingActivities?.find((a) => a.activityType?.name === 'train');
  const payload = train?.heartbeatDetails?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload<TrainBeat>(payload) : null;
}

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 240_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const value = await probe();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('training through the workflow', () => {
  const queue = `test-train-${process.pid}-${Date.now()}`;
  const gpuQueue = `${queue}-gpu`;
  let paths: Paths;
  let env: NodeJS.ProcessEnv;
  let client: Client;
  let mlflow: MlflowClient;
  let stopCpu: () => Promise<void>;
  let dataRoot: string;
  const gpuWorkers: ResultPromise[] = [];

  function startGpuWorker(): ResultPromise {
    const child = execa('node', [path.join(root, 'bin/medsynth.mjs'), 'worker', '--queue', 'gpu', '--task-queue', gpuQueue], {
      cwd: root,
      env,
      reject: false,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    gpuWorkers.push(child);
    return child;
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
    const home = await mkdtemp(path.join(os.tmpdir(), 'medsynth-train-home-'));
    paths = resolvePaths({ MEDSYNTH_HOME: home });
    // evaluation reads MEDSYNTH_HOME/extractors: the random-weight FID Inception the metrics tests export
    await symlink(await randomExtractorDir(['inception-fid']), path.join(home, 'extractors'));
    env = { ...process.env, TEMPORAL_ADDRESS: services.temporalAddress, MLFLOW_TRACKING_URI: services.mlflowUri, MEDSYNTH_HOME: home };
    client = new Client({ connection: await Connection.connect({ address: services.temporalAddress }) });
    mlflow = new MlflowClient(services.mlflowUri);
    const cpu = await createWorker({
      queue: 'cpu',
      taskQueueName: queue,
      workflowBundle: await bundleWorkflowCode({ workflowsPath }),
      temporalAddress: services.temporalAddress,
      mlflowUri: services.mlflowUri,
      paths,
    });
    const running = cpu.worker.run();
    stopCpu = async () => {
      cpu.worker.shutdown();
      await running;
      await cpu.connection.close();
    };
    dataRoot = (await writeTinyDataset(4)).root;
  });

  afterAll(async () => {
    for (const w of gpuWorkers) w.kill('SIGKILL');
    await stopCpu?.();
    await client?.connection.close();
  });

  it('resumes on a second worker after the first is killed with SIGKILL, logs every step once, and evaluates', async () => {
    const first = startGpuWorker();
    const id = `train-kill-${Date.now()}`;
    const handle = await startExperiment(
      client,
      input(
        'train-kill',
        {},
        { prompts: ['an endoscopy image of a polyp'], seeds: [0, 1], steps: 2, batchSize: 2 },
        { protocols: ['standard'], realSplit: 'all' },
      ),
      id,
      queue,
    );
    const beat = await waitFor('a checkpoint in the heartbeat', async () => {
      const b = await trainHeartbeat(handle);
      return b?.checkpoint && b.checkpoint.step < steps ? b : null;
    });
    first.kill('SIGKILL');
    await first;
    startGpuWorker();

    const result = await handle.result();
    expect(result.train?.resumedFrom).toBeGreaterThanOrEqual(beat.checkpoint!.step);
    expect(result.train?.steps).toBe(steps);
    expect(result.train?.weights.kind).toBe('lora');
    expect(existsSync(result.train!.weights.path)).toBe(true);
    expect(result.generate?.images).toBe(2);

    const losses = await withStore(paths.store, (s) => s.getMetrics(id, 'train.loss'), { readOnly: true });
    expect(losses.map((m) => m.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
    const history = await mlflow.getMetricHistory(result.mlflowRunId, 'train.loss');
    expect(history).toHaveLength(steps);
    const generated = await withStore(paths.store, (s) => s.query(`select count(*) from generated_images where run_id = '${id}'`), { readOnly: true });
    expect(generated.rows).toEqual([[2]]);

    const standard = result.evaluation?.standard;
    expect(standard?.counts).toMatchObject({ real: 8, fake: 2 });
    expect(standard?.warnings.join('\n')).toMatch(/random weights/);
    const fid = await withStore(paths.store, (s) => s.getMetrics(id, 'eval.standard.frechet_inception_distance'), { readOnly: true });
    expect(fid.length).toBeGreaterThan(0);
    expect(fid.every((m) => Number.isFinite(m.value))).toBe(true);
  });

  it('cancelling mid-training leaves a checkpoint that a new trainer resumes from', async () => {
    startGpuWorker();
    const id = `train-cancel-${Date.now()}`;
    const spec = input('train-cancel', { steps: 400, checkpointEvery: 1000 });
    const handle = await startExperiment(client, spec, id, queue);
    await waitFor('training to make progress', async () => ((await trainHeartbeat(handle))?.step ?? 0) >= 2);
    await handle.cancel();
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);

    // The trainer checkpointed on SIGTERM: checkpoints/step-N under the run's train folder.
    const trainDir = path.join(paths.runs, id, 'train');
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
