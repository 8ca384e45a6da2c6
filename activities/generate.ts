// Generates images from the spec's prompts with the base model and the trained weights, through
// the Python trainer, on a gpu node. Inputs (prompts, weights) come from the blob store; each image
// and the provenance file go back into it. Resumable: the trainer skips images already present for
// the same inputs, so a retried attempt only makes what is missing. Never opens DuckDB:
// recordGeneration (cpu queue) records the images from the provenance blob.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { activityInfo, cancellationSignal } from '@temporalio/activity';
import { parseJsonLines, type BlobRef } from '../artifacts/blob-store.ts';
import { runPool } from '../datasets/pool.ts';
import type { GenerateJob } from '../experiments/jobs.ts';
import type { Experiment } from '../experiments/schema.ts';
import type { GenerateResult, RunRef, TrainResult } from '../workflows/messages.ts';
import type { ActivityDeps } from './deps.ts';
import { keepHeartbeating } from './heartbeat.ts';
import { ensureTinyModel, runTrainer } from './trainer-process.ts';

/** Images uploaded at once: MLflow's artifact proxy handles a few PUTs in parallel well. */
const uploadConcurrency = 4;

export interface GenerateInput {
  run: RunRef;
  baseModel: Experiment['baseModel'];
  generation: NonNullable<Experiment['generation']>;
  /** the prompts as a JSON array blob (preparePrompts) */
  prompts: BlobRef;
  trained: TrainResult | null;
  /** the run's sub-folder (and MLflow artifact folder) for these images; default: the run's images, generated/ */
  outName?: string;
  /** untrusted weights (a challenge submission): the trainer runs jailed, see challenge/sandbox.ts */
  sandbox?: { timeoutS: number; memoryBytes: number };
}

/** A row of provenance.jsonl as the trainer writes it (see trainer/README.md). */
interface TrainerProvenanceRow {
  path: string;
  image_sha256: string;
  prompt: string;
  seed: number;
  [key: string]: unknown;
}

/** ... plus the image's blob: the rows of the provenance blob. */
export type ProvenanceRow = TrainerProvenanceRow & { blob: BlobRef };

export function generateActivity(deps: ActivityDeps) {
  return async function generate(input: GenerateInput): Promise<GenerateResult> {
    const { run, trained } = input;
    const outDir = path.join(deps.paths.runs, run.runId, input.outName ?? 'generate');
    // jailed, the weights sit beside the output folder, read-only to the trainer
    const weightsDir = input.sandbox ? `${outDir}.inputs` : path.join(outDir, 'weights');
    const weights = trained?.weights;
    if (input.sandbox && input.baseModel.id === 'tiny') await ensureTinyModel();
    const job: GenerateJob = {
      kind: 'generate',
      runId: run.runId,
      baseModel: input.baseModel,
      ...(weights?.kind === 'lora'
        ? { lora: { path: await deps.blobs.getAs(weights.blob, path.join(weightsDir, weights.name)), scale: 1 } }
        : {}),
      ...(weights?.kind === 'unet' ? { unet: await deps.blobs.getTree(weights.blob, path.join(weightsDir, weights.name)) } : {}),
      generation: { ...input.generation, prompts: await deps.blobs.getJson<string[]>(input.prompts) },
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
        ...(input.sandbox ? { sandbox: { ...input.sandbox, readOnly: [weightsDir] } } : {}),
        onEvent: (e) => {
          if (e.event === 'progress') state = { done: e.step, total: e.total };
        },
      });
    } finally {
      stopBeats();
    }

    const rows = parseJsonLines<TrainerProvenanceRow>(await readFile(path.join(outDir, 'provenance.jsonl'), 'utf8'));
    const stored: ProvenanceRow[] = new Array(rows.length);
    await runPool(rows.entries(), uploadConcurrency, async ([i, row]) => {
      const blob = await deps.blobs.put(path.resolve(outDir, row.path), 'image/png');
      if (blob.sha256 !== row.image_sha256) throw new Error(`${row.path} changed after the trainer wrote it`);
      stored[i] = { ...row, blob };
    });
    const provenance = await deps.blobs.putJsonLines(stored);
    await deps.mlflow.uploadArtifact(run.mlflowRunId, await deps.blobs.get(provenance), `${input.outName ?? 'generated'}/provenance.jsonl`);
    return { images: stored.length, provenance };
  };
}
