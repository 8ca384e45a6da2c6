// Records an ingested dataset version on the run: counts as metrics, the manifest hash as a tag,
// manifest.parquet and rejects.csv as artifacts, in MLflow and DuckDB alike.
import type { DatasetSummary, RunRef } from '../workflows/messages.ts';
import type { ActivityDeps } from './deps.ts';
import { logRunArtifact, logRunMetrics } from './run-records.ts';

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
    { name: 'dataset.hidden_skipped', value: d.hiddenSkipped ?? 0, category: '' },
    ...Object.entries(d.bySplit).map(([split, n]) => ({ name: 'dataset.split_images', value: n, category: split })),
    ...Object.entries(d.byLabel).map(([label, n]) => ({ name: 'dataset.label_images', value: n, category: label })),
  ];
}

export function recordDatasetActivity(deps: ActivityDeps) {
  return async function recordDataset({ run, dataset, at }: RecordDatasetInput): Promise<void> {
    await deps.mlflow.logBatch({
      runId: run.mlflowRunId,
      tags: {
        'medsynth.dataset.manifest_hash': dataset.manifestHash,
        'medsynth.dataset.name': dataset.name,
        'medsynth.dataset.source': dataset.source,
      },
    });
    await logRunMetrics(deps, run, datasetMetrics(dataset).map((m) => ({ ...m, step: 0 })), at);
    await logRunArtifact(deps, run, dataset.manifestParquet, 'dataset/manifest.parquet', 'manifest');
    await logRunArtifact(deps, run, dataset.rejectsCsv, 'dataset/rejects.csv', 'rejects');
  };
}
