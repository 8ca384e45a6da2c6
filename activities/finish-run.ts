// Closes the run in MLflow and DuckDB with its final status.
import { withStore } from '../store/index.ts';
import type { RunRef } from '../workflows/messages.ts';
import type { ActivityDeps } from './deps.ts';

export type RunStatus = 'FINISHED' | 'FAILED' | 'KILLED';

export interface FinishRunInput {
  run: RunRef;
  status: RunStatus;
  error?: string;
}

export function finishRunActivity({ paths, mlflow }: ActivityDeps) {
  return async function finishRun({ run, status, error }: FinishRunInput): Promise<void> {
    const endTime = Date.now();
    if (error) await mlflow.setTag(run.mlflowRunId, 'medsynth.error', error.slice(0, 5000));
    await mlflow.updateRun(run.mlflowRunId, status, endTime);
    await withStore(paths.store, (store) =>
      store.setRunStatus(run.runId, status, { endedAt: new Date(endTime), error: error ?? null }),
    );
  };
}
