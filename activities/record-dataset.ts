// Records an ingested dataset version on the run: counts as metrics, the manifest hash as a tag,
// manifest.parquet and rejects.csv as artifacts, in MLflow and DuckDB alike.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { withStore } from '../store/index.ts';
import type { DatasetSummary, RunRef } from '../workflows/messages.ts';
import type { ActivityDeps } from './deps.ts';

export interface RecordDatasetInput {
  run: RunRef;
  dataset: DatasetSummary;
  /** Set by the workflow, so a retried attempt logs exactly the same metric rows. */
  at: number;
}

export function datasetMetrics(d: DatasetSummary): Array<{ name: string; value: number; category: string }> {
  return [
    { name: 'dataset.images', value: d.images, category: '' },
    { name: 'dataset.candidates', value: d.candidates, category: '' },
    { name: 'dataset.duplicates_merged', value: d.duplicatesMerged, category: '' },
    { name: 'dataset.rejected', value: d.rejected, category: '' },
    ...Object.entries(d.bySplit).map(([split, n]) => ({ name: 'dataset.split_images', value: n, category: split })),
    ...Object.entries(d.byLabel).map(([label, n]) => ({ name: 'dataset.label_images', value: n, category: label })),
  ];
}

/** MLflow has no category column: the category becomes part of the metric key. */
const mlflowKey = (m: { name: string; category: string }) => (m.category ? `${m.name}.${m.category}` : m.name);

export function recordDatasetActivity({ paths, mlflow }: ActivityDeps) {
  return async function recordDataset({ run, dataset, at }: RecordDatasetInput): Promise<void> {
    const metrics = datasetMetrics(dataset);
    await mlflow.logBatch({
      runId: run.mlflowRunId,
      metrics: metrics.map((m) => ({ key: mlflowKey(m), value: m.value, step: 0, timestamp: at })),
      tags: {
        'medsynth.dataset.manifest_hash': dataset.manifestHash,
        'medsynth.dataset.name': dataset.name,
        'medsynth.dataset.source': dataset.source,
      },
    });
    const files = [
      { file: dataset.manifestParquet, artifactPath: 'dataset/manifest.parquet', kind: 'manifest' },
      { file: dataset.rejectsCsv, artifactPath: 'dataset/rejects.csv', kind: 'rejects' },
    ];
    for (const f of files) await mlflow.uploadArtifact(run.mlflowRunId, f.file, f.artifactPath);

    await withStore(paths.store, async (store) => {
      await store.logMetrics(run.runId, metrics.map((m) => ({ ...m, step: 0 })));
      for (const f of files) {
        const bytes = await readFile(f.file);
        await store.recordArtifact({
          run_id: run.runId,
          path: f.artifactPath,
          sha256: createHash('sha256').update(bytes).digest('hex'),
          kind: f.kind,
          bytes: (await stat(f.file)).size,
          uri: `runs:/${run.mlflowRunId}/${f.artifactPath}`,
          local_path: path.resolve(f.file),
        });
      }
    });
  };
}
