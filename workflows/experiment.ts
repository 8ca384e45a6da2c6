// The experiment workflow: orchestration only. Every side effect is an activity; the timeouts
// and retry policies come from temporal.config.ts.
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, BookkeepingActivities } from '../activities/index.ts';
import { rootMessage } from '../errors.ts';
import { evaluateActivity, generateActivity, ingestActivity, reportActivity, trackingActivity, trainActivity } from '../temporal.config.ts';
import {
  progressQuery,
  stageNames,
  type ExperimentInput,
  type ExperimentProgress,
  type BlobRef,
  type ExperimentResult,
  type StageName,
  type TrainResult,
} from './messages.ts';
import { acquireGpuSlot, gpuSlotGranted, releaseGpuSlot, rungDecision, rungReached } from './sweep-messages.ts';
import { featureKidKeys } from '../metrics/keys.ts';

const tracking = proxyActivities<BookkeepingActivities>(trackingActivity);
const ingestion = proxyActivities<Activities>(ingestActivity);
const evaluation = proxyActivities<Activities>(evaluateActivity);
const reporting = proxyActivities<Activities>(reportActivity);

export async function experiment(input: ExperimentInput): Promise<ExperimentResult> {
  const progress: ExperimentProgress = {
    stages: Object.fromEntries(stageNames.map((s) => [s, 'pending'])) as ExperimentProgress['stages'],
    current: null,
    run: null,
    dataset: null,
  };
  setHandler(progressQuery, () => progress);

  function skip(name: StageName): null {
    progress.stages[name] = 'skipped';
    return null;
  }

  async function stage<T>(name: StageName, body: () => Promise<T>): Promise<T> {
    progress.current = name;
    progress.stages[name] = 'running';
    try {
      const result = await body();
      progress.stages[name] = 'done';
      return result;
    } catch (err) {
      progress.stages[name] = isCancellation(err) ? 'cancelled' : 'failed';
      throw err;
    }
  }

  const { workflowId, runId: temporalRunId } = workflowInfo();
  // A sweep's trial asks its sweep for a GPU slot before each gpu activity and gives it back after.
  const granted = new Set<string>();
  setHandler(gpuSlotGranted, ({ request }) => void granted.add(request));
  let slotRequests = 0;
  async function onGpu<T>(body: () => Promise<T>): Promise<T> {
    if (!input.sweep) return body();
    const sweep = getExternalWorkflowHandle(input.sweep.sweepId);
    const request = `${workflowId}/${++slotRequests}`;
    await sweep.signal(acquireGpuSlot, { request, trial: workflowId });
    await condition(() => granted.has(request));
    try {
      return await body();
    } finally {
      await CancellationScope.nonCancellable(() => sweep.signal(releaseGpuSlot, { request }));
    }
  }

  const gpuQueue = input.gpuTaskQueue ? { taskQueue: input.gpuTaskQueue } : {};
  const trainer = proxyActivities<Activities>({ ...trainActivity, ...gpuQueue });
  const generator = proxyActivities<Activities>({ ...generateActivity, ...gpuQueue });
  const { spec } = input;

  const run = await stage('track', () => tracking.startRun({ runId: workflowId, temporalRunId, at: Date.now(), ...input }));
  progress.run = run;
  try {
    const dataset = await stage('ingest', () => ingestion.ingest({ runId: run.runId, dataset: spec.dataset }));
    progress.dataset = dataset;
    await stage('record', () => tracking.recordDataset({ run, dataset, at: Date.now() }));
    const { baseModel } = spec;
    const method = spec.method;
    // A gpu activity gets blobs, never paths of this node: the cpu queue publishes its inputs
    // before it and records its results in DuckDB after it.
    // Successive halving (a sweep trial with asha): train to each rung, score, and let the sweep
    // decide whether to go on; a pruned trial ends there, its checkpoint kept in the blob store.
    const asha = input.sweep?.asha;
    const decisions = new Map<number, boolean>();
    setHandler(rungDecision, ({ rung, promote }) => void decisions.set(rung, promote));
    // set inside the train stage when the sweep stops this trial at a rung
    const rungOutcome: { pruned: { step: number; score: number } | null } = { pruned: null };
    // the same prompts score every rung: published once, at the first
    let rungPrompts: Promise<BlobRef> | null = null;
    const reused = input.reuseTraining;
    const train = reused
      ? await stage('train', async () => {
          await tracking.recordTraining({ run, train: reused });
          return reused;
        })
      : method
      ? await stage('train', async () => {
          const training = await tracking.prepareTraining({ dataset });
          const at = Date.now();
          let resume: TrainResult['checkpoint'] = null;
          for (const [rung, step] of (asha?.rungs ?? []).entries()) {
            const atRung = await onGpu(() => trainer.train({ run, baseModel, method, training, at, stopAt: step, ...(resume ? { resume } : {}) }));
            resume = atRung.checkpoint ?? null;
            const score = await rungScore(step, atRung);
            await getExternalWorkflowHandle(input.sweep!.sweepId).signal(rungReached, { trial: workflowId, rung, step, score });
            await condition(() => decisions.has(rung));
            if (!decisions.get(rung)) {
              rungOutcome.pruned = { step, score };
              await tracking.recordTraining({ run, train: atRung });
              return atRung;
            }
          }
          const trained = await onGpu(() => trainer.train({ run, baseModel, method, training, at, ...(resume ? { resume } : {}) }));
          await tracking.recordTraining({ run, train: trained });
          return trained;
        })
      : skip('train');
    /** A rung's score: the KID of images of the generation prompts against the real val split, in the trained feature space. */
    async function rungScore(step: number, trained: TrainResult): Promise<number> {
      const generation = { ...spec.generation!, seeds: Array.from({ length: asha!.images }, (_, i) => i), imagesPerPrompt: 1 };
      const prompts = await (rungPrompts ??= tracking.preparePrompts({ generation }));
      const made = await onGpu(() => generator.generate({ run, baseModel, generation, prompts, trained, outName: `rungs/step-${step}` }));
      // expandSweep made sure an asha trial has an evaluation section (its features name the space)
      const features = spec.evaluation!.features;
      const rungEvaluation = { protocols: ['features' as const], byCategory: false, realSplit: 'val' as const, medvqa2025Mode: 'official' as const, features, memorisation: false };
      const scored = await evaluation.evaluate({ run, evaluation: rungEvaluation, dataset: progress.dataset!, at: Date.now(), rung: { step, provenance: made.provenance } });
      const score = scored.features?.metrics[featureKidKeys(features).mean];
      if (typeof score !== 'number' || !Number.isFinite(score)) throw ApplicationFailure.nonRetryable(`rung at step ${step}: no KID score`, 'BadInput');
      return score;
    }
    const { pruned } = rungOutcome;
    if (pruned) {
      skip('generate');
      skip('evaluate');
      skip('utility');
      await tracking.finishRun({ run, status: 'FINISHED', pruned: { ...pruned, ...(train?.checkpoint ? { checkpoint: train.checkpoint.tree } : {}) } });
      const report = await stage('report', () => reporting.report({ run }));
      progress.current = null;
      return { ...run, dataset, train, generate: null, evaluation: null, report, pruned };
    }
    const generation = spec.generation;
    const generate = generation
      ? await stage('generate', async () => {
          const prompts = await tracking.preparePrompts({ generation });
          const generated = await onGpu(() => generator.generate({ run, baseModel, generation, prompts, trained: train }));
          await tracking.recordGeneration({ run, generate: generated });
          return generated;
        })
      : skip('generate');
    const evaluationSpec = spec.evaluation;
    const evaluated =
      evaluationSpec && generate
        ? await stage('evaluate', () => evaluation.evaluate({ run, evaluation: evaluationSpec, dataset, at: Date.now() }))
        : skip('evaluate');
    const utility = spec.utility;
    if (utility && generate) {
      await stage('utility', async () => {
        const data = await tracking.prepareUtility({ run, dataset });
        const summary = await onGpu(() => trainer.classify({ run, data, utility }));
        await tracking.recordUtility({ run, summary, at: Date.now() });
      });
    } else skip('utility');
    await tracking.finishRun({ run, status: 'FINISHED' });
    // the page shows the run as it ended, so it is written after the run is recorded FINISHED
    const report = await stage('report', () => reporting.report({ run }));
    progress.current = null;
    return { ...run, dataset, train, generate, evaluation: evaluated, report, pruned: null };
  } catch (err) {
    const status = isCancellation(err) ? 'KILLED' : 'FAILED';
    // Record the outcome even though the workflow itself is being cancelled.
    await CancellationScope.nonCancellable(() => tracking.finishRun({ run, status, error: rootMessage(err) }));
    throw err;
  }
}
