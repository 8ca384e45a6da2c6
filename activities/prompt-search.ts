// The prompt search's activities (cpu queue): its records (an MLflow parent run with one nested
// run per candidate, DuckDB rows in sweeps and trials: the sweep engine's tables), the candidates
// of each category from the dataset in DuckDB, the scoring of each round's images, and its page.
// Every write is idempotent: a retry finds runs by their medsynth.run_id tag and upserts rows.
import path from 'node:path';
import { activityInfo, heartbeat } from '@temporalio/activity';
import { findingsOf } from '../datasets/adapters/findings.ts';
import { runPool } from '../datasets/pool.ts';
import { UserError } from '../errors.ts';
import { DEFAULT_FEATURES, defaultRegistry, extractSets, fidOfFeatures, kidWithInterval, type FeatureMatrix } from '../metrics/index.ts';
import { candidatesFor, DEFAULT_TEMPLATES, type CategoryImage } from '../prompts/candidates.ts';
import { maxCandidates } from '../prompts/halving.ts';
import { writePromptReport } from '../reports/prompt-report.ts';
import { withStore, type MetricPoint } from '../store/index.ts';
import { flattenParams } from '../tracking/flatten.ts';
import type { BlobRef, DatasetSummary, ReportResult } from '../workflows/messages.ts';
import { PROMPT_IMAGES, promptMetricKeys, type CandidateState, type CategoryPlan, type PromptSearchInput, type PromptSearchStart, type ScoredCandidate } from '../workflows/prompt-search-messages.ts';
import type { SweepRef } from '../workflows/sweep-messages.ts';
import type { ActivityDeps } from './deps.ts';
import type { ProvenanceRow } from './generate.ts';
import { keepHeartbeating } from './heartbeat.ts';
import { imageMediaType } from './ingest.ts';
import { reportArtifactPath } from './report.ts';
import { logRunArtifact, logRunMetrics, recordBlobArtifacts } from './run-records.ts';
import { runTags } from './start-run.ts';
import { recordSweepStart } from './sweep-records.ts';

const asRun = (search: SweepRef) => ({ runId: search.sweepId, mlflowRunId: search.mlflowRunId, mlflowExperimentId: search.mlflowExperimentId });
const parallelRequests = 4;

export interface StartPromptSearchInput extends PromptSearchInput {
  temporalRunId: string;
  at: number;
  dataset: DatasetSummary;
  modelRunId: string;
}

export interface ScorePromptsInput {
  search: SweepRef;
  dataset: DatasetSummary;
  features?: string;
  seed: number;
  bootstrap: number;
  at: number;
  /** every round's provenance blobs so far */
  provenance: BlobRef[];
  /** each scored on seeds seed..seed+images-1 */
  candidates: Array<{ index: number; id: string; category: string; prompt: string; mlflowRunId: string; images: number }>;
}

interface ImageRow {
  sha256: string;
  bytes: number;
  format: string;
  path: string;
  label: string;
  split: string;
  prompts: string[];
  extra: string | null;
}

async function datasetImages(deps: ActivityDeps, manifestHash: string): Promise<ImageRow[]> {
  return withStore(
    deps.paths.store,
    async (store) =>
      (await store.query(`select sha256, bytes, format, path, label, split, prompts, extra from images where manifest_hash = ? and label is not null order by sha256`, [manifestHash])).rows.map(
        ([sha256, bytes, format, source, label, split, prompts, extra]) => ({
          sha256: String(sha256),
          bytes: Number(bytes),
          format: String(format),
          path: String(source),
          label: String(label),
          split: String(split),
          prompts: ((prompts as unknown[] | null) ?? []).map(String),
          extra: extra === null ? null : String(extra),
        }),
      ),
    { readOnly: true },
  );
}

/** The short VQA answers in an image's extra JSON (Kvasir-VQA style {vqa: [{question, answer}]}). */
function answersOf(extra: string | null): string[] {
  if (!extra) return [];
  try {
    const vqa = (JSON.parse(extra) as { vqa?: unknown }).vqa;
    return Array.isArray(vqa) ? vqa.flatMap((qa) => (qa && typeof qa === 'object' && typeof (qa as { answer?: unknown }).answer === 'string' ? [(qa as { answer: string }).answer] : [])) : [];
  } catch {
    return [];
  }
}

export function promptSearchActivities(deps: ActivityDeps) {
  const { paths, mlflow } = deps;
  return {
    /** The parent run, the candidates of every category (each a nested run and a trials row), and what was skipped. */
    async startPromptSearch(input: StartPromptSearchInput): Promise<PromptSearchStart> {
      const { spec, searchId } = input;
      const settings = spec.prompts!;
      const features = spec.evaluation?.features ?? DEFAULT_FEATURES;
      const rows = await datasetImages(deps, input.dataset.manifestHash);
      const labels = [...new Set(rows.map((r) => r.label))].sort();
      const skipped: PromptSearchStart['skipped'] = [];
      const warnings: string[] = [];
      const wanted = settings.categories ?? labels;
      for (const c of wanted.filter((c) => !labels.includes(c))) skipped.push({ category: c, reason: `not a label of dataset ${input.dataset.name} (its labels: ${labels.join(', ') || 'none'})` });
      const withReal = wanted.filter((c) => labels.includes(c)).flatMap((category) => {
        const realImages = rows.filter((r) => r.label === category && r.split === 'val').length;
        if (realImages >= settings.minRealImages) return [{ category, realImages }];
        skipped.push({ category, reason: `only ${realImages} real val image(s); scoring needs minRealImages ${settings.minRealImages}` });
        return [];
      });
      const budget = withReal.length ? Math.floor(settings.budget / withReal.length) : 0;
      const cap = Math.min(settings.maxCandidates, maxCandidates(budget, settings.imagesPerCandidate));
      const searched = cap >= 2 ? withReal : [];
      for (const { category } of cap >= 2 ? [] : withReal) {
        skipped.push({ category, reason: `a budget of ${budget} images per category leaves room for fewer than 2 candidates of ${settings.imagesPerCandidate} images (the first round may spend half of it)` });
      }
      for (const s of skipped) warnings.push(`category ${s.category} skipped: ${s.reason}`);
      if (searched.length === 0) throw new UserError(`prompts: nothing to search in ${input.dataset.name}: ${skipped.map((s) => `${s.category}: ${s.reason}`).join('; ') || 'it has no labelled images'}`);
      for (const key of Object.keys(settings.seedPrompts).filter((k) => !labels.includes(k))) warnings.push(`prompts.seedPrompts.${key}: not a label of ${input.dataset.name}, its prompts are not searched`);

      const generationPrompts = Array.isArray(spec.generation?.prompts) ? spec.generation.prompts : [];
      const candidates: CandidateState[] = [];
      const categories: CategoryPlan[] = [];
      for (const { category, realImages } of searched) {
        const images: CategoryImage[] = rows.filter((r) => r.label === category && r.split === 'train').map((r) => ({ prompts: r.prompts, answers: answersOf(r.extra) }));
        const seeds = [...(settings.seedPrompts[category] ?? []), ...generationPrompts.filter((p) => findingsOf([p]).label === category)];
        let found = candidatesFor(category, images, { ...settings, templates: settings.templates ?? DEFAULT_TEMPLATES, seeds, limit: cap });
        if (found.length > cap) {
          warnings.push(`category ${category}: ${found.length} seed prompts, but its budget of ${budget} images takes ${cap} candidates: the first ${cap} are searched`);
          found = found.slice(0, cap);
        }
        const plan: CategoryPlan = { category, realImages, budget, candidates: [] };
        for (const c of found) {
          const index = candidates.length;
          plan.candidates.push(index);
          candidates.push({ ...c, index, id: `${searchId}-c${index}`, category, mlflowRunId: '', status: 'PENDING', rounds: [], prunedAt: null });
        }
        categories.push(plan);
      }

      const experimentId = await mlflow.getOrCreateExperiment(spec.name);
      const parentTags = { ...runTags({ ...input, runId: searchId }, paths.store), 'medsynth.kind': 'prompts', 'medsynth.model_run_id': input.modelRunId };
      const { run: parent } = await mlflow.ensureRun({ experimentId, runName: searchId, startTime: input.at, tags: parentTags });
      const mlflowRunId = parent.info.run_id;
      await mlflow.logBatch({ runId: mlflowRunId, params: { ...flattenParams({ prompts: settings }), 'prompts.features': features, 'prompts.candidates': String(candidates.length) } });
      await runPool(candidates.values(), parallelRequests, async (c) => {
        const tags = { 'mlflow.parentRunId': mlflowRunId, 'medsynth.run_id': c.id, 'medsynth.kind': 'prompt-candidate', 'medsynth.sweep_id': searchId, 'medsynth.category': c.category };
        const { run, created } = await mlflow.ensureRun({ experimentId, runName: c.id, startTime: input.at, tags });
        c.mlflowRunId = run.info.run_id;
        if (created) await mlflow.logBatch({ runId: c.mlflowRunId, params: { category: c.category, prompt: c.prompt.slice(0, 6000), source: c.source } });
      });
      await recordSweepStart(paths.store, {
        sweepId: searchId,
        input,
        experimentId,
        mlflowRunId,
        method: 'prompts',
        objective: promptMetricKeys(features).kid,
        mode: 'min',
        maxParallel: 1,
        gpuSlots: 1,
        trials: candidates.map((c) => ({ index: c.index, id: c.id, overrides: { category: c.category, prompt: c.prompt, source: c.source } })),
      });
      return { search: { sweepId: searchId, mlflowExperimentId: experimentId, mlflowRunId }, candidates, categories, skipped, warnings, features };
    },

    /** Scores each candidate on its images: KID (with a bootstrap interval) and FD against its category's real val images. */
    async scorePrompts(input: ScorePromptsInput): Promise<ScoredCandidate[]> {
      const features = input.features ?? DEFAULT_FEATURES;
      const categories = new Set(input.candidates.map((c) => c.category));
      const real = (await datasetImages(deps, input.dataset.manifestHash)).filter((r) => r.split === 'val' && categories.has(r.label));
      const realFiles = new Map<string, string>();
      await runPool(real.values(), 8, async (r) => {
        realFiles.set(r.sha256, await deps.blobs.getLocal({ sha256: r.sha256, size: r.bytes, mediaType: imageMediaType(r.format) }, [r.path]));
      });
      // each candidate's images: its prompt at its seeds (a retried round may list an image twice)
      const rows = new Map<string, ProvenanceRow>();
      for (const blob of input.provenance) for (const row of await deps.blobs.getJsonLines<ProvenanceRow>(blob)) rows.set(`${row.prompt}\u0000${row.seed}`, row);
      const fakeOf = input.candidates.map((c) => Array.from({ length: c.images }, (_, i) => rows.get(`${c.prompt}\u0000${input.seed + i}`)));
      const missing = input.candidates.flatMap((c, i) => (fakeOf[i]!.some((r) => !r) ? [`"${c.prompt}"`] : []));
      if (missing.length) throw new Error(`round images missing for ${missing.join(', ')}`);
      // fetched in any order, listed in the candidates' order: the sums over them are then the same every time
      const fakeRows = [...new Map(fakeOf.flat().map((r) => [r!.image_sha256, r!])).values()];
      const fetched = new Map<string, string>();
      await runPool(fakeRows.values(), 8, async (r) => void fetched.set(r.image_sha256, await deps.blobs.get(r.blob)));
      const fakeFiles = new Map(fakeRows.map((r) => [r.image_sha256, fetched.get(r.image_sha256)!]));

      let state = { done: 0, total: 0 };
      const stopBeats = keepHeartbeating(() => state, activityInfo().heartbeatTimeoutMs);
      try {
        const spec = defaultRegistry(path.join(paths.home, 'extractors')).get(features);
        if (!spec.featureOutput) throw new UserError(`features: extractor "${features}" names no feature output, so it cannot score prompts`);
        const sets = await extractSets(
          spec,
          { real: real.map((r) => realFiles.get(r.sha256)!), fake: [...fakeFiles.values()] },
          { protocol: 'prompts', cacheDir: path.join(paths.home, 'feature-cache'), onProgress: (p) => heartbeat((state = { done: p.done, total: p.total })) },
        );
        const matrix = (set: typeof sets.real, keep: (p: string) => boolean): FeatureMatrix => {
          const idx = set.paths.flatMap((p, i) => (keep(p) ? [i] : []));
          return set.features.get(spec.featureOutput!)!.select(idx);
        };
        const labelOf = new Map(real.map((r) => [realFiles.get(r.sha256)!, r.label]));
        const keys = promptMetricKeys(features);
        const results: ScoredCandidate[] = [];
        for (const [i, c] of input.candidates.entries()) {
          const files = new Set(fakeOf[i]!.map((r) => fakeFiles.get(r!.image_sha256)!));
          const realSet = matrix(sets.real, (p) => labelOf.get(p) === c.category);
          const fakeSet = matrix(sets.fake, (p) => files.has(p));
          // identical images (one prompt, two seeds giving the same bytes) count once
          if (fakeSet.rows < 2 || realSet.rows < 2) throw new UserError(`prompt "${c.prompt}": ${fakeSet.rows} distinct generated and ${realSet.rows} real images; scoring needs 2 of each`);
          const kid = await kidWithInterval(realSet, fakeSet, { resamples: input.bootstrap, seed: input.seed });
          const fd = (await fidOfFeatures(realSet, fakeSet)).value;
          const round = { images: c.images, kid: kid.value, fd, interval: kid.interval ? { low: kid.interval.low, high: kid.interval.high } : null };
          results.push({ index: c.index, round });
          const points: MetricPoint[] = [
            { name: keys.kid, step: c.images, value: round.kid, category: c.category },
            { name: keys.fd, step: c.images, value: fd, category: c.category },
            ...(round.interval ? [{ name: keys.low, step: c.images, value: round.interval.low, category: c.category }, { name: keys.high, step: c.images, value: round.interval.high, category: c.category }] : []),
          ];
          await logRunMetrics(deps, { runId: c.id, mlflowRunId: c.mlflowRunId, mlflowExperimentId: input.search.mlflowExperimentId }, points, input.at);
        }
        await recordBlobArtifacts(deps, asRun(input.search), input.provenance.map((blob, i) => ({ path: `rounds/provenance-${i}.jsonl`, kind: PROMPT_IMAGES, blob })));
        return results;
      } finally {
        stopBeats();
      }
    },

    /** The candidates' rows in the trials table; those that ended close their nested MLflow runs. */
    async recordCandidates({ search, candidates, at }: { search: SweepRef; candidates: CandidateState[]; at: number }): Promise<void> {
      await withStore(paths.store, async (store) => {
        for (const c of candidates) {
          await store.upsertTrial({
            sweep_id: search.sweepId,
            trial_index: c.index,
            run_id: c.id,
            status: c.status,
            objective: c.rounds.at(-1)?.kid ?? null,
            rung_scores_json: JSON.stringify(c.rounds.map((r) => ({ step: r.images, score: r.kid }))),
            pruned_at: c.prunedAt,
            ...(c.rounds.length === 1 ? { started_at: new Date(at) } : {}),
            ...(c.status === 'FINISHED' || c.status === 'PRUNED' ? { ended_at: new Date(at) } : {}),
          });
        }
      });
      await runPool(
        candidates.filter((c) => c.status === 'FINISHED' || c.status === 'PRUNED').values(),
        parallelRequests,
        async (c) => {
          if (c.prunedAt !== null) await mlflow.setTag(c.mlflowRunId, 'medsynth.pruned_at_images', String(c.prunedAt));
          await mlflow.updateRun(c.mlflowRunId, 'FINISHED', at);
        },
      );
    },

    /** The search's HTML page, on the report base: per category the ranked candidates and the best prompts' images. */
    async promptReport({ search }: { search: SweepRef }): Promise<ReportResult> {
      const file = path.join(paths.runs, search.sweepId, 'report', 'index.html');
      const written = await writePromptReport(deps, search.sweepId, file);
      await logRunArtifact(deps, asRun(search), file, reportArtifactPath, 'report');
      return { file: written.file, bytes: written.bytes, uri: `runs:/${search.mlflowRunId}/${reportArtifactPath}` };
    },
  };
}
