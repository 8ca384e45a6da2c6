// GPU-slot utilisation of a sweep on the CPU with the tiny preset: 8 trials on 2 slots through the
// sweep workflow, against the same 8 experiments run by hand as 2 lanes of 4 back-to-back runs
// (the best a user could do with 2 GPUs and no scheduler), interleaved. Utilisation = time the
// slots spent in train/generate activities / (slots x wall time), from the trials' histories; also
// the definition, sum of trial times / (slots x wall). Goal: >= 0.9. Then successive
// halving against the full grid on the same 9 trials: training steps spent, and whether both pick
// the same best trial.
// Usage: npm run bench:sweep
import { mkdir, mkdtemp, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startExperiment, startSweep } from '../client.ts';
import { parseSpec, resolveSpecPaths, specHash } from '../experiments/load.ts';
import { expandSweep, sweepObjective } from '../experiments/sweep.ts';
import { servicesDown, servicesUp } from '../services/index.ts';
import { resolvePaths } from '../settings.ts';
import { writeTinyDataset } from '../test/helpers/tiny-dataset.ts';
import { trainedExtractorDir } from '../test/metrics/helpers.ts';
import { createWorker, workflowsPath } from '../worker.ts';
import type { SweepInput } from '../workflows/sweep-messages.ts';
import { interleave, median, round, saveResult } from './result.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 2);
const slots = 2;
const work = await mkdtemp(path.join(os.tmpdir(), 'medsynth-bench-sweep-'));
const dataRoot = (await writeTinyDataset(6)).root;
const raw = {
  name: 'bench-sweep',
  dataset: { format: 'class-folders', path: dataRoot },
  baseModel: { id: 'tiny', resolution: 32 },
  method: { kind: 'lora', steps: 40, batchSize: 2, checkpointEvery: 1000, mixedPrecision: 'no', rank: 4 },
  generation: { prompts: ['an endoscopy image of a polyp'], seeds: [0, 1, 2, 3], steps: 4, batchSize: 4 },
  evaluation: { protocols: ['features'], realSplit: 'all', byCategory: false },
  sweep: { axes: { 'method.rank': [2, 4, 8, 16], 'method.learningRate': [1e-3, 5e-4] }, maxParallel: 8, gpuSlots: slots },
};
const provenance = { gitCommit: null, lockfileHashes: {}, specPath: null, medsynthVersion: 'bench' };

const services = await servicesUp({ stateDir: path.join(work, 'services') });
const paths = resolvePaths({ MEDSYNTH_HOME: path.join(work, 'home') });
await mkdir(paths.home, { recursive: true });
await symlink(await trainedExtractorDir(), path.join(paths.home, 'extractors'));
const queue = `bench-sweep-${process.pid}`;
const config = { temporalAddress: services.temporalAddress, mlflowUri: services.mlflowUri, paths };
const workers = [
  await createWorker({ ...config, queue: 'cpu', taskQueueName: queue, workflowBundle: await bundleWorkflowCode({ workflowsPath }) }),
  await createWorker({ ...config, queue: 'gpu', taskQueueName: `${queue}-gpu` }),
];
const running = workers.map(({ worker }) => worker.run());
const client = new Client({ connection: await Connection.connect({ address: services.temporalAddress }) });

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

/** A run's whole duration and the seconds its train/generate activities held a slot. */
async function timesOf(handle: WorkflowHandle): Promise<{ trial: number; gpu: number }> {
  const events = (await handle.fetchHistory()).events ?? [];
  const byId = new Map(events.map((e) => [Number(e.eventId), e]));
  let gpu = 0;
  for (const e of events) {
    const done = e.activityTaskCompletedEventAttributes;
    const type = done && byId.get(Number(done.scheduledEventId))?.activityTaskScheduledEventAttributes?.activityType?.name;
    if (done && (type === 'train' || type === 'generate')) gpu += ms(e.eventTime) - ms(byId.get(Number(done.startedEventId))?.eventTime);
  }
  return { trial: (ms(events.at(-1)?.eventTime) - ms(events[0]?.eventTime)) / 1000, gpu: gpu / 1000 };
}

function sweepInput(id: string): SweepInput {
  const spec = resolveSpecPaths(parseSpec(raw));
  return { sweepId: id, spec, specHash: specHash(spec), provenance, trials: expandSweep(raw, spec, id), objective: sweepObjective(spec), gpuTaskQueue: `${queue}-gpu` };
}

interface Measured {
  wall: number;
  slotUtilisation: number;
  trialTimeUtilisation: number;
}

async function measure(start: () => Promise<WorkflowHandle[]>): Promise<Measured> {
  const t0 = performance.now();
  const handles = await start();
  const wall = (performance.now() - t0) / 1000;
  const times = await Promise.all(handles.map(timesOf));
  const sum = (k: 'trial' | 'gpu') => times.reduce((n, t) => n + t[k], 0);
  return { wall: round(wall, 2), slotUtilisation: round(sum('gpu') / (slots * wall)), trialTimeUtilisation: round(sum('trial') / (slots * wall)) };
}

let n = 0;
const viaSweep = () =>
  measure(async () => {
    const input = sweepInput(`bench-sweep-${Date.now()}-${n++}`);
    await (await startSweep(client, input, queue)).result();
    return input.trials.map((t) => client.workflow.getHandle(t.id));
  });
/** 2 lanes, each running its 4 experiments one after another. */
const byHand = () =>
  measure(async () => {
    const trials = sweepInput(`bench-lanes-${Date.now()}-${n++}`).trials;
    const lanes = [trials.filter((_, i) => i % 2 === 0), trials.filter((_, i) => i % 2 === 1)];
    const handles: WorkflowHandle[] = [];
    await Promise.all(
      lanes.map(async (lane) => {
        for (const t of lane) {
          const handle = await startExperiment(client, { spec: t.spec, specHash: t.specHash, provenance, gpuTaskQueue: `${queue}-gpu` }, t.id, queue);
          handles.push(handle);
          await handle.result();
        }
      }),
    );
    return handles;
  });

/** 9 trials, full grid vs ASHA (one rung at a quarter of the steps, eta 3): steps trained, best trial. */
async function ashaSaving() {
  const axes = { 'method.rank': [2, 4, 8], 'method.learningRate': [2e-3, 1e-3, 2e-4] };
  const run = async (asha: boolean) => {
    const id = `bench-${asha ? 'asha' : 'grid'}-${Date.now()}`;
    const spec9 = { ...raw, dataset: { ...raw.dataset, splits: { train: 0.5, val: 0.5, test: 0, seed: 1 } }, sweep: { axes, maxParallel: 9, gpuSlots: slots, ...(asha ? { asha: { rungs: [10], eta: 3, images: 2 } } : {}) } };
    const spec = resolveSpecPaths(parseSpec(spec9));
    const input = { sweepId: id, spec, specHash: specHash(spec), provenance, trials: expandSweep(spec9, spec, id), objective: sweepObjective(spec), gpuTaskQueue: `${queue}-gpu` };
    const t0 = performance.now();
    const result = await (await startSweep(client, input, queue)).result();
    const steps = result.trials.reduce((n, t) => n + (t.prunedAt ?? raw.method.steps), 0);
    return { wall: round((performance.now() - t0) / 1000, 2), steps, best: result.best?.index ?? null, pruned: result.trials.filter((t) => t.status === 'PRUNED').length };
  };
  const grid = await run(false);
  const asha = await run(true);
  return { grid, asha, stepSaving: round(1 - asha.steps / grid.steps), sameBest: grid.best === asha.best };
}

try {
  await byHand(); // warm-up: tiny model cached, feature extractor loaded, page cache
  const pairs = await interleave(RUNS, viaSweep, byHand);
  console.table(pairs.map(({ a, b }) => ({ sweepWall: a.wall, sweepSlotUse: a.slotUtilisation, lanesWall: b.wall, lanesSlotUse: b.slotUtilisation })));
  const sweepWall = median(pairs.map((p) => p.a.wall));
  const lanesWall = median(pairs.map((p) => p.b.wall));
  const utilisation = median(pairs.map((p) => p.a.slotUtilisation));
  const saving = await ashaSaving();
  console.table({ grid: saving.grid, asha: saving.asha });
  const file = saveResult({
    name: 'sweep',
    command: 'npm run bench:sweep',
    workload: `8 tiny-preset trials (LoRA ${raw.method.steps} steps, 4 images, features evaluation) on ${slots} GPU slots, maxParallel 8`,
    ours: { value: round(8 / sweepWall, 4), unit: 'trials/s through the sweep workflow' },
    reference: { name: '2 lanes of 4 experiments run back to back by hand', value: round(8 / lanesWall, 4), unit: 'trials/s' },
    ratio: round(lanesWall / sweepWall),
    goal: 'slot utilisation >= 0.9 (time in train/generate activities / (slots x wall))',
    runs: RUNS,
    spread: `sweep wall ${Math.min(...pairs.map((p) => p.a.wall))}..${Math.max(...pairs.map((p) => p.a.wall))} s`,
    extra: {
      slotUtilisation: utilisation,
      trialTimeUtilisation: median(pairs.map((p) => p.a.trialTimeUtilisation)),
      lanesSlotUtilisation: median(pairs.map((p) => p.b.slotUtilisation)),
      ashaVsGrid: saving,
      perRun: pairs,
    },
  });
  console.log(`slot utilisation ${utilisation}, ${round(lanesWall / sweepWall)}x the by-hand lanes' throughput; ASHA trained ${saving.asha.steps} steps vs the grid's ${saving.grid.steps} (saving ${saving.stepSaving}), same best trial: ${saving.sameBest}; wrote ${file}`);
} finally {
  for (const { worker } of workers) worker.shutdown();
  await Promise.all(running);
  await Promise.all(workers.map(({ connection }) => connection.close()));
  await client.connection.close();
  await servicesDown(path.join(work, 'services'));
}
