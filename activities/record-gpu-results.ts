// cpu-queue activities that write to DuckDB what a gpu stage returned: gpu nodes never open it.
// Idempotent, like every record: a retry replaces the same rows.
import { withStore, type MetricPoint } from '../store/index.ts';
import type { GenerateResult, RunRef, TrainResult } from '../workflows/messages.ts';
import type { ActivityDeps } from './deps.ts';
import type { ProvenanceRow } from './generate.ts';
import { recordBlobArtifacts } from './run-records.ts';

/** The metrics the train activity streams to MLflow. */
export const trainMetricNames = ['train.loss', 'train.lr'] as const;

export interface RecordTrainingInput {
  run: RunRef;
  train: TrainResult;
}

export function recordTrainingActivity(deps: ActivityDeps) {
  return async function recordTraining({ run, train }: RecordTrainingInput): Promise<{ points: number }> {
    // MLflow holds each (step, value) once per timestamp; a step logged twice with two values
    // (a resume on a nondeterministic GPU) keeps the later one, as DuckDB's key allows one.
    const points: MetricPoint[] = [];
    for (const name of trainMetricNames) {
      const byStep = new Map<number, MetricPoint>();
      for (const m of await deps.mlflow.getMetricHistory(run.mlflowRunId, name)) byStep.set(m.step, { name, step: m.step, value: m.value });
      points.push(...byStep.values());
    }
    await withStore(deps.paths.store, (store) => store.logMetrics(run.runId, points));
    await recordBlobArtifacts(deps, run, [
      { path: `model/${train.weights.name}`, kind: train.weights.kind, blob: train.weights.blob },
      ...train.validation.map((v) => ({ path: `validation/${v.name}`, kind: 'validation-image', blob: v.blob })),
    ]);
    return { points: points.length };
  };
}

export interface RecordGenerationInput {
  run: RunRef;
  generate: GenerateResult;
}

export function recordGenerationActivity(deps: ActivityDeps) {
  return async function recordGeneration({ run, generate }: RecordGenerationInput): Promise<void> {
    const rows = await deps.blobs.getJsonLines<ProvenanceRow>(generate.provenance);
    await withStore(deps.paths.store, (store) =>
      store.saveGeneratedImages(
        run.runId,
        rows.map((r) => ({ sha256: r.blob.sha256, path: deps.blobs.uri(r.blob.sha256), prompt: r.prompt, seed: r.seed, provenance: JSON.stringify(r) })),
      ),
    );
    await recordBlobArtifacts(deps, run, [{ path: 'generated/provenance.jsonl', kind: 'provenance', blob: generate.provenance }]);
  };
}
