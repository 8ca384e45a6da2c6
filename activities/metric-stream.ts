// Streams metrics by step into DuckDB and MLflow in small batches while a trainer runs.
import { withStore } from '../store/index.ts';
import type { MetricPoint } from '../store/index.ts';
import type { ActivityDeps } from './deps.ts';
import type { RunRef } from '../workflows/messages.ts';

export interface MetricStream {
  push(point: MetricPoint): void;
  /** writes what is buffered; called on a timer and at the end */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * MLflow keeps a metric point once per (key, value, step, timestamp); a retried or resumed
 * attempt re-logs the steps after its checkpoint, so timestamps must not depend on when that
 * happens: each point is stamped `origin + step` ms, with `origin` fixed by the workflow.
 */
export function metricStream({ paths, mlflow }: ActivityDeps, run: RunRef, origin: number, everyMs = 5000): MetricStream {
  let buffer: MetricPoint[] = [];
  let queue: Promise<void> = Promise.resolve();
  const write = async () => {
    const points = buffer;
    buffer = [];
    if (points.length === 0) return;
    try {
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
    } catch (err) {
      buffer = points.concat(buffer); // kept for the next flush; both writes are idempotent
      throw err;
    }
  };
  /** Writes run one after another; a failed one leaves its points buffered and rejects its caller only. */
  const flush = () => {
    const result = queue.then(write);
    queue = result.catch(() => undefined);
    return result;
  };
  const timer = setInterval(() => void flush().catch(() => undefined), everyMs);
  return {
    push: (point) => void buffer.push(point),
    flush,
    close: async () => {
      clearInterval(timer);
      await flush();
    },
  };
}
