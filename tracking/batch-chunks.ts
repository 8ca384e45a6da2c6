import type { KeyValue, Metric } from './mlflow-types.ts';

/** MLflow's limits for one runs/log-batch request. */
export const batchLimits = { metrics: 1000, params: 100, tags: 100, total: 1000 } as const;

export interface BatchChunk {
  metrics: Metric[];
  params: KeyValue[];
  tags: KeyValue[];
}

/** Splits a batch into requests within MLflow's limits, params first (their conflicts fail early). */
export function chunkBatch({ metrics, params, tags }: BatchChunk, limits = batchLimits): BatchChunk[] {
  const chunks: BatchChunk[] = [];
  let [m, p, t] = [0, 0, 0];
  while (m < metrics.length || p < params.length || t < tags.length) {
    const chunkParams = params.slice(p, p + limits.params);
    const chunkTags = tags.slice(t, t + limits.tags);
    const room = Math.min(limits.metrics, limits.total - chunkParams.length - chunkTags.length);
    const chunkMetrics = metrics.slice(m, m + room);
    chunks.push({ metrics: chunkMetrics, params: chunkParams, tags: chunkTags });
    [m, p, t] = [m + chunkMetrics.length, p + chunkParams.length, t + chunkTags.length];
  }
  return chunks;
}
