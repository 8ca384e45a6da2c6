// Writing what a run produced to its records, MLflow and DuckDB, in one place. Every write is
// idempotent, so an activity may retry it. Only cpu-queue activities call the functions that write
// DuckDB; gpu activities call logMlflowMetrics alone.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { BlobRef } from '../artifacts/blob-store.ts';
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
/**
 * An MLflow metric key for a point: labels and categories are data (any text), MLflow names are
 * not (letters, digits, _ - . space : / only), so every other character becomes _x<hex>_
 * ("(none)" -> "_x28_none_x29_"). DuckDB keeps the category as it is.
 */
export function mlflowMetricKey(name: string, category?: string): string {
  if (!category) return name;
  const safe = [...category].map((c) => (/[A-Za-z0-9_\-. :/]/.test(c) ? c : `_x${c.codePointAt(0)!.toString(16)}_`)).join('');
  return `${name}.${safe}`;
}

export async function logMlflowMetrics({ mlflow }: Pick<ActivityDeps, 'mlflow'>, run: RunRef, points: MetricPoint[], origin: number): Promise<void> {
  if (points.length === 0) return;
  await mlflow.logBatch({
    runId: run.mlflowRunId,
    metrics: points.map((p) => ({
      key: mlflowMetricKey(p.name, p.category),
      value: p.value,
      step: p.step,
      timestamp: origin + p.step,
    })),
  });
}

/** Metrics into MLflow and DuckDB (cpu queue). */
export async function logRunMetrics(deps: ActivityDeps, run: RunRef, points: MetricPoint[], origin: number): Promise<void> {
  if (points.length === 0) return;
  await logMlflowMetrics(deps, run, points, origin);
  await withStore(deps.paths.store, (store) => store.logMetrics(run.runId, points));
}

/** Params (immutable: the same value again is fine) into MLflow and DuckDB (cpu queue). */
export async function logRunParams({ paths, mlflow }: ActivityDeps, run: RunRef, params: Record<string, string>): Promise<void> {
  const entries = Object.entries(params);
  if (entries.length === 0) return;
  await mlflow.logBatch({ runId: run.mlflowRunId, params });
  await withStore(paths.store, (store) => store.logParams(run.runId, params));
}

/** Uploads a file as an MLflow artifact of the run and records it, with its hash, in DuckDB (cpu queue). */
export async function logRunArtifact(
  { paths, mlflow }: ActivityDeps,
  run: RunRef,
  file: string,
  artifactPath: string,
  kind: string,
): Promise<void> {
  await mlflow.uploadArtifact(run.mlflowRunId, file, artifactPath);
  const [sha256, info] = await Promise.all([sha256File(file), stat(file)]);
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

/** Records, in DuckDB, artifacts that live in the blob store (cpu queue); `uri` is where they are kept. */
export async function recordBlobArtifacts(
  { paths, blobs }: ActivityDeps,
  run: RunRef,
  artifacts: Array<{ path: string; kind: string; blob: BlobRef }>,
): Promise<void> {
  await withStore(paths.store, async (store) => {
    for (const a of artifacts) {
      await store.recordArtifact({
        run_id: run.runId,
        path: a.path,
        sha256: a.blob.sha256,
        kind: a.kind,
        bytes: a.blob.size,
        uri: blobs.uri(a.blob.sha256),
        local_path: null,
      });
    }
  });
}
