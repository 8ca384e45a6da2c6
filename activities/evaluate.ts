// Scores the run's generated images against the real images of its dataset with each protocol the
// spec asks for; numbers go to DuckDB and MLflow, the full result of a protocol as a JSON artifact.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { activityInfo, heartbeat } from '@temporalio/activity';
import { findingsOf } from '../datasets/adapters/findings.ts';
import type { Experiment } from '../experiments/schema.ts';
import { evaluate as evaluateImages } from '../metrics/index.ts';
import { withStore, type MetricPoint } from '../store/index.ts';
import type { DatasetSummary, EvaluationSummary, RunRef } from '../workflows/messages.ts';
import type { ActivityDeps } from './deps.ts';
import { keepHeartbeating } from './heartbeat.ts';
import { logRunArtifact, logRunMetrics } from './run-records.ts';
import { UserError } from '../errors.ts';

export interface EvaluateInput {
  run: RunRef;
  evaluation: NonNullable<Experiment['evaluation']>;
  dataset: DatasetSummary;
  /** fixed by the workflow: the timestamp of every metric point */
  at: number;
}

/** Real images (with their labels) and the run's generated images (labelled by their prompt's finding). */
async function imageSets(deps: ActivityDeps, input: EvaluateInput) {
  return withStore(
    deps.paths.store,
    async (store) => {
      const real = await store.query(
        `select path, coalesce(label, 'unlabelled') from images where manifest_hash = ? and (? = 'all' or split = ?) order by sha256`,
        [input.dataset.manifestHash, input.evaluation.realSplit, input.evaluation.realSplit],
      );
      const fake = await store.query('select path, prompt from generated_images where run_id = ? order by sha256', [input.run.runId]);
      const categories = new Map<string, string>();
      for (const [p, label] of real.rows) categories.set(String(p), String(label));
      for (const [p, prompt] of fake.rows) categories.set(String(p), findingsOf([String(prompt)]).label ?? 'unlabelled');
      return { real: real.rows.map((r) => String(r[0])), fake: fake.rows.map((r) => String(r[0])), categories };
    },
    { readOnly: true },
  );
}

export function evaluateActivity(deps: ActivityDeps) {
  return async function evaluate(input: EvaluateInput): Promise<EvaluationSummary> {
    const { run } = input;
    const sets = await imageSets(deps, input);
    if (sets.fake.length === 0) throw new UserError(`run ${run.runId} has no generated images to evaluate`);
    let progress = { protocol: '', done: 0, total: 0 };
    const stopBeats = keepHeartbeating(() => progress, activityInfo().heartbeatTimeoutMs);
    const outDir = path.join(deps.paths.runs, run.runId, 'evaluate');
    await mkdir(outDir, { recursive: true });
    const summary: EvaluationSummary = {};
    const points: MetricPoint[] = [];
    try {
      for (const protocol of input.evaluation.protocols) {
        const result = await evaluateImages({
          protocol,
          real: sets.real,
          fake: sets.fake,
          byCategory: input.evaluation.byCategory,
          categories: sets.categories,
          extractorDir: path.join(deps.paths.home, 'extractors'),
          cacheDir: path.join(deps.paths.home, 'feature-cache'),
          onProgress: (p) => {
            progress = { protocol, done: p.done, total: p.total };
            heartbeat(progress);
          },
        });
        const file = path.join(outDir, `${protocol}.json`);
        await writeFile(file, JSON.stringify(result, null, 2));
        await logRunArtifact(deps, run, file, `evaluation/${protocol}.json`, 'evaluation');
        for (const [name, value] of Object.entries(result.metrics)) points.push({ name: `eval.${protocol}.${name}`, step: 0, value });
        for (const [category, c] of Object.entries(result.categories ?? {})) {
          for (const [name, value] of Object.entries(c.metrics)) points.push({ name: `eval.${protocol}.${name}`, step: 0, value, category });
        }
        summary[protocol] = { metrics: result.metrics, counts: result.counts, note: result.note, warnings: result.warnings };
      }
    } finally {
      stopBeats();
    }
    await logRunMetrics(deps, run, points, input.at);
    return summary;
  };
}
