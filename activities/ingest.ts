// Ingests a dataset into a content-addressed manifest: DuckDB tables plus manifest.parquet and
// rejects.csv in the dataset version's folder. Heartbeats progress; cancellation aborts the scan.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import { ingestDataset, summariseRejects } from '../datasets/index.ts';
import type { IngestProgress } from '../datasets/types.ts';
import type { DatasetSpec } from '../experiments/schema.ts';
import { withStore } from '../store/index.ts';
import type { DatasetSummary } from '../workflows/messages.ts';
import type { ActivityDeps } from './deps.ts';
import { keepHeartbeating } from './heartbeat.ts';

export interface IngestInput {
  runId: string;
  dataset: DatasetSpec;
}

export function ingestActivity({ paths }: ActivityDeps) {
  return async function ingest({ runId, dataset }: IngestInput): Promise<DatasetSummary> {
    let last: IngestProgress = { done: 0, total: 0 };
    const stop = keepHeartbeating(() => last, activityInfo().heartbeatTimeoutMs);
    try {
      const result = await ingestDataset(dataset, {
        signal: cancellationSignal(),
        blobDir: paths.blobs,
        onProgress: (p) => {
          last = p;
          heartbeat(p);
        },
      });
      const dir = path.join(paths.datasets, result.manifestHash.slice(0, 16));
      await mkdir(dir, { recursive: true });
      const manifestParquet = path.join(dir, 'manifest.parquet');
      const rejectsCsv = path.join(dir, 'rejects.csv');
      await withStore(paths.store, async (store) => {
        await store.saveDataset(result, manifestParquet);
        await store.exportManifestParquet(result.manifestHash, manifestParquet);
        await store.exportRejects(result.manifestHash, rejectsCsv);
        await store.linkRunDataset(runId, result.manifestHash, 'source');
        await store.upsertRun({ run_id: runId, dataset_manifest_hash: result.manifestHash });
      });
      return {
        manifestHash: result.manifestHash,
        name: result.name,
        format: result.format,
        source: result.source,
        images: result.stats.accepted,
        candidates: result.stats.candidates,
        duplicatesMerged: result.stats.duplicatesMerged,
        rejected: result.stats.rejected,
        bySplit: result.stats.bySplit,
        byLabel: result.stats.byLabel,
        rejects: summariseRejects(result.rejects),
        manifestParquet,
        rejectsCsv,
      };
    } finally {
      stop();
    }
  };
}
