// Fault trials on a private cluster (cluster.ts), shared by test/reliability/faults.test.ts (short
// mode) and bench/reliability.ts (long mode): a tiny experiment, a worker SIGKILLed at a seeded
// point of a seeded stage, and the checks that nothing was lost: the run finishes, every artifact
// and metric equals an uninterrupted run's (audit/replay.ts compareFinishedRuns), and no metric
// point is stored twice in DuckDB or MLflow.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { compareFinishedRuns } from '../../audit/replay.ts';
import type { Comparison } from '../../audit/compare.ts';
import { faultNotices } from '../../cli/follow.ts';
import { readLiveState, startExperiment } from '../../client.ts';
import { rootMessage } from '../../errors.ts';
import { parseSpec, resolveSpecPaths, specHash } from '../../experiments/load.ts';
import { withStore } from '../../store/index.ts';
import type { ExperimentInput, ExperimentResult } from '../../workflows/messages.ts';
import type { Cluster, Node, NodeOptions } from './cluster.ts';

export const faultStages = ['ingest', 'train', 'generate', 'evaluate', 'report'] as const;
export type FaultStage = (typeof faultStages)[number];

/** The node that runs each stage's activity, and how long after it starts the kill may come. */
const stageFacts: Record<FaultStage, { node: 'cpu' | 'gpu'; maxDelayMs: number }> = {
  ingest: { node: 'cpu', maxDelayMs: 150 },
  train: { node: 'gpu', maxDelayMs: 4000 },
  generate: { node: 'gpu', maxDelayMs: 1500 },
  evaluate: { node: 'cpu', maxDelayMs: 1500 },
  report: { node: 'cpu', maxDelayMs: 400 },
};

/** mulberry32: a small seeded generator, so a trial's kill point is reproducible from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface KillPlan {
  seed: number;
  stage: FaultStage;
  delayMs: number;
}

/** The kill point of trial `seed`: a stage (from `among`) and a delay after its activity starts. */
export function killPlan(seed: number, among: readonly FaultStage[] = faultStages): KillPlan {
  const next = seeded(seed);
  const stage = among[Math.floor(next() * among.length)]!;
  return { seed, stage, delayMs: Math.round(next() * stageFacts[stage].maxDelayMs) };
}

/** The experiment every trial runs: LoRA 8 steps (a checkpoint every 2), 4 images, features evaluation, a report. */
export function tinyExperiment(cluster: Cluster): ExperimentInput {
  const spec = resolveSpecPaths(
    parseSpec({
      name: 'reliability-tiny',
      dataset: { format: 'class-folders', path: cluster.dataRoot },
      baseModel: { id: 'tiny', resolution: 32 },
      method: { kind: 'lora', steps: 8, batchSize: 2, rank: 4, mixedPrecision: 'no', checkpointEvery: 2 },
      generation: { prompts: ['an endoscopy image of a polyp', 'an endoscopy image of the cecum'], seeds: [0, 1], steps: 2 },
      evaluation: { protocols: ['features'], realSplit: 'all', byCategory: false },
    }),
  );
  return { spec, specHash: specHash(spec), provenance: { gitCommit: null, lockfileHashes: {}, specPath: null, medsynthVersion: 'reliability' }, gpuTaskQueue: cluster.gpuQueue };
}

export const startTiny = (cluster: Cluster, runId: string) => startExperiment(cluster.client, tinyExperiment(cluster), runId, cluster.queue);

/** The nodes serving the cluster now; a trial replaces the one it kills. */
export interface LiveNodes {
  cpu: Node;
  gpu: Node;
  /** how replacement gpu nodes are started (slots) */
  gpuOptions?: NodeOptions;
}

/** Follows a run in the background as `medsynth run` does, keeping the fault notices it would print. */
export function watchNotices(handle: WorkflowHandle): { notices: string[]; stop: () => void } {
  const notices: string[] = [];
  const seen = new Set<string>();
  let stopped = false;
  void (async () => {
    while (!stopped) {
      const live = await readLiveState(handle).catch(() => null);
      if (live) notices.push(...faultNotices(live, seen));
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  return { notices, stop: () => void (stopped = true) };
}

/** Polls the run's pending activities (as the follower reads them) until `probe` finds what it waits for. */
export async function waitForActivity(
  handle: WorkflowHandle,
  what: string,
  probe: (a: { type: string; started: boolean; attempt: number; failure: string; heartbeat: unknown }) => boolean,
  timeoutMs = 300_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const live = await readLiveState(handle).catch(() => null);
    if (live && live.status !== 'RUNNING') throw new Error(`run ${handle.workflowId} ended (${live.status}) before ${what}`);
    for (const [type, a] of Object.entries(live?.attempts ?? {})) {
      if (probe({ type, started: a.state === 'started', attempt: a.attempt, failure: a.lastFailure?.message ?? '', heartbeat: live!.activityProgress[type] ?? null })) return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what} in ${handle.workflowId}`);
}

/** A workflow's result, waiting through a Temporal server restart (the call fails while it is down). */
export async function resultThroughRestarts(cluster: Cluster, runId: string, timeoutMs = 600_000): Promise<ExperimentResult> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await cluster.client.workflow.getHandle(runId).result();
    } catch (err) {
      const transient = /unavailable|connect|deadline|transport|14 /i.test(String((err as Error).message));
      if (!transient || Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export interface TrialOutcome extends KillPlan {
  runId: string;
  /** whether the node died inside the stage's activity (the failpoint fired) before the run ended */
  interrupted: boolean;
  /** activity attempts after the first, from the run's history */
  retries: number;
  status: string;
  notices: string[];
  seconds: number;
}

/**
 * Runs the tiny experiment with the node of `plan.stage` replaced by one that SIGKILLs itself (with
 * its trainer) `plan.delayMs` into that stage's activity, or as the activity finishes when that
 * comes first, so its result is never reported (MEDSYNTH_FAILPOINT, activities/failpoint.ts; a
 * kill timed from outside misses a 100 ms ingest). A new node then takes over.
 */
export async function killTrial(cluster: Cluster, nodes: LiveNodes, plan: KillPlan, runId: string): Promise<TrialOutcome> {
  const started = Date.now();
  const which = stageFacts[plan.stage].node;
  const replace = (options: NodeOptions = {}) => (which === 'cpu' ? cluster.cpu(options) : cluster.gpu({ ...nodes.gpuOptions, ...options }));
  await cluster.kill(nodes[which]);
  const doomed = replace({ failpoint: `${plan.stage}:${plan.delayMs}` });
  nodes[which] = doomed;
  const handle = await startTiny(cluster, runId);
  const watch = watchNotices(handle);
  try {
    const first = await Promise.race([doomed.process, handle.result().then(() => null, () => null)]);
    const interrupted = first !== null && first.signal === 'SIGKILL';
    nodes[which] = replace();
    const status = await handle.result().then(
      () => 'FINISHED',
      (err: unknown) => `FAILED: ${rootMessage(err)}`,
    );
    return { ...plan, runId, interrupted, retries: await retriesOf(handle), status, notices: watch.notices, seconds: (Date.now() - started) / 1000 };
  } finally {
    watch.stop();
  }
}

/** Activity attempts beyond the first in a run's history. */
export async function retriesOf(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1).length;
}

export interface RunCheck {
  /** comparisons with the uninterrupted run that are not identical */
  differences: Comparison[];
  compared: number;
  /** metric points stored more than once: "duckdb name@step" or "mlflow key@step" */
  duplicates: string[];
  metricPoints: number;
}

/** `runId` against the uninterrupted `referenceId`: every artifact and metric identical, no point stored twice. */
export async function checkAgainst(cluster: Cluster, referenceId: string, runId: string): Promise<RunCheck> {
  const comparisons = await compareFinishedRuns(cluster.deps, referenceId, runId, 0);
  const duplicates: string[] = [];
  const { rows, mlflowRunId } = await withStore(
    cluster.paths.store,
    async (s) => ({
      rows: (await s.query('select name, step, category, count(*) from metrics where run_id = ? group by all', [runId])).rows,
      mlflowRunId: String((await s.query('select mlflow_run_id from runs where run_id = ?', [runId])).rows[0]?.[0]),
    }),
    { readOnly: true },
  );
  for (const [name, step, category, n] of rows) if (Number(n) > 1) duplicates.push(`duckdb ${String(name)}@${String(step)}${category ? `[${String(category)}]` : ''} x${String(n)}`);
  const run = await cluster.mlflow.getRun(mlflowRunId);
  for (const { key } of run.data.metrics ?? []) {
    const steps = new Map<number, number>();
    for (const p of await cluster.mlflow.getMetricHistory(mlflowRunId, key)) steps.set(p.step, (steps.get(p.step) ?? 0) + 1);
    for (const [step, n] of steps) if (n > 1) duplicates.push(`mlflow ${key}@${step} x${n}`);
  }
  return { differences: comparisons.filter((c) => c.verdict !== 'identical'), compared: comparisons.length, duplicates, metricPoints: rows.length };
}

/** When each train/generate activity of these runs held a gpu slot: [started, closed] in ms, from their histories. */
export async function gpuIntervals(cluster: Cluster, runIds: readonly string[]): Promise<Array<[number, number]>> {
  const intervals: Array<[number, number]> = [];
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
  for (const runId of runIds) {
    const events = (await cluster.client.workflow.getHandle(runId).fetchHistory()).events ?? [];
    const types = new Map(events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!.activityType?.name]));
    const started = new Map<string, number>();
    for (const e of events) {
      if (e.activityTaskStartedEventAttributes) started.set(String(e.activityTaskStartedEventAttributes.scheduledEventId), ms(e.eventTime));
      const closed = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
      const id = String(closed?.scheduledEventId);
      if (closed && ['train', 'generate'].includes(types.get(id) ?? '') && started.has(id)) intervals.push([started.get(id)!, ms(e.eventTime)]);
    }
  }
  return intervals;
}

/** The most intervals open at one instant. */
export function maxOverlap(intervals: ReadonlyArray<readonly [number, number]>): number {
  const edges = intervals.flatMap(([a, b]) => [[a, 1], [b, -1]] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let open = 0;
  let most = 0;
  for (const [, d] of edges) most = Math.max(most, (open += d));
  return most;
}

/** Deletes a blob from the MLflow server's artifact store (what a lost object in S3 would be). */
export async function loseBlob(cluster: Cluster, sha256: string): Promise<void> {
  await rm(path.join(cluster.root, 'services', 'mlflow-artifacts', 'blobs', 'sha256', sha256.slice(0, 2), sha256), { force: true });
}

export interface LostCheckpointOutcome {
  runId: string;
  checkpoint: string;
  notices: string[];
  warningTag: string | null;
  resumedFrom: number | null;
}

/** Kills the gpu node once training has heartbeated a checkpoint, and deletes that checkpoint's blob before a new node takes over. */
export async function lostCheckpointTrial(cluster: Cluster, nodes: LiveNodes, runId: string): Promise<LostCheckpointOutcome> {
  const handle = await startTiny(cluster, runId);
  const watch = watchNotices(handle);
  try {
    let checkpoint = '';
    await waitForActivity(handle, 'a heartbeated checkpoint', (a) => {
      const beat = a.heartbeat as { checkpoint?: { tree: { sha256: string } } } | null;
      if (a.type === 'train' && beat?.checkpoint) checkpoint = beat.checkpoint.tree.sha256;
      return Boolean(checkpoint);
    });
    await cluster.kill(nodes.gpu);
    await loseBlob(cluster, checkpoint);
    nodes.gpu = cluster.gpu(nodes.gpuOptions);
    const result = await handle.result();
    const tags = (await cluster.mlflow.getRun(result.mlflowRunId)).data.tags ?? [];
    return { runId, checkpoint, notices: watch.notices, warningTag: tags.find((t) => t.key === 'medsynth.warning.train')?.value ?? null, resumedFrom: result.train?.resumedFrom ?? null };
  } finally {
    watch.stop();
  }
}

/** Stops MLflow for `mlflowDownMs` once training is under way, then restarts Temporal once generation starts. */
export async function outageTrial(cluster: Cluster, runId: string, mlflowDownMs = 30_000): Promise<{ runId: string; seconds: number }> {
  const started = Date.now();
  const handle = await startTiny(cluster, runId);
  await waitForActivity(handle, 'training under way', (a) => a.type === 'train' && ((a.heartbeat as { step?: number } | null)?.step ?? 0) >= 1);
  await cluster.stopMlflow(mlflowDownMs);
  await waitForActivity(handle, 'generation to start', (a) => a.type === 'generate' && a.started);
  await cluster.restartTemporal();
  await resultThroughRestarts(cluster, runId);
  return { runId, seconds: (Date.now() - started) / 1000 };
}

/**
 * Replaces the gpu node by one whose home is a full 64 MiB disk, runs the tiny experiment until
 * training fails for want of space, then frees the space: the retry must succeed.
 */
export async function diskFullTrial(cluster: Cluster, nodes: LiveNodes, runId: string): Promise<{ runId: string; home: string; failure: string }> {
  await cluster.kill(nodes.gpu);
  nodes.gpu = cluster.gpu({ ...nodes.gpuOptions, diskMiB: 64 });
  const { home, exec } = nodes.gpu;
  await waitForMount(exec, home);
  await exec(`dd if=/dev/zero of='${home}/ballast' bs=1M 2>/dev/null || true`);
  const handle = await startTiny(cluster, runId);
  let failure = '';
  await waitForActivity(handle, 'a failed attempt for want of space', (a) => {
    if (a.type === 'train' && /no space left/i.test(a.failure)) failure = a.failure;
    return Boolean(failure);
  });
  await exec(`rm -f '${home}/ballast'`);
  await handle.result();
  return { runId, home, failure };
}

async function waitForMount(exec: (command: string) => Promise<void>, dir: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await exec(`mountpoint -q '${dir}'`).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${dir} was never mounted`);
}
