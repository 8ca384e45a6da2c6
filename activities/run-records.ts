// Writing what a run produced to both of its records, MLflow and DuckDB, in one place. Both writes
// are idempotent, so an activity may retry them.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from '../artifacts/content-store.ts';
import { withStore, type MetricPoint } from '../store/index.ts';
import type { RunRef } from '../workflows/messages.ts';
import type { ActivityDeps } from './deps.ts';

/**
 * MLflow has no category column: the category becomes part of the key. MLflow keeps a point once
 * per (key, value, step, timestamp), and a retried or resumed attempt logs the same steps again,
 * so timestamps must not depend on when that happens: each point is stamped `origin + step` ms,
 * with `origin` fixed by the workflow.
 */
export async function logRunMetrics({ paths, mlflow }: ActivityDeps, run: RunRef, points: MetricPoint[], origin: number): Promise<void> {
  if (points.length === 0) return;
  await mlflow.logBatch({
    runId: run.mlflowRunId,
    metrics: points.map((p) => ({
      key: p.category ? `${p.name}.${p.category}` : p.name,
      value: p.value,
      step: p.step,
      timestamp: origin + p.step,
    })),
  });
  await withStore(paths.store, (store) => store.logMetrics(run.runId, points));
}

/** Uploads a file as an MLflow artifact of the run and records it, with its hash, in DuckDB. */
export async function logRunArtifact(
  { paths, mlflow }: ActivityDeps,
  run: RunRef,
  file: string,
  artifactPath: string,
  kind: string,
  /** the file's sha256 when the caller already has it (files in the content store) */
  knownSha256?: string,
): Promise<void> {
  await mlflow.uploadArtifact(run.mlflowRunId, file, artifactPath);
  const [sha256, info] = await Promise.all([knownSha256 ?? sha256File(file), stat(file)]);
  await withStore(paths.store, (store) =>
    store.recordArtifact({
      run_id: run.runId,
      path: artifactPath,
      sha256,
      kind,
      bytes: info.size,
      uri: `runs:/${run.mlflowRunId}/${artifactPath}`,
      local_path: path.resolve(file),
    }),
  );
}
