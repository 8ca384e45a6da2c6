// Ingests a dataset into a content-addressed manifest: DuckDB tables plus manifest.parquet and
// rejects.csv in the dataset version's folder, and every accepted image into the blob store, so a
// node that cannot see the source path (a gpu node) can still read it. Heartbeats progress;
// cancellation aborts the scan.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import { ingestDataset, summariseRejects } from '../datasets/index.ts';
import { runPool } from '../datasets/pool.ts';
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

/** Images in flight to the blob store at once. */
const uploadConcurrency = 8;

export const imageMediaType = (format: string) => `image/${format}`;

export function ingestActivity({ paths, blobs }: ActivityDeps) {
  return async function ingest({ runId, dataset }: IngestInput): Promise<DatasetSummary> {
    let last: IngestProgress & { phase?: string } = { done: 0, total: 0 };
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
      let uploaded = 0;
      await runPool(
        result.rows,
        uploadConcurrency,
        async (row) => {
          const ref = await blobs.put(row.path, imageMediaType(row.format));
          if (ref.sha256 !== row.sha256) throw new Error(`${row.path} changed while it was ingested (sha256 ${ref.sha256}, manifest ${row.sha256})`);
          last = { done: ++uploaded, total: result.rows.length, phase: 'upload' };
        },
        cancellationSignal(),
      );
      return {
        manifestHash: result.manifestHash,
        name: result.name,
        format: result.format,
        source: result.source,
        images: result.stats.accepted,
        candidates: result.stats.candidates,
        duplicatesMerged: result.stats.duplicatesMerged,
        rejected: result.stats.rejected,
        hiddenSkipped: result.stats.hiddenSkipped,
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
