// Fine-tunes the base model by running the Python trainer. Heartbeats progress and the last
// checkpoint; a retried attempt (another worker, after a crash) resumes from that checkpoint.
import { existsSync } from 'node:fs';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import { putArtifact } from '../artifacts/content-store.ts';
import type { TrainJob } from '../experiments/jobs.ts';
import type { Experiment } from '../experiments/schema.ts';
import { withStore } from '../store/index.ts';
import type { DatasetSummary, RunRef, TrainResult } from '../workflows/messages.ts';
import type { ActivityDeps } from './deps.ts';
import { keepHeartbeating } from './heartbeat.ts';
import { logRunArtifact } from './run-records.ts';
import { metricStream } from './metric-stream.ts';
import { runTrainer } from './trainer-process.ts';
import { UserError } from '../errors.ts';

export interface TrainInput {
  run: RunRef;
  baseModel: Experiment['baseModel'];
  method: NonNullable<Experiment['method']>;
  dataset: DatasetSummary;
  /** fixed by the workflow: the origin of metric timestamps */
  at: number;
}

export interface TrainHeartbeat {
  step: number;
  total: number;
  loss?: number;
  checkpoint?: { path: string; step: number };
}

/** One JSON line per training image of the train split: its path and a prompt. */
async function writeTrainingData(deps: ActivityDeps, dataset: DatasetSummary, file: string): Promise<number> {
  const rows = await withStore(
    deps.paths.store,
    async (store) =>
      (
        await store.query(
          `select path, coalesce(prompts[1], 'an endoscopy image of ' || coalesce(label, 'the gastrointestinal tract'))
             from images where manifest_hash = ? and split = 'train' order by sha256`,
          [dataset.manifestHash],
        )
      ).rows,
    { readOnly: true },
  );
  if (rows.length === 0) throw new UserError(`dataset ${dataset.name} has no images in its train split`);
  await writeFile(file, rows.map(([p, prompt]) => JSON.stringify({ path: p, prompt })).join('\n') + '\n');
  return rows.length;
}

export function trainActivity(deps: ActivityDeps) {
  return async function train(input: TrainInput): Promise<TrainResult> {
    const { run } = input;
    const outDir = path.join(deps.paths.runs, run.runId, 'train');
    const dataFile = path.join(outDir, 'data.jsonl');
    const previous = activityInfo().heartbeatDetails as TrainHeartbeat | undefined;
    const resume = previous?.checkpoint && existsSync(previous.checkpoint.path) ? previous.checkpoint : undefined;

    await mkdir(outDir, { recursive: true });
    const images = await writeTrainingData(deps, input.dataset, dataFile);
    const job: TrainJob = { kind: 'train', runId: run.runId, baseModel: input.baseModel, method: input.method, data: { file: dataFile }, device: 'auto' };

    let state: TrainHeartbeat = { step: resume?.step ?? 0, total: input.method.steps, checkpoint: resume };
    const stopBeats = keepHeartbeating(() => state, activityInfo().heartbeatTimeoutMs);
    const metrics = metricStream(deps, run, input.at);
    let resumedFrom: number | null = null;
    const weights: Array<{ path: string; sha256: string; kind: string }> = [];
    try {
      await runTrainer({
        command: 'train',
        job,
        outDir,
        resume: resume?.path,
        signal: cancellationSignal(),
        onEvent: (e) => {
          if (e.event === 'started') resumedFrom = e.resumedFrom ?? null;
          if (e.event === 'progress') {
            state = { ...state, step: e.step, total: e.total, loss: e.loss };
            if (e.loss !== undefined) metrics.push({ name: 'train.loss', step: e.step, value: e.loss });
            if (e.lr !== undefined) metrics.push({ name: 'train.lr', step: e.step, value: e.lr });
          }
          if (e.event === 'checkpoint') {
            // A retry resumes from the heartbeat's checkpoint and re-logs only the steps after it,
            // so the metrics up to it must be written before the checkpoint is reported.
            const checkpoint = { path: e.path, step: e.step };
            void metrics.flush().then(
              () => {
                state = { ...state, checkpoint };
                heartbeat(state);
              },
              () => undefined, // not reported: a retry starts from the previous checkpoint instead
            );
          }
          if (e.event === 'artifact') weights.push(e);
        },
      });
    } finally {
      stopBeats();
      await metrics.close();
    }

    const model = weights.find((w) => w.kind === 'lora' || w.kind === 'unet');
    if (!model) throw new Error(`trainer finished without writing weights (events: ${weights.map((w) => w.kind).join(', ')})`);
    const stored = await storeWeights(deps, run, model);
    return {
      weights: { ...stored, kind: model.kind },
      steps: state.step,
      finalLoss: state.loss ?? null,
      images,
      resumedFrom,
    };
  };
}

/**
 * Keeps the trained weights: a LoRA file enters the content-addressed store; a fine-tuned UNet
 * folder stays where the trainer wrote it and each of its files is hashed and logged. Either way
 * the files go to MLflow under model/ and into the artifacts table.
 */
async function storeWeights(
  deps: ActivityDeps,
  run: RunRef,
  model: { path: string; sha256: string; kind: string },
): Promise<{ path: string; sha256: string }> {
  const isDir = (await stat(model.path)).isDirectory();
  const files = isDir ? (await readdir(model.path)).map((f) => path.join(model.path, f)) : [model.path];
  let kept = model.path;
  for (const file of files) {
    const stored = await putArtifact(deps.paths.artifacts, file);
    if (!isDir) kept = stored.path;
    const artifactPath = isDir ? `model/${path.basename(model.path)}/${path.basename(file)}` : `model/${path.basename(file)}`;
    await logRunArtifact(deps, run, stored.path, artifactPath, model.kind, stored.sha256);
  }
  return { path: kept, sha256: model.sha256 };
}
