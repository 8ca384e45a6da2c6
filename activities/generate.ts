// Generates images from the spec's prompts with the base model and the trained weights, through
// the Python trainer. Resumable: the trainer skips images already present for the same inputs,
// so a retried attempt only makes what is missing.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { activityInfo, cancellationSignal } from '@temporalio/activity';
import { putArtifact } from '../artifacts/content-store.ts';
import { runPool } from '../datasets/pool.ts';
import type { GenerateJob } from '../experiments/jobs.ts';
import type { Experiment } from '../experiments/schema.ts';
import { UserError } from '../errors.ts';
import { withStore } from '../store/index.ts';
import type { GenerateResult, RunRef, TrainResult } from '../workflows/messages.ts';
import type { ActivityDeps } from './deps.ts';
import { keepHeartbeating } from './heartbeat.ts';
import { runTrainer } from './trainer-process.ts';

/** Images stored and uploaded at once: MLflow's artifact proxy handles a few PUTs in parallel well. */
const uploadConcurrency = 4;

export interface GenerateInput {
  run: RunRef;
  baseModel: Experiment['baseModel'];
  generation: NonNullable<Experiment['generation']>;
  trained: TrainResult | null;
}

export interface ProvenanceRow {
  path: string;
  image_sha256: string;
  prompt: string;
  seed: number;
  [key: string]: unknown;
}

async function promptList(generation: GenerateInput['generation']): Promise<string[]> {
  if (Array.isArray(generation.prompts)) return generation.prompts;
  const file = generation.prompts.file;
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UserError(`generation.prompts.file ${file}: cannot read (${err.code})`);
  });
  const prompts = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (prompts.length === 0) throw new UserError(`generation.prompts.file ${file} holds no prompts`);
  return prompts;
}

export function generateActivity(deps: ActivityDeps) {
  return async function generate(input: GenerateInput): Promise<GenerateResult> {
    const { run, trained } = input;
    const outDir = path.join(deps.paths.runs, run.runId, 'generate');
    const job: GenerateJob = {
      kind: 'generate',
      runId: run.runId,
      baseModel: input.baseModel,
      ...(trained?.weights.kind === 'lora' ? { lora: { path: trained.weights.path, scale: 1 } } : {}),
      ...(trained?.weights.kind === 'unet' ? { unet: trained.weights.path } : {}),
      generation: { ...input.generation, prompts: await promptList(input.generation) },
      shard: { index: 0, count: 1 },
      device: 'auto',
    };
    let state = { done: 0, total: 0 };
    const stopBeats = keepHeartbeating(() => state, activityInfo().heartbeatTimeoutMs);
    try {
      await runTrainer({
        command: 'generate',
        job,
        outDir,
        signal: cancellationSignal(),
        onEvent: (e) => {
          if (e.event === 'progress') state = { done: e.step, total: e.total };
        },
      });
    } finally {
      stopBeats();
    }

    const rows = (await readFile(path.join(outDir, 'provenance.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ProvenanceRow);
    const images: Array<ProvenanceRow & { stored: string }> = [];
    await deps.mlflow.uploadArtifact(run.mlflowRunId, path.join(outDir, 'provenance.jsonl'), 'generated/provenance.jsonl');
    await runPool(rows, uploadConcurrency, async (row) => {
      const stored = await putArtifact(deps.paths.artifacts, path.resolve(outDir, row.path));
      await deps.mlflow.uploadArtifact(run.mlflowRunId, stored.path, `generated/images/${path.basename(stored.path)}`);
      images.push({ ...row, stored: stored.path });
    });
    await withStore(deps.paths.store, (store) =>
      store.saveGeneratedImages(
        run.runId,
        images.map((i) => ({ sha256: i.image_sha256, path: i.stored, prompt: i.prompt, seed: i.seed, provenance: JSON.stringify(i) })),
      ),
    );
    return { images: images.length, dir: path.join(deps.paths.artifacts), provenance: path.join(outDir, 'provenance.jsonl') };
  };
}
