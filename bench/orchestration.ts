// Orchestration overhead on the CPU with the tiny preset: one experiment (ingest → LoRA training →
// generation) through the Temporal workflow, against the same work done directly (ingestDataset and
// the trainer CLI called in-process), interleaved. Goal: the workflow costs at most 5 % more wall
// time. Usage: npm run bench:orchestration
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { runTrainer } from '../activities/trainer-process.ts';
import { startExperiment } from '../client.ts';
import { ingestDataset } from '../datasets/index.ts';
import { parseSpec, resolveSpecPaths, specHash } from '../experiments/load.ts';
import { servicesDown, servicesUp } from '../services/index.ts';
import { resolvePaths } from '../settings.ts';
import { writeTinyDataset } from '../test/helpers/tiny-dataset.ts';
import { createWorker, workflowsPath } from '../worker.ts';
import { interleave, median, round, saveResult } from './result.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const steps = 100;
const prompts = ['an endoscopy image of a polyp', 'an endoscopy image of the cecum'];
const seeds = [0, 1, 2, 3];
const images = prompts.length * seeds.length;

const work = await mkdtemp(path.join(os.tmpdir(), 'medsynth-bench-orch-'));
const dataRoot = (await writeTinyDataset(8)).root;
const spec = resolveSpecPaths(
  parseSpec({
    name: 'bench-orchestration',
    dataset: { format: 'class-folders', path: dataRoot },
    baseModel: { id: 'tiny', resolution: 32 },
    method: { kind: 'lora', steps, batchSize: 2, checkpointEvery: 1000, mixedPrecision: 'no', rank: 4 },
    generation: { prompts, seeds, steps: 4, batchSize: 4 },
  }),
);

const services = await servicesUp({ stateDir: path.join(work, 'services') });
const paths = resolvePaths({ MEDSYNTH_HOME: path.join(work, 'home') });
const queue = `bench-${process.pid}`;
const config = { temporalAddress: services.temporalAddress, mlflowUri: services.mlflowUri, paths };
const workflowBundle = await bundleWorkflowCode({ workflowsPath });
const workers = [
  await createWorker({ ...config, queue: 'cpu', taskQueueName: queue, workflowBundle }),
  await createWorker({ ...config, queue: 'gpu', taskQueueName: `${queue}-gpu` }),
];
const running = workers.map(({ worker }) => worker.run());
const client = new Client({ connection: await Connection.connect({ address: services.temporalAddress }) });

const stageSeconds: Array<Record<string, number>> = [];

/** Seconds each activity ran, from the workflow's history (started → completed). */
async function activitySeconds(handle: WorkflowHandle): Promise<Record<string, number>> {
  const events = (await handle.fetchHistory()).events ?? [];
  const ms = (e: (typeof events)[number]) => Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
  const byId = new Map(events.map((e) => [Number(e.eventId), e]));
  const out: Record<string, number> = {};
  for (const e of events) {
    const done = e.activityTaskCompletedEventAttributes;
    if (!done) continue;
    const scheduled = byId.get(Number(done.scheduledEventId));
    const started = byId.get(Number(done.startedEventId));
    const name = scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
    if (started) out[name] = round((ms(e) - ms(started)) / 1000, 2);
  }
  const first = events[0];
  const last = events.at(-1);
  if (first && last) out.workflow = round((ms(last) - ms(first)) / 1000, 2);
  return out;
}

async function viaWorkflow(i: number): Promise<number> {
  const start = performance.now();
  const input = { spec, specHash: specHash(spec), provenance: { gitCommit: null, lockfileHashes: {}, specPath: null, medsynthVersion: 'bench' }, gpuTaskQueue: `${queue}-gpu` };
  const handle = await startExperiment(client, input, `bench-orch-${Date.now()}-${i}`, queue);
  await handle.result();
  const seconds = (performance.now() - start) / 1000;
  stageSeconds.push(await activitySeconds(handle));
  return seconds;
}

const directSeconds: Array<Record<string, number>> = [];

async function direct(i: number): Promise<number> {
  const start = performance.now();
  const dir = path.join(work, `direct-${i}`);
  await mkdir(dir, { recursive: true });
  const phases: Record<string, number> = {};
  const lap = (name: string, since: number) => (phases[name] = round((performance.now() - since) / 1000, 2));
  let t = performance.now();
  const dataset = await ingestDataset(spec.dataset, { blobDir: path.join(dir, 'blobs') });
  lap('ingest', t);
  const data = path.join(dir, 'data.jsonl');
  await writeFile(data, dataset.rows.filter((r) => r.split === 'train').map((r) => JSON.stringify({ path: r.path, prompt: `an endoscopy image of ${r.label}` })).join('\n') + '\n');
  let lora = '';
  t = performance.now();
  await runTrainer({
    command: 'train',
    job: { kind: 'train', runId: `direct-${i}`, baseModel: spec.baseModel, method: spec.method!, data: { file: data }, device: 'auto' },
    outDir: path.join(dir, 'train'),
    onEvent: (e) => {
      if (e.event === 'artifact' && e.kind === 'lora') lora = e.path;
    },
  });
  lap('train', t);
  t = performance.now();
  await runTrainer({
    command: 'generate',
    job: { kind: 'generate', runId: `direct-${i}`, baseModel: spec.baseModel, lora: { path: lora, scale: 1 }, generation: { ...spec.generation!, prompts }, shard: { index: 0, count: 1 }, device: 'auto' },
    outDir: path.join(dir, 'generate'),
    onEvent: () => undefined,
  });
  lap('generate', t);
  directSeconds.push(phases);
  return (performance.now() - start) / 1000;
}

try {
  await direct(-1); // warm-up: tiny model built and cached, page cache, Python bytecode
  let n = 0;
  const pairs = await interleave(RUNS, () => viaWorkflow(n++), () => direct(n++));
  const perRun = pairs.map(({ a, b }) => ({ workflowSeconds: round(a, 2), directSeconds: round(b, 2), overhead: round((a - b) / a, 3) }));
  const overheads = perRun.map((r) => r.overhead);
  const workflowS = median(pairs.map((p) => p.a));
  const directS = median(pairs.map((p) => p.b));
  console.table(perRun);
  const file = saveResult({
    name: 'orchestration',
    command: 'npm run bench:orchestration',
    workload: `tiny preset, 32 px: ingest 16 images, LoRA ${steps} steps (batch 2), generate ${images} images (4 steps)`,
    ours: { value: round(1 / workflowS, 5), unit: 'experiments/s through the Temporal workflow' },
    reference: { name: 'ingestDataset + trainer CLI called directly', value: round(1 / directS, 5), unit: 'experiments/s' },
    ratio: round(directS / workflowS, 3),
    goal: '>= 0.95 (orchestration overhead <= 5 % of wall time)',
    runs: RUNS,
    spread: `overhead ${Math.min(...overheads)}..${Math.max(...overheads)}`,
    extra: {
      medianOverheadFraction: median(overheads),
      trainStepsPerSecondEndToEnd: { workflow: round(steps / workflowS, 2), direct: round(steps / directS, 2) },
      imagesPerSecondEndToEnd: { workflow: round(images / workflowS, 3), direct: round(images / directS, 3) },
      perRun,
      workflowActivitySeconds: stageSeconds,
      directPhaseSeconds: directSeconds.slice(1),
    },
  });
  console.log(`overhead ${median(overheads)} of wall time (ratio ${round(directS / workflowS)}); wrote ${file}`);
} finally {
  for (const { worker } of workers) worker.shutdown();
  await Promise.all(running);
  await Promise.all(workers.map(({ connection }) => connection.close()));
  await client.connection.close();
  await servicesDown(path.join(work, 'services'));
}
