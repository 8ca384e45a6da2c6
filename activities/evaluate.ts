// Scores the run's generated images against the real images of its dataset with each protocol the
// spec asks for; numbers go to DuckDB and MLflow, the full result of a protocol as a JSON artifact.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { activityInfo, heartbeat } from '@temporalio/activity';
import { findingsOf } from '../datasets/adapters/findings.ts';
import type { Experiment } from '../experiments/schema.ts';
import { defaultRegistry, evaluate as evaluateImages } from '../metrics/index.ts';
import { memorisation } from '../metrics/memorisation.ts';
import { runPool } from '../datasets/pool.ts';
import { withStore, type MetricPoint } from '../store/index.ts';
import type { BlobRef, DatasetSummary, EvaluationSummary, RunRef } from '../workflows/messages.ts';
import type { ActivityDeps } from './deps.ts';
import type { ProvenanceRow } from './generate.ts';
import { imageMediaType } from './ingest.ts';
import { keepHeartbeating } from './heartbeat.ts';
import { logRunArtifact, logRunMetrics, logRunParams } from './run-records.ts';
import { UserError } from '../errors.ts';

export interface EvaluateInput {
  run: RunRef;
  evaluation: NonNullable<Experiment['evaluation']>;
  dataset: DatasetSummary;
  /** fixed by the workflow: the timestamp of every metric point */
  at: number;
  /**
   * Successive halving: score these images (a provenance blob) instead of the run's generated
   * ones; metrics are recorded as rung.<protocol>.<key> at the rung's training step.
   */
  rung?: { step: number; provenance: BlobRef };
}

/** Files fetched or hash-checked at once. */
const fetchConcurrency = 8;

/**
 * Real images (with their labels) and the run's generated images (labelled by their prompt's
 * finding) as files on this node: real ones from their ingested path where it still holds the same
 * bytes, else from the blob store; generated ones from the blob store (they were made on a gpu node).
 */
async function imageSets(deps: ActivityDeps, input: EvaluateInput) {
  const { real, fake } = await withStore(
    deps.paths.store,
    async (store) => ({
      real: (
        await store.query(
          `select sha256, bytes, format, path, coalesce(label, 'unlabelled') from images
            where manifest_hash = ? and (? = 'all' or split = ?) order by sha256`,
          [input.dataset.manifestHash, input.evaluation.realSplit, input.evaluation.realSplit],
        )
      ).rows,
      // by prompt, seed and index, never by the bytes' hash: a PNG's bytes name its run, so a replay's
      // images have other hashes, and another order would change the sums (1e-11 in FD) and KID's subsets
      fake: input.rung
        ? []
        : (await store.query(`select provenance from generated_images where run_id = ? order by prompt, seed, try_cast(json_extract(provenance, '$.index') as integer), sha256`, [input.run.runId])).rows,
    }),
    { readOnly: true },
  );
  if (input.rung) {
    const rows = await deps.blobs.getJsonLines<ProvenanceRow>(input.rung.provenance);
    fake.push(...rows.map((row) => [JSON.stringify(row)]));
  }
  const categories = new Map<string, string>();
  const realFiles: string[] = new Array(real.length);
  await runPool(real.entries(), fetchConcurrency, async ([i, [sha256, bytes, format, source, label]]) => {
    const ref = { sha256: String(sha256), size: Number(bytes), mediaType: imageMediaType(String(format)) };
    realFiles[i] = await deps.blobs.getLocal(ref, [String(source)]);
    categories.set(realFiles[i], String(label));
  });
  const fakeFiles: string[] = new Array(fake.length);
  const fakeBlobs = new Map<string, BlobRef>();
  await runPool(fake.entries(), fetchConcurrency, async ([i, [provenance]]) => {
    const row = JSON.parse(String(provenance)) as ProvenanceRow;
    fakeFiles[i] = await deps.blobs.get(row.blob);
    fakeBlobs.set(fakeFiles[i], row.blob);
    categories.set(fakeFiles[i], findingsOf([row.prompt]).label ?? 'unlabelled');
  });
  return { real: realFiles, fake: fakeFiles, fakeBlobs, categories };
}

export function evaluateActivity(deps: ActivityDeps) {
  return async function evaluate(input: EvaluateInput): Promise<EvaluationSummary> {
    const { run } = input;
    const sets = await imageSets(deps, input);
    if (sets.fake.length === 0) throw new UserError(`run ${run.runId} has no generated images to evaluate`);
    let progress = { protocol: '', done: 0, total: 0 };
    const stopBeats = keepHeartbeating(() => progress, activityInfo().heartbeatTimeoutMs);
    const scope = input.rung ? { prefix: 'rung', step: input.rung.step, folder: `rungs/step-${input.rung.step}` } : { prefix: 'eval', step: 0, folder: 'evaluation' };
    const outDir = path.join(deps.paths.runs, run.runId, input.rung ? scope.folder : 'evaluate');
    await mkdir(outDir, { recursive: true });
    const summary: EvaluationSummary = {};
    const points: MetricPoint[] = [];
    const params: Record<string, string> = {};
    try {
      for (const protocol of input.evaluation.protocols) {
        const result = await evaluateImages({
          protocol,
          real: sets.real,
          fake: sets.fake,
          byCategory: input.evaluation.byCategory,
          features: input.evaluation.features,
          medvqa2025Mode: input.evaluation.medvqa2025Mode,
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
        await logRunArtifact(deps, run, file, `${scope.folder}/${protocol}.json`, 'evaluation');
        for (const [name, value] of Object.entries(result.metrics)) points.push({ name: `${scope.prefix}.${protocol}.${name}`, step: scope.step, value });
        for (const [category, c] of Object.entries(result.categories ?? {})) {
          for (const [name, value] of Object.entries(c.metrics)) points.push({ name: `${scope.prefix}.${protocol}.${name}`, step: scope.step, value, category });
        }
        const extractor = { name: result.extractor.name, sha256: result.extractor.sha256 };
        params[`eval.${protocol}.extractor`] = extractor.name;
        params[`eval.${protocol}.extractor_sha256`] = extractor.sha256;
        summary[protocol] = { metrics: result.metrics, counts: result.counts, note: result.note, warnings: result.warnings, extractor };
      }
    } finally {
      stopBeats();
    }
    if (input.evaluation.memorisation && !input.rung) points.push(...(await checkMemorisation(deps, input, sets.fake, sets.fakeBlobs, outDir)));
    if (!input.rung) await logRunParams(deps, run, params);
    await logRunMetrics(deps, run, points, input.at);
    return summary;
  };
}

/** Memorisation: each generated image against the training split; the closest pairs as an artifact the run's page shows. */
async function checkMemorisation(deps: ActivityDeps, input: EvaluateInput, fakeFiles: string[], fakeBlobs: Map<string, BlobRef>, outDir: string): Promise<MetricPoint[]> {
  const train = await withStore(
    deps.paths.store,
    async (store) => (await store.query(`select sha256, bytes, format, path from images where manifest_hash = ? and split = 'train' order by sha256`, [input.dataset.manifestHash])).rows,
    { readOnly: true },
  );
  const refOf = new Map<string, { sha256: string; size: number; mediaType: string; path?: string }>();
  const training: string[] = new Array(train.length);
  await runPool(train.entries(), fetchConcurrency, async ([i, [sha256, bytes, format, source]]) => {
    const ref = { sha256: String(sha256), size: Number(bytes), mediaType: imageMediaType(String(format)) };
    training[i] = await deps.blobs.getLocal(ref, [String(source)]);
    refOf.set(training[i], { ...ref, path: String(source) });
  });
  if (training.length === 0) throw new UserError(`evaluation.memorisation: dataset ${input.dataset.name} has no training images to compare with`);
  const extractor = defaultRegistry(path.join(deps.paths.home, 'extractors')).get(input.evaluation.features);
  const result = await memorisation({ synthetic: fakeFiles, training, extractor, cacheDir: path.join(deps.paths.home, 'feature-cache') });
  // blobs, not this node's paths: the page may be written on another cpu node
  const pairs = result.pairs
    .map((p) => ({ ...p, synthetic: fakeBlobs.get(p.synthetic), byFeatures: { ...p.byFeatures, training: refOf.get(p.byFeatures.training) }, byPixels: { ...p.byPixels, training: refOf.get(p.byPixels.training) } }))
    .sort((a, b) => b.byFeatures.cosine - a.byFeatures.cosine);
  const file = path.join(outDir, 'memorisation.json');
  await writeFile(file, JSON.stringify({ ...result, pairs }, null, 2));
  await logRunArtifact(deps, input.run, file, 'memorisation/result.json', 'memorisation');
  return [
    { name: 'eval.memorisation.flagged', step: 0, value: result.flagged },
    { name: 'eval.memorisation.flagged_fraction', step: 0, value: result.flaggedFraction },
    { name: 'eval.memorisation.max_cosine', step: 0, value: Math.max(...result.pairs.map((p) => p.byFeatures.cosine)) },
    { name: 'eval.memorisation.max_correlation', step: 0, value: Math.max(...result.pairs.map((p) => p.byPixels.correlation)) },
  ];
}
