// The sweep workflow: orchestration only. Each trial is a child `experiment` workflow with a
// deterministic id; at most maxParallel run at once, and their train/generate activities share
// gpuSlots slots that this workflow hands out by signal, so the limit holds wherever the gpu
// workers are. A worker that dies mid-sweep loses nothing: a new one replays this history, and
// the children, already started under their ids, are never started again.
import {
  CancellationScope,
  CancelledFailure,
  condition,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, BookkeepingActivities } from '../activities/index.ts';
import { rootMessage } from '../errors.ts';
import { experimentExecutionTimeout, reportActivity, trackingActivity } from '../temporal.config.ts';
import type { experiment } from './experiment.ts';
import type { EvaluationSummary, ExperimentInput } from './messages.ts';
import {
  acquireGpuSlot,
  gpuSlotGranted,
  releaseGpuSlot,
  rungDecision,
  rungReached,
  sweepProgressQuery,
  type Objective,
  type SweepInput,
  type SweepResult,
  type TrialInput,
  type TrialState,
} from './sweep-messages.ts';

const tracking = proxyActivities<BookkeepingActivities>(trackingActivity);
const reporting = proxyActivities<Activities>(reportActivity);

/** The objective's value in a trial's evaluation summary (`eval.<protocol>.<key>`), if it has one. */
export function objectiveValue(evaluation: EvaluationSummary | null, objective: Objective): number | null {
  const match = /^eval\.([^.]+)\.(.+)$/.exec(objective.metric);
  if (!match || !evaluation) return null;
  const value = evaluation[match[1]!]?.metrics[match[2]!];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The best finished trial under the objective; ties go to the lower index. */
export function bestTrial(trials: readonly TrialState[], objective: Objective): TrialState | null {
  const scored = trials.filter((t) => t.status === 'FINISHED' && t.objective !== null);
  const sign = objective.mode === 'min' ? 1 : -1;
  return scored.reduce<TrialState | null>((best, t) => (!best || sign * (t.objective! - best.objective!) < 0 ? t : best), null);
}

export async function sweep(input: SweepInput): Promise<SweepResult> {
  const settings = input.spec.sweep!;
  const { sweepId, trials, objective } = input;
  const states: TrialState[] = trials.map((t) => ({ index: t.index, id: t.id, overrides: t.overrides, status: 'PENDING', objective: null, error: null, rungs: [], prunedAt: null }));

  // GPU slots: request id → the trial holding it; requests wait in arrival order.
  const held = new Map<string, string>();
  const waiting: Array<{ request: string; trial: string }> = [];
  setHandler(sweepProgressQuery, () => ({ trials: states, gpu: { slots: settings.gpuSlots, held: [...held.values()], waiting: waiting.length } }));
  setHandler(acquireGpuSlot, (request) => void waiting.push(request));
  setHandler(releaseGpuSlot, ({ request }) => void held.delete(request));
  /** Frees whatever a trial that ended still held or asked for (a failed trial may not release). */
  const forget = (trial: string) => {
    for (const [request, holder] of held) if (holder === trial) held.delete(request);
    for (let i = waiting.length - 1; i >= 0; i--) if (waiting[i]!.trial === trial) waiting.splice(i, 1);
  };
  // The granter outlives a cancellation of the sweep: a trial that has not yet heard of it (one
  // cancelled between its start and its first event) still asks for a slot, and must get one to end.
  void CancellationScope.nonCancellable(async () => {
    for (;;) {
      await condition(() => waiting.length > 0 && held.size < settings.gpuSlots);
      const next = waiting.shift()!;
      held.set(next.request, next.trial);
      // a trial that has ended cannot take its slot: give it back
      await getExternalWorkflowHandle(next.trial)
        .signal(gpuSlotGranted, { request: next.request })
        .catch(() => held.delete(next.request));
    }
  });

  // Successive halving (asynchronous): a trial that reports a rung goes on at once if it is in the
  // best 1/eta of the scores reported at that rung so far; otherwise it waits until every trial
  // that can reach the rung has, and then goes on only if it is in the best max(1, n/eta).
  const asha = settings.asha;
  const rungScores: Array<Map<string, number>> = (asha?.rungs ?? []).map(() => new Map());
  /** trial → the rung it waits at for a decision */
  const atRung = new Map<string, number>();
  const byId = new Map(states.map((s) => [s.id, s]));
  const ended = (s: TrialState) => s.prunedAt !== null || ['FAILED', 'KILLED', 'SKIPPED', 'PRUNED'].includes(s.status);
  const rungComplete = (rung: number) => states.every((s) => ended(s) || rungScores[rung]!.has(s.id));
  function decide(): void {
    for (const [trial, rung] of [...atRung]) {
      const ranked = [...rungScores[rung]!].sort(([, a], [, b]) => a - b).map(([t]) => t);
      const rank = ranked.indexOf(trial);
      const complete = rungComplete(rung);
      const keep = complete ? Math.max(1, Math.floor(ranked.length / asha!.eta)) : Math.floor(ranked.length / asha!.eta);
      if (rank >= keep && !complete) continue;
      atRung.delete(trial);
      const promote = rank < keep;
      if (!promote) byId.get(trial)!.prunedAt = asha!.rungs[rung]!;
      void getExternalWorkflowHandle(trial).signal(rungDecision, { rung, promote }).catch(() => undefined);
    }
  }
  setHandler(rungReached, ({ trial, rung, step, score }) => {
    rungScores[rung]?.set(trial, score);
    byId.get(trial)?.rungs.push({ step, score });
    atRung.set(trial, rung);
    decide();
  });

  const { runId: temporalRunId } = workflowInfo();
  const ref = await tracking.startSweep({ ...input, temporalRunId, at: Date.now() });
  let stopping = false;
  const running = new Map<string, Promise<void>>();

  async function runTrial(trial: TrialInput, state: TrialState): Promise<void> {
    state.status = 'RUNNING';
    await tracking.recordTrial({ sweep: ref, trial: state, at: Date.now() });
    const child: ExperimentInput = {
      spec: trial.spec,
      specHash: trial.specHash,
      provenance: input.provenance,
      ...(input.gpuTaskQueue ? { gpuTaskQueue: input.gpuTaskQueue } : {}),
      sweep: {
        sweepId,
        mlflowRunId: ref.mlflowRunId,
        trialIndex: trial.index,
        overrides: trial.overrides,
        ...(asha ? { asha: { rungs: asha.rungs, images: asha.images } } : {}),
      },
    };
    try {
      const result = await executeChild<typeof experiment>('experiment', {
        workflowId: trial.id,
        args: [child],
        workflowExecutionTimeout: experimentExecutionTimeout,
        retry: { maximumAttempts: 1 },
        memo: { spec: trial.spec.name, specHash: trial.specHash, sweep: sweepId },
      });
      state.status = result.pruned ? 'PRUNED' : 'FINISHED';
      state.objective = objectiveValue(result.evaluation, objective);
    } catch (err) {
      state.status = isCancellation(err) ? 'KILLED' : 'FAILED';
      state.error = rootMessage(err);
      if (settings.onFailure === 'stop') stopping = true;
    } finally {
      forget(trial.id);
      atRung.delete(trial.id);
      // a trial that ended may complete a rung others wait at
      decide();
    }
    await CancellationScope.nonCancellable(() => tracking.recordTrial({ sweep: ref, trial: state, at: Date.now() }));
  }

  try {
    for (const [i, trial] of trials.entries()) {
      // trials waiting at a rung for a decision hold no place: the trials after them must reach it too
      await condition(() => running.size - atRung.size < settings.maxParallel || stopping);
      if (stopping) break;
      running.set(trial.id, runTrial(trial, states[i]!).finally(() => running.delete(trial.id)));
    }
    if (stopping) {
      // onFailure: stop: the trials in flight are cancelled (they record themselves KILLED)
      await Promise.all([...running.keys()].map((id) => getExternalWorkflowHandle(id).cancel().catch(() => undefined)));
    }
    await Promise.all(running.values());
    // a cancelled sweep's trials end KILLED rather than failing it: say it was cancelled
    if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('the sweep was cancelled');
    for (const state of states.filter((s) => s.status === 'PENDING')) {
      state.status = 'SKIPPED';
      state.error = 'not started: an earlier trial failed and the sweep has onFailure: stop';
      await tracking.recordTrial({ sweep: ref, trial: state, at: Date.now() });
    }
  } catch (err) {
    const status = isCancellation(err) ? 'KILLED' : 'FAILED';
    // the trials in flight are cancelled with the sweep (asked again here: the SDK's own request
    // can miss a child whose start was still in flight); wait until each has recorded how it ended
    await CancellationScope.nonCancellable(() => Promise.all([...running.keys()].map((id) => getExternalWorkflowHandle(id).cancel().catch(() => undefined))));
    await Promise.allSettled(running.values());
    await CancellationScope.nonCancellable(() => tracking.finishSweep({ sweep: ref, status, best: null, error: rootMessage(err) }));
    throw err;
  }
  const best = bestTrial(states, objective);
  const unfinished = states.filter((s) => s.status !== 'FINISHED' && s.status !== 'PRUNED').length;
  const status = stopping ? 'FAILED' : 'FINISHED';
  await tracking.finishSweep({ sweep: ref, status, best, ...(unfinished ? { error: `${unfinished} of ${states.length} trials did not finish` } : {}) });
  const report = await reporting.sweepReport({ sweep: ref });
  return { ...ref, status, trials: states, objective, best, report };
}
