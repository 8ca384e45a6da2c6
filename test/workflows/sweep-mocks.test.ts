// The sweep workflow's orchestration with stub activities, on the real Temporal server: the real
// sweep and experiment workflows, with activities that only sleep and count. GPU slots are never
// exceeded and are all used; a failed trial is recorded and the others go on (continue), or
// nothing more starts (stop); the best trial is the one the objective ranks first.
import { ApplicationFailure } from '@temporalio/common';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activities } from '../../activities/index.ts';
import { startSweep } from '../../client.ts';
import { parseSpec, resolveSpecPaths, specHash } from '../../experiments/load.ts';
import { expandSweep, sweepObjective } from '../../experiments/sweep.ts';
import { quietRuntime, workflowsPath } from '../../worker.ts';
import type { BlobRef, DatasetSummary } from '../../workflows/messages.ts';
import type { SweepInput, TrialState } from '../../workflows/sweep-messages.ts';
import { testServices } from '../helpers/services.ts';

const ref = (n: number): BlobRef => ({ sha256: String(n).repeat(64).slice(0, 64), size: n, mediaType: 'application/octet-stream' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sweep workflow with stub activities', () => {
  const queue = `test-sweep-mocks-${process.pid}-${Date.now()}`;
  let client: Client;
  let connection: NativeConnection;
  let workers: Worker[];
  let running: Promise<void>[];
  /** trial run id → LoRA rank; the stub evaluation scores rank r as 100 / r */
  const rankOf = new Map<string, number>();
  const gpu = { active: 0, max: 0, calls: [] as string[] };
  const recorded: TrialState[] = [];
  const finished: Array<{ status: string; error?: string }> = [];
  const trainCalls: Array<{ runId: string; stopAt: number | null; resumedFrom: number | null }> = [];
  const runFinishes: Array<{ runId: string; pruned: unknown }> = [];

  async function onGpu(runId: string) {
    gpu.calls.push(runId);
    gpu.active += 1;
    gpu.max = Math.max(gpu.max, gpu.active);
    await sleep(250);
    gpu.active -= 1;
  }

  const dataset = { manifestHash: 'm'.repeat(64), name: 'd', images: 3, bySplit: {}, byLabel: {}, rejects: [] } as unknown as DatasetSummary;
  const activities: Partial<Activities> = {
    startRun: async (input) => {
      rankOf.set(input.runId, (input.spec.method as { rank: number }).rank);
      return { runId: input.runId, mlflowExperimentId: '1', mlflowRunId: `m-${input.runId}` };
    },
    ingest: async () => dataset,
    recordDataset: async () => undefined,
    prepareTraining: async () => ({ data: ref(1), images: 3 }),
    train: async ({ run, stopAt, resume }) => {
      if (rankOf.get(run.runId) === 99) throw ApplicationFailure.nonRetryable('rank 99 is not a rank', 'BadInput');
      trainCalls.push({ runId: run.runId, stopAt: stopAt ?? null, resumedFrom: resume?.step ?? null });
      await onGpu(run.runId);
      const steps = stopAt ?? 4;
      return { weights: { blob: ref(7), kind: 'lora', name: 'w.safetensors' }, validation: [], steps, finalLoss: 0.5, images: 3, resumedFrom: resume?.step ?? null, checkpoint: { tree: ref(steps), step: steps } };
    },
    recordTraining: async () => ({ points: 0 }),
    preparePrompts: async () => ref(2),
    generate: async ({ run }) => {
      await onGpu(run.runId);
      return { images: 2, provenance: ref(3) };
    },
    recordGeneration: async () => undefined,
    // at a rung: KID 1 / rank, so a higher rank scores better
    evaluate: async ({ run, rung }) => ({
      features: {
        metrics: { [rung ? 'kid_efficientnet_lite0_mean' : 'fd_efficientnet_lite0']: (rung ? 1 : 100) / rankOf.get(run.runId)! },
        counts: {},
        note: '',
        warnings: [],
      },
    }),
    finishRun: async ({ run, pruned }) => void runFinishes.push({ runId: run.runId, pruned: pruned ?? null }),
    report: async () => ({ file: '/r.html', bytes: 1, uri: 'runs:/x/r.html' }),
    startSweep: async (input) => ({ sweepId: input.sweepId, mlflowExperimentId: '1', mlflowRunId: `m-${input.sweepId}` }),
    recordTrial: async ({ trial }) => void recorded.push({ ...trial }),
    finishSweep: async ({ status, error }) => void finished.push({ status, ...(error ? { error } : {}) }),
    sweepReport: async () => ({ file: '/s.html', bytes: 1, uri: 'runs:/x/s.html' }),
  };

  function sweepInput(id: string, ranks: number[], settings: Record<string, unknown>): SweepInput {
    const raw = {
      name: 'sweep-mocks',
      dataset: { format: 'class-folders', path: '/nowhere' },
      baseModel: { id: 'tiny', resolution: 32 },
      method: { kind: 'lora', steps: 4 },
      generation: { prompts: ['a polyp'] },
      evaluation: { protocols: ['features'] },
      sweep: { axes: { 'method.rank': ranks }, ...settings },
    };
    const spec = resolveSpecPaths(parseSpec(raw));
    return {
      sweepId: id,
      spec,
      specHash: specHash(spec),
      provenance: { gitCommit: null, lockfileHashes: {}, specPath: null, medsynthVersion: 't' },
      trials: expandSweep(raw, spec, id),
      objective: sweepObjective(spec),
      gpuTaskQueue: `${queue}-gpu`,
    };
  }

  beforeAll(async () => {
    const { temporalAddress } = testServices();
    quietRuntime('WARN');
    connection = await NativeConnection.connect({ address: temporalAddress });
    const workflowBundle = await bundleWorkflowCode({ workflowsPath });
    workers = [
      await Worker.create({ connection, taskQueue: queue, workflowBundle, activities }),
      await Worker.create({ connection, taskQueue: `${queue}-gpu`, activities }),
    ];
    running = workers.map((w) => w.run());
    client = new Client({ connection: await Connection.connect({ address: temporalAddress }) });
  });

  afterAll(async () => {
    for (const w of workers ?? []) w.shutdown();
    await Promise.all(running ?? []);
    await connection?.close();
    await client?.connection.close();
  });

  it('runs maxParallel trials at once, never more gpu activities than slots, and goes on past a failed trial', async () => {
    Object.assign(gpu, { active: 0, max: 0, calls: [] });
    const id = `sweep-continue-${Date.now()}`;
    const result = await (await startSweep(client, sweepInput(id, [1, 2, 99, 4, 5, 6], { maxParallel: 4, gpuSlots: 2 }), queue)).result();

    expect(gpu.max).toBe(2);
    // every successful trial trained and generated once
    expect(gpu.calls).toHaveLength(10);
    expect(result.status).toBe('FINISHED');
    expect(result.trials.map((t) => t.status)).toEqual(['FINISHED', 'FINISHED', 'FAILED', 'FINISHED', 'FINISHED', 'FINISHED']);
    expect(result.trials[2]!.error).toBe('rank 99 is not a rank');
    expect(result.trials[0]!.objective).toBe(100);
    // lower fd is better: rank 6 scores 100/6
    expect(result.best).toMatchObject({ index: 5, objective: 100 / 6 });
    expect(result.trials.map((t) => t.id)).toEqual(sweepInput(id, [1, 2, 99, 4, 5, 6], {}).trials.map((t) => t.id));
    const mine = recorded.filter((t) => t.id.startsWith(id));
    expect(mine.filter((t) => t.status === 'RUNNING')).toHaveLength(6);
    expect(mine.filter((t) => t.status !== 'RUNNING').map((t) => t.status).sort()).toEqual(['FAILED', 'FINISHED', 'FINISHED', 'FINISHED', 'FINISHED', 'FINISHED']);
    expect(finished.at(-1)).toEqual({ status: 'FINISHED', error: '1 of 6 trials did not finish' });
  });

  it('successive halving: 9 trials at eta 3 stop the worst at the rung (PRUNED, checkpoint kept); the best go on', async () => {
    const id = `sweep-asha-${Date.now()}`;
    // ASHA promotes any trial that is in the best 1/eta so far, so trials arriving worst-first would
    // all go on: here the better ones tend to come first, as when a grid is ordered by a prior
    const ranks = [9, 7, 8, 5, 6, 4, 2, 3, 1];
    // fewer places than trials: trials waiting at the rung must not block the ones after them
    const result = await (await startSweep(client, sweepInput(id, ranks, { maxParallel: 3, gpuSlots: 2, asha: { rungs: [2], eta: 3, images: 2 } }), queue)).result();

    const survivors = result.trials.filter((t) => t.status === 'FINISHED');
    const pruned = result.trials.filter((t) => t.status === 'PRUNED');
    expect(survivors.length + pruned.length).toBe(9);
    expect(pruned.length).toBeGreaterThanOrEqual(4);
    // every trial was scored at the rung; the three best all went on, and every pruned trial scored worse than them
    for (const t of result.trials) expect(t.rungs).toEqual([{ step: 2, score: 1 / ranks[t.index]! }]);
    expect(survivors.map((t) => ranks[t.index])).toEqual(expect.arrayContaining([7, 8, 9]));
    for (const t of pruned) {
      expect(t.prunedAt).toBe(2);
      expect(ranks[t.index]).toBeLessThan(7);
    }
    // pruned trials trained to the rung only; survivors went on from the rung's checkpoint
    const mine = trainCalls.filter((c) => c.runId.startsWith(id));
    expect(mine.filter((c) => c.stopAt === 2)).toHaveLength(9);
    expect(mine.filter((c) => c.stopAt === null).map((c) => c.resumedFrom)).toEqual(survivors.map(() => 2));
    expect(runFinishes.filter((f) => f.runId.startsWith(id) && f.pruned).map((f) => f.pruned)).toEqual(
      expect.arrayContaining(pruned.map((t) => ({ step: 2, score: 1 / ranks[t.index]!, checkpoint: ref(2) }))),
    );
    // the best finished trial ranks first
    expect(result.best?.index).toBe(0);
  });

  it('with onFailure: stop, starts nothing after a failed trial and ends FAILED', async () => {
    Object.assign(gpu, { active: 0, max: 0, calls: [] });
    const id = `sweep-stop-${Date.now()}`;
    const result = await (await startSweep(client, sweepInput(id, [99, 1, 2], { maxParallel: 1, gpuSlots: 1, onFailure: 'stop' }), queue)).result();
    expect(result.status).toBe('FAILED');
    expect(result.trials.map((t) => t.status)).toEqual(['FAILED', 'SKIPPED', 'SKIPPED']);
    expect(gpu.calls).toEqual([]);
    expect(result.best).toBeNull();
  });

  it('is cancelled as a whole: its trials are cancelled and it is recorded KILLED', async () => {
    const id = `sweep-cancel-${Date.now()}`;
    const handle = await startSweep(client, sweepInput(id, [1, 2], { maxParallel: 2, gpuSlots: 1 }), queue);
    while (!recorded.some((t) => t.id.startsWith(id) && t.status === 'RUNNING')) await sleep(50);
    await handle.cancel();
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(finished.at(-1)?.status).toBe('KILLED');
    // the trial that was running was cancelled with it and recorded so
    expect(recorded.filter((t) => t.id.startsWith(id) && t.status === 'KILLED').length).toBeGreaterThan(0);
    for (const t of sweepInput(id, [1, 2], {}).trials) {
      const description = await client.workflow.getHandle(t.id).describe().catch(() => null);
      if (description) expect(['CANCELLED', 'COMPLETED', 'FAILED']).toContain(description.status.name);
    }
  });
});
