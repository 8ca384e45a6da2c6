// Train-on-synthetic, test-on-real (the utility stage): the cpu queue lists the run's real train and
// test images and its generated ones as a blob; the gpu queue fetches them and runs the trainer's
// classify job (three regimes x seeds, tested on the real test split); the cpu queue records the
// numbers in DuckDB and MLflow. The trainer refuses a test image that is also a training image.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { activityInfo, cancellationSignal } from '@temporalio/activity';
import type { BlobRef } from '../artifacts/blob-store.ts';
import { findingsOf } from '../datasets/adapters/findings.ts';
import { runPool } from '../datasets/pool.ts';
import { UserError } from '../errors.ts';
import type { ClassifyJob } from '../experiments/jobs.ts';
import type { Experiment } from '../experiments/schema.ts';
import { withStore, type MetricPoint } from '../store/index.ts';
import type { DatasetSummary, RunRef } from '../workflows/messages.ts';
import type { ActivityDeps } from './deps.ts';
import type { ProvenanceRow } from './generate.ts';
import { keepHeartbeating } from './heartbeat.ts';
import { imageMediaType } from './ingest.ts';
import { logRunMetrics } from './run-records.ts';
import { runTrainer } from './trainer-process.ts';

interface UtilityRow {
  blob: BlobRef;
  label: string;
  split: 'train' | 'test';
  source: 'real' | 'synthetic';
}

/** What the classify job reports (trainer/medsynth_trainer/classify.py). */
export interface UtilitySummary {
  classes: string[];
  test: number;
  chance: number;
  weights: string;
  note?: string;
  regimes: Record<string, {
    accuracy: Interval;
    macro_f1: Interval;
    recall: Record<string, Interval>;
    gain_over_real?: { accuracy: Interval; paired_t_p: number | null };
  }>;
}
interface Interval {
  mean: number;
  low: number | null;
  high: number | null;
  n: number;
}

export function utilityActivities(deps: ActivityDeps) {
  return {
    /** cpu: the images of the three regimes and the test split, as a JSON-lines blob. */
    async prepareUtility({ run, dataset }: { run: RunRef; dataset: DatasetSummary }): Promise<BlobRef> {
      const { real, generated } = await withStore(
        deps.paths.store,
        async (store) => ({
          real: (await store.query(`select sha256, bytes, format, label, split from images where manifest_hash = ? and label is not null and split in ('train', 'test') order by sha256`, [dataset.manifestHash])).rows,
          generated: (await store.query('select provenance from generated_images where run_id = ? order by prompt, seed', [run.runId])).rows,
        }),
        { readOnly: true },
      );
      const rows: UtilityRow[] = real.map(([sha256, bytes, format, label, split]) => ({ blob: { sha256: String(sha256), size: Number(bytes), mediaType: imageMediaType(String(format)) }, label: String(label), split: split as 'train' | 'test', source: 'real' }));
      for (const [p] of generated) {
        const row = JSON.parse(String(p)) as ProvenanceRow;
        const label = findingsOf([row.prompt]).label;
        if (label) rows.push({ blob: row.blob, label, split: 'train', source: 'synthetic' });
      }
      if (!rows.some((r) => r.split === 'test')) throw new UserError(`utility: dataset ${dataset.name} has no labelled images in its test split`);
      return deps.blobs.putJsonLines(rows);
    },

    /** gpu: fetch the images, run the classify job; the summary back. */
    async classify({ run, data, utility }: { run: RunRef; data: BlobRef; utility: NonNullable<Experiment['utility']> }): Promise<UtilitySummary> {
      const outDir = path.join(deps.paths.runs, run.runId, 'utility');
      const rows = await deps.blobs.getJsonLines<UtilityRow>(data);
      const local: string[] = new Array(rows.length);
      await runPool(rows.entries(), 8, async ([i, r]) => void (local[i] = await deps.blobs.get(r.blob)));
      const file = path.join(outDir, 'data.jsonl');
      await mkdir(outDir, { recursive: true });
      await writeFile(file, rows.map((r, i) => JSON.stringify({ path: local[i], label: r.label, split: r.split, source: r.source })).join('\n'));
      const job: ClassifyJob = { kind: 'classify', runId: run.runId, data: { file }, ...utility, device: 'auto' };
      let state = { done: 0, total: 0 };
      const stop = keepHeartbeating(() => state, activityInfo().heartbeatTimeoutMs);
      try {
        const done = await runTrainer({ command: 'classify', job, outDir, signal: cancellationSignal(), onEvent: (e) => void (e.event === 'progress' && (state = { done: e.step, total: e.total })) });
        await deps.mlflow.uploadArtifact(run.mlflowRunId, path.join(outDir, 'classify.json'), 'utility/classify.json');
        return done.summary as UtilitySummary;
      } finally {
        stop();
      }
    },

    /** cpu: the numbers in DuckDB and MLflow, utility.<real|synthetic|real_synthetic>.<metric>[_low|_high]. */
    async recordUtility({ run, summary, at }: { run: RunRef; summary: UtilitySummary; at: number }): Promise<void> {
      const points: MetricPoint[] = [];
      const add = (name: string, i: Interval) => {
        points.push({ name, step: 0, value: i.mean });
        if (i.low !== null && i.high !== null) points.push({ name: `${name}_low`, step: 0, value: i.low }, { name: `${name}_high`, step: 0, value: i.high });
      };
      // MLflow names take no "+": real+synthetic is recorded as real_synthetic
      for (const [name, r] of Object.entries(summary.regimes)) {
        const regime = name.replace(/\+/g, '_');
        add(`utility.${regime}.accuracy`, r.accuracy);
        add(`utility.${regime}.macro_f1`, r.macro_f1);
        for (const [c, i] of Object.entries(r.recall)) points.push({ name: `utility.${regime}.recall`, step: 0, value: i.mean, category: c });
        if (r.gain_over_real) {
          add(`utility.${regime}.gain_over_real`, r.gain_over_real.accuracy);
          if (r.gain_over_real.paired_t_p !== null) points.push({ name: `utility.${regime}.gain_p`, step: 0, value: r.gain_over_real.paired_t_p });
        }
      }
      await logRunMetrics(deps, run, points, at);
    },
  };
}
