// The prompt search (MEDVQA-GI's Optimal Prompt Generation): orchestration only. A child
// experiment run ingests the dataset and trains the model; the candidates of every category are
// then raced by successive halving over a fixed image budget: each round generates the survivors'
// new seeds on the gpu queue, scores every survivor by the KID of its images against its
// category's real val images (trained feature space), and keeps the best 1/eta. A worker that
// dies loses nothing: the child, generation (resumable) and scoring (idempotent) replay.
import { ApplicationFailure, CancellationScope, executeChild, isCancellation, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities, BookkeepingActivities } from '../activities/index.ts';
import { rootMessage } from '../errors.ts';
import { planHalving, rankCandidates, survivors, type HalvingRound } from '../prompts/halving.ts';
import { evaluateActivity, experimentExecutionTimeout, generateActivity, reportActivity, trackingActivity } from '../temporal.config.ts';
import type { experiment } from './experiment.ts';
import type { BlobRef } from './messages.ts';
import {
  promptSearchProgressQuery,
  type CandidateState,
  type CategoryBest,
  type PromptSearchInput,
  type PromptSearchProgress,
  type PromptSearchResult,
} from './prompt-search-messages.ts';

const tracking = proxyActivities<BookkeepingActivities>(trackingActivity);
const scoring = proxyActivities<Activities>(evaluateActivity);
const reporting = proxyActivities<Activities>(reportActivity);

export async function promptSearch(input: PromptSearchInput): Promise<PromptSearchResult> {
  const { spec, searchId } = input;
  const settings = spec.prompts!;
  const generator = proxyActivities<Activities>({ ...generateActivity, ...(input.gpuTaskQueue ? { taskQueue: input.gpuTaskQueue } : {}) });
  const progress: PromptSearchProgress = { stage: 'model', round: 0, rounds: 0, generated: 0, budget: settings.budget, candidates: [] };
  setHandler(promptSearchProgressQuery, () => progress);

  // 1. the model: a run of its own (ingest, record, train when the spec has a method)
  const model = await executeChild<typeof experiment>('experiment', {
    workflowId: `${searchId}-model`,
    args: [{ spec: input.model.spec, specHash: input.model.specHash, provenance: input.provenance, ...(input.gpuTaskQueue ? { gpuTaskQueue: input.gpuTaskQueue } : {}) }],
    workflowExecutionTimeout: experimentExecutionTimeout,
    retry: { maximumAttempts: 1 },
    memo: { spec: spec.name, promptSearch: searchId },
  });

  // 2. candidates per category, each a nested MLflow run and a row of the trials table
  progress.stage = 'candidates';
  const start = await tracking.startPromptSearch({ ...input, temporalRunId: workflowInfo().runId, at: Date.now(), dataset: model.dataset, modelRunId: model.runId });
  const { search } = start;
  const candidates: CandidateState[] = start.candidates;
  progress.candidates = candidates;
  const searchRun = { runId: search.sweepId, mlflowRunId: search.mlflowRunId, mlflowExperimentId: search.mlflowExperimentId };
  const plans = new Map<string, HalvingRound[]>(start.categories.map((c) => [c.category, planHalving({ candidates: c.candidates.length, budget: c.budget, k: settings.imagesPerCandidate, eta: settings.eta })]));
  progress.rounds = Math.max(0, ...[...plans.values()].map((p) => p.length));
  progress.budget = start.categories.reduce((sum, c) => sum + c.budget, 0);
  const alive = new Map(start.categories.map((c) => [c.category, c.candidates.map((i) => candidates[i]!)]));
  const generation = { negativePrompt: '', steps: 30, guidance: 7.5, scheduler: 'dpm++' as const, batchSize: 8, ...spec.generation, imagesPerPrompt: 1 };
  const images: BlobRef[] = [];
  const at = Date.now();

  try {
    for (let round = 0; round < progress.rounds; round++) {
      progress.round = round;
      // the categories still racing, grouped by the seeds this round adds (usually one group)
      const groups = new Map<string, { from: number; to: number; prompts: string[] }>();
      const scored: CandidateState[] = [];
      for (const [category, plan] of plans) {
        const step = plan[round];
        if (!step) continue;
        const from = settings.seed + (round === 0 ? 0 : plan[round - 1]!.images);
        const to = settings.seed + step.images;
        const racing = alive.get(category)!;
        scored.push(...racing);
        for (const c of racing) c.status = 'RUNNING';
        if (to > from) {
          const group = groups.get(`${from}-${to}`) ?? groups.set(`${from}-${to}`, { from, to, prompts: [] }).get(`${from}-${to}`)!;
          group.prompts.push(...racing.map((c) => c.prompt));
        }
      }
      progress.stage = 'generate';
      for (const { from, to, prompts } of groups.values()) {
        const unique = [...new Set(prompts)];
        const roundGeneration = { ...generation, prompts: unique, seeds: Array.from({ length: to - from }, (_, i) => from + i) };
        const blob = await tracking.preparePrompts({ generation: roundGeneration });
        const made = await generator.generate({ run: searchRun, baseModel: spec.baseModel, generation: roundGeneration, prompts: blob, trained: model.train, outName: `rounds/round-${round}-seeds-${from}-${to - 1}` });
        images.push(made.provenance);
        progress.generated += made.images;
      }
      progress.stage = 'score';
      const results = await scoring.scorePrompts({
        search,
        dataset: model.dataset,
        features: spec.evaluation?.features,
        seed: settings.seed,
        bootstrap: settings.bootstrap,
        at,
        provenance: images,
        candidates: scored.map((c) => ({ index: c.index, id: c.id, category: c.category, prompt: c.prompt, mlflowRunId: c.mlflowRunId, images: plans.get(c.category)![round]!.images })),
      });
      for (const r of results) candidates[r.index]!.rounds.push(r.round);
      // halving: the best ceil(n/eta) of each category go on to its next round
      for (const [category, plan] of plans) {
        if (!plan[round]) continue;
        const racing = rankCandidates(alive.get(category)!);
        if (!plan[round + 1]) {
          for (const c of racing) c.status = 'FINISHED';
          alive.set(category, []);
          continue;
        }
        const keep = survivors(racing.length, settings.eta);
        for (const c of racing.slice(keep)) {
          c.status = 'PRUNED';
          c.prunedAt = plan[round]!.images;
        }
        alive.set(category, racing.slice(0, keep));
      }
      await tracking.recordCandidates({ search, candidates: scored, at: Date.now() });
    }
    if (progress.generated > progress.budget) {
      throw ApplicationFailure.nonRetryable(`generated ${progress.generated} images, over the budget of ${progress.budget}`);
    }
  } catch (err) {
    const status = isCancellation(err) ? 'KILLED' : 'FAILED';
    await CancellationScope.nonCancellable(() => tracking.finishSweep({ sweep: search, status, best: null, error: rootMessage(err) }));
    throw err;
  }

  const categories: CategoryBest[] = start.categories.map((c) => ({
    category: c.category,
    realImages: c.realImages,
    best: rankCandidates(c.candidates.map((i) => candidates[i]!)).slice(0, settings.top),
  }));
  // KIDs of different categories do not compare: there is a best per category, none overall
  await tracking.finishSweep({ sweep: search, status: 'FINISHED', best: null });
  progress.stage = 'report';
  const report = await reporting.promptReport({ search });
  progress.stage = 'done';
  return {
    ...search,
    modelRunId: model.runId,
    dataset: model.dataset,
    features: start.features,
    categories,
    skipped: start.skipped,
    warnings: start.warnings,
    generated: progress.generated,
    budget: progress.budget,
    images,
    report,
  };
}
