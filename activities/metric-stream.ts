// Streams metrics by step to MLflow in small batches while a trainer runs (on a gpu node: the cpu
// queue copies them into DuckDB afterwards, from MLflow's metric history).
import type { MetricPoint } from '../store/index.ts';
import type { ActivityDeps } from './deps.ts';
import type { RunRef } from '../workflows/messages.ts';
import { logMlflowMetrics } from './run-records.ts';

export interface MetricStream {
  push(point: MetricPoint): void;
  /** writes what is buffered; called on a timer and at the end */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Points are stamped as logRunMetrics says, so a resumed attempt's replayed steps dedupe. */
export function metricStream(deps: ActivityDeps, run: RunRef, origin: number, everyMs = 5000): MetricStream {
  let buffer: MetricPoint[] = [];
  let queue: Promise<void> = Promise.resolve();
  const write = async () => {
    const points = buffer;
    buffer = [];
    if (points.length === 0) return;
    try {
      await logMlflowMetrics(deps, run, points, origin);
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
