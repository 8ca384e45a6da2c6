// Closes the run in MLflow and DuckDB with its final status.
import { blobUri } from '../artifacts/blob-store.ts';
import { withStore } from '../store/index.ts';
import type { BlobRef, RunRef } from '../workflows/messages.ts';
import type { ActivityDeps } from './deps.ts';

export type RunStatus = 'FINISHED' | 'FAILED' | 'KILLED';

export interface FinishRunInput {
  run: RunRef;
  status: RunStatus;
  error?: string;
  /** a sweep trial stopped by successive halving: MLflow says FINISHED with a tag, DuckDB says PRUNED */
  pruned?: { step: number; score: number; checkpoint?: BlobRef } | null;
}

export function finishRunActivity({ paths, mlflow }: ActivityDeps) {
  return async function finishRun({ run, status, error, pruned }: FinishRunInput): Promise<void> {
    const endTime = Date.now();
    if (error) await mlflow.setTag(run.mlflowRunId, 'medsynth.error', error.slice(0, 5000));
    if (pruned) await mlflow.setTag(run.mlflowRunId, 'medsynth.pruned_at_step', String(pruned.step));
    await mlflow.updateRun(run.mlflowRunId, status, endTime);
    await withStore(paths.store, async (store) => {
      // a pruned trial keeps the checkpoint of its last rung: a later sweep can go on from it
      if (pruned?.checkpoint) {
        await store.recordArtifact({ run_id: run.runId, path: `checkpoint/step-${pruned.step}`, sha256: pruned.checkpoint.sha256, kind: 'checkpoint', bytes: pruned.checkpoint.size, uri: blobUri(pruned.checkpoint.sha256) });
      }
      await store.setRunStatus(run.runId, pruned ? 'PRUNED' : status, { endedAt: new Date(endTime), error: error ?? null });
    });
  };
}
