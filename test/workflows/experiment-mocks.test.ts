// The experiment workflow's orchestration with stub activities (as in Temporal's hello-world
// workflows-mocks test), on the real Temporal server: which activities run, in which order, on
// which queue, and that a gpu activity is handed blob references and what cpu activities made of
// its inputs, never a path of the cpu node.
import { Client, Connection } from '@temporalio/client';
import { activityInfo } from '@temporalio/activity';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Activities } from '../../activities/index.ts';
import { startExperiment } from '../../client.ts';
import { parseSpec, resolveSpecPaths, specHash } from '../../experiments/load.ts';
import { quietRuntime, workflowsPath } from '../../worker.ts';
import type { BlobRef, DatasetSummary, ExperimentInput, TrainResult } from '../../workflows/messages.ts';
import { testServices } from '../helpers/services.ts';

const ref = (n: number, mediaType = 'application/octet-stream'): BlobRef => ({ sha256: String(n).repeat(64).slice(0, 64), size: n, mediaType });

describe('experiment workflow with stub activities', () => {
  const queue = `test-mocks-${process.pid}-${Date.now()}`;
  const calls: Array<{ name: string; queue: string; input: unknown }> = [];
  let client: Client;
  let connection: NativeConnection;
  let workers: Worker[];
  let running: Promise<void>[];

  const dataset = { manifestHash: 'm'.repeat(64), name: 'd', images: 3, bySplit: {}, byLabel: {}, rejects: [] } as unknown as DatasetSummary;
  const trained: TrainResult = {
    weights: { blob: ref(7, 'application/vnd.safetensors'), kind: 'lora', name: 'pytorch_lora_weights.safetensors' },
    validation: [],
    steps: 4,
    finalLoss: 0.5,
    images: 3,
    resumedFrom: null,
  };
  const stub = <K extends keyof Activities>(name: K, result: Awaited<ReturnType<Activities[K]>>) =>
    vi.fn(async (input: unknown) => {
      calls.push({ name, queue: activityInfo().taskQueue, input });
      return result;
    });
  const activities = {
    startRun: stub('startRun', { runId: 'r', mlflowExperimentId: '1', mlflowRunId: 'x' }),
    ingest: stub('ingest', dataset),
    recordDataset: stub('recordDataset', undefined),
    prepareTraining: stub('prepareTraining', { data: ref(1, 'application/x-ndjson'), images: 3 }),
    train: stub('train', trained),
    recordTraining: stub('recordTraining', { points: 8 }),
    preparePrompts: stub('preparePrompts', ref(2, 'application/json')),
    generate: stub('generate', { images: 2, provenance: ref(3, 'application/x-ndjson') }),
    recordGeneration: stub('recordGeneration', undefined),
    evaluate: stub('evaluate', {}),
    finishRun: stub('finishRun', undefined),
    report: stub('report', { file: '/r/report/index.html', bytes: 10, uri: 'runs:/x/report/index.html' }),
  };

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

  it('publishes gpu inputs before the gpu stage and records its results after it, on the cpu queue', async () => {
    const spec = resolveSpecPaths(
      parseSpec({
        name: 'mocks',
        dataset: { format: 'class-folders', path: '/nowhere' },
        baseModel: { id: 'tiny', resolution: 32 },
        method: { kind: 'lora', steps: 4 },
        generation: { prompts: ['a polyp'], seeds: [0, 1] },
        evaluation: { protocols: ['standard'] },
      }),
    );
    const input: ExperimentInput = { spec, specHash: specHash(spec), provenance: { gitCommit: null, lockfileHashes: {}, specPath: null, medsynthVersion: 't' }, gpuTaskQueue: `${queue}-gpu` };
    const result = await (await startExperiment(client, input, `mocks-${Date.now()}`, queue)).result();

    expect(calls.map((c) => c.name)).toEqual([
      'startRun', 'ingest', 'recordDataset', 'prepareTraining', 'train', 'recordTraining',
      'preparePrompts', 'generate', 'recordGeneration', 'evaluate', 'finishRun', 'report',
    ]);
    for (const c of calls) expect(c.queue).toBe(['train', 'generate'].includes(c.name) ? `${queue}-gpu` : queue);
    const byName = (name: string) => calls.find((c) => c.name === name)!.input as Record<string, unknown>;
    expect(byName('train').training).toEqual({ data: ref(1, 'application/x-ndjson'), images: 3 });
    expect(byName('train')).not.toHaveProperty('dataset');
    expect(byName('recordTraining').train).toEqual(trained);
    expect(byName('generate').prompts).toEqual(ref(2, 'application/json'));
    expect(byName('generate').trained).toEqual(trained);
    expect(byName('recordGeneration').generate).toEqual({ images: 2, provenance: ref(3, 'application/x-ndjson') });
    expect(result.train).toEqual(trained);
    expect(byName('finishRun').status).toBe('FINISHED');
  });
});
