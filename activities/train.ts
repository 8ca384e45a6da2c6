// Fine-tunes the base model by running the Python trainer on a gpu node. Reads its training set
// from the blob store (or from the source paths where this node sees them), streams metrics to
// MLflow, and puts every checkpoint into the blob store before heartbeating it, so a retried attempt
// on any node resumes from it. Never opens DuckDB: recordTraining (cpu queue) does that afterwards.
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { activityInfo, cancellationSignal, heartbeat, log } from '@temporalio/activity';
import type { BlobRef } from '../artifacts/blob-store.ts';
import { runPool } from '../datasets/pool.ts';
import type { TrainJob } from '../experiments/jobs.ts';
import type { Experiment } from '../experiments/schema.ts';
import type { RunRef, TrainingSet, TrainResult } from '../workflows/messages.ts';
import type { ActivityDeps } from './deps.ts';
import type { TrainingExample } from './gpu-inputs.ts';
import { keepHeartbeating } from './heartbeat.ts';
import { metricStream } from './metric-stream.ts';
import { runTrainer } from './trainer-process.ts';

export interface TrainInput {
  run: RunRef;
  baseModel: Experiment['baseModel'];
  method: NonNullable<Experiment['method']>;
  training: TrainingSet;
  /** fixed by the workflow: the origin of metric timestamps */
  at: number;
  /** stop after this step (a successive-halving rung); the schedule stays that of method.steps */
  stopAt?: number;
  /** go on from this checkpoint (a rung's), unless a retry has a later one in its heartbeat */
  resume?: { tree: BlobRef; step: number };
}

export interface TrainHeartbeat {
  step: number;
  total: number;
  loss?: number;
  /** the last checkpoint, as a tree blob any node can fetch */
  checkpoint?: { tree: BlobRef; step: number };
  /** something the user must hear about this attempt (the follower prints it) */
  warning?: string;
}

type Checkpoint = { tree: BlobRef; step: number };

/**
 * Where this attempt starts: the checkpoint of the previous attempt's last heartbeat, else the
 * workflow's (a rung's), else step 0. A heartbeated checkpoint that cannot be fetched is not a
 * reason to fail the run, but training again from an earlier step must never pass unnoticed.
 */
async function fetchResumePoint(deps: ActivityDeps, outDir: string, input: TrainInput): Promise<{ previous?: Checkpoint; resumePath?: string; warning?: string }> {
  const beat = (activityInfo().heartbeatDetails as TrainHeartbeat | undefined)?.checkpoint;
  const lost: string[] = [];
  const warning = (from: string) => (lost.length ? { warning: `${lost.join('; ')}: training restarts from ${from}` } : {});
  for (const candidate of [beat, input.resume]) {
    if (!candidate) continue;
    const resumePath = path.join(outDir, 'resume', `step-${String(candidate.step).padStart(8, '0')}`);
    await rm(resumePath, { recursive: true, force: true });
    try {
      await deps.blobs.getTree(candidate.tree, resumePath);
      return { previous: candidate, resumePath, ...warning(`the workflow's checkpoint of step ${candidate.step}`) };
    } catch (err) {
      lost.push(`the checkpoint of step ${candidate.step} (blob ${candidate.tree.sha256.slice(0, 12)}) could not be fetched (${(err as Error).message.split('\n')[0]})`);
    }
  }
  return warning('step 0');
}

/** A warning on the worker's log and the MLflow run (tag medsynth.warning.train); the attempt's heartbeats carry it to the follower. */
async function warnLoudly(deps: ActivityDeps, run: RunRef, warning: string): Promise<void> {
  log.warn(`train ${run.runId}: WARNING ${warning}`);
  await deps.mlflow.setTag(run.mlflowRunId, 'medsynth.warning.train', warning).catch(() => undefined);
}

/** Images fetched at once while the training set is materialised. */
const fetchConcurrency = 8;

export const safetensorsMediaType = 'application/vnd.safetensors';

/** One JSON line per training image: a file on this node (verified by hash) and its prompt. */
async function materialiseTrainingSet(deps: ActivityDeps, training: TrainingSet, file: string): Promise<void> {
  const examples = await deps.blobs.getJsonLines<TrainingExample>(training.data);
  const lines: string[] = new Array(examples.length);
  await runPool(examples.entries(), fetchConcurrency, async ([i, example]) => {
    const local = await deps.blobs.getLocal(example, [example.source]);
    lines[i] = JSON.stringify({ path: local, prompt: example.prompt });
  });
  await writeFile(file, lines.join('\n') + '\n');
}

export function trainActivity(deps: ActivityDeps) {
  return async function train(input: TrainInput): Promise<TrainResult> {
    const { run } = input;
    const outDir = path.join(deps.paths.runs, run.runId, 'train');
    const dataFile = path.join(outDir, 'data.jsonl');
    await mkdir(outDir, { recursive: true });

    const { previous, resumePath, warning } = await fetchResumePoint(deps, outDir, input);
    if (warning) await warnLoudly(deps, run, warning);
    await materialiseTrainingSet(deps, input.training, dataFile);
    const job: TrainJob = {
      kind: 'train',
      runId: run.runId,
      baseModel: input.baseModel,
      method: input.method,
      data: { file: dataFile, id: input.training.data.sha256 },
      ...(input.stopAt ? { stopAt: input.stopAt } : {}),
      device: 'auto',
    };

    let state: TrainHeartbeat = { step: previous?.step ?? 0, total: input.method.steps, checkpoint: previous, ...(warning ? { warning } : {}) };
    const stopBeats = keepHeartbeating(() => state, activityInfo().heartbeatTimeoutMs);
    const metrics = metricStream(deps, run, input.at);
    let resumedFrom: number | null = null;
    const outputs: Array<{ path: string; kind: string }> = [];
    // Checkpoints are published one after another, each after the metrics up to it.
    let publishing = Promise.resolve();
    try {
      await runTrainer({
        command: 'train',
        job,
        outDir,
        resume: resumePath,
        signal: cancellationSignal(),
        onEvent: (e) => {
          if (e.event === 'started') {
            resumedFrom = e.resumedFrom ?? null;
            // How every random stream was seeded, so a rerun knows what it must match.
            if (e.rng) publishing = publishing.then(() => deps.mlflow.setTag(run.mlflowRunId, 'medsynth.rng', JSON.stringify(e.rng))).catch(() => undefined);
          }
          if (e.event === 'progress') {
            state = { ...state, step: e.step, total: e.total, loss: e.loss };
            if (e.loss !== undefined) metrics.push({ name: 'train.loss', step: e.step, value: e.loss });
            if (e.lr !== undefined) metrics.push({ name: 'train.lr', step: e.step, value: e.lr });
          }
          if (e.event === 'checkpoint') {
            // A retry resumes from the heartbeat's checkpoint and re-logs only the steps after it,
            // so the metrics up to it must be written, and its files stored, before it is reported.
            publishing = publishing
              .then(async () => {
                await metrics.flush();
                const tree = await deps.blobs.putTree(e.path);
                state = { ...state, checkpoint: { tree, step: e.step } };
                heartbeat(state);
              })
              .catch(() => undefined); // not reported: a retry starts from the previous checkpoint instead
          }
          if (e.event === 'artifact') outputs.push(e);
        },
      });
    } finally {
      stopBeats();
      await publishing;
      await metrics.close();
    }

    const model = outputs.find((o) => o.kind === 'lora' || o.kind === 'unet');
    if (!model) throw new Error(`trainer finished without writing weights (events: ${outputs.map((o) => o.kind).join(', ')})`);
    const validation = await Promise.all(
      outputs.filter((o) => o.kind === 'validation-image').map(async (o) => ({ name: path.basename(o.path), blob: await deps.blobs.put(o.path, 'image/png') })),
    );
    return {
      weights: await storeWeights(deps, run, model),
      validation,
      steps: state.step,
      finalLoss: state.loss ?? null,
      images: input.training.images,
      resumedFrom,
      checkpoint: state.checkpoint ?? null,
    };
  };
}

/**
 * The trained weights into the blob store: a LoRA file as one blob (also logged to the MLflow run
 * under model/, for people who browse it), a fine-tuned UNet folder as a tree.
 */
async function storeWeights(deps: ActivityDeps, run: RunRef, model: { path: string; kind: string }): Promise<TrainResult['weights']> {
  const name = path.basename(model.path);
  if ((await stat(model.path)).isDirectory()) return { blob: await deps.blobs.putTree(model.path), kind: 'unet', name };
  const blob = await deps.blobs.put(model.path, safetensorsMediaType);
  await deps.mlflow.uploadArtifact(run.mlflowRunId, model.path, `model/${name}`);
  return { blob, kind: 'lora', name };
}
