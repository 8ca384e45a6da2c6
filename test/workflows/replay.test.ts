// An auditor's replay against real services: a tiny run (ingest, LoRA training, generation,
// features evaluation) replays identical artifact by artifact, with and without training, and its
// history replays cleanly; a workflow variant that reorders commands fails the determinism check
// naming the event; a changed dataset image refuses the replay, naming the file.
import { cp, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeDeps, type ActivityDeps } from '../../activities/index.ts';
import { checkDeterminism, replayRun } from '../../audit/replay.ts';
import { startExperiment } from '../../client.ts';
import { parseSpec, resolveSpecPaths, specHash } from '../../experiments/load.ts';
import { resolvePaths, type Paths } from '../../settings.ts';
import { MlflowClient } from '../../tracking/mlflow-client.ts';
import { testServices } from '../helpers/services.ts';
import { startTestWorkers, type TestWorkers } from '../helpers/workers.ts';
import { writeTinyDataset } from '../helpers/tiny-dataset.ts';
import { trainedExtractorDir } from '../metrics/helpers.ts';

describe('replay (real services)', () => {
  let queue = '';
  let workers: TestWorkers | undefined;
  const opts = () => ({ tolerance: 0, taskQueue: queue, gpuTaskQueue: `${queue}-gpu` });
  let paths: Paths;
  let client: Client;
  let deps: ActivityDeps;
  let dataRoot: string;
  let runId: string;

  beforeAll(async () => {
    const services = testServices();
    const home = await mkdtemp(path.join(os.tmpdir(), 'medsynth-replay-home-'));
    paths = resolvePaths({ MEDSYNTH_HOME: home });
    await symlink(await trainedExtractorDir(), path.join(home, 'extractors'));
    client = new Client({ connection: await Connection.connect({ address: services.temporalAddress }) });
    deps = nodeDeps(paths, new MlflowClient(services.mlflowUri));
    workers = await startTestWorkers('replay', paths);
    queue = workers.queue;
    const tiny = await writeTinyDataset(4);
    dataRoot = await mkdtemp(path.join(os.tmpdir(), 'medsynth-replay-data-'));
    await cp(tiny.root, dataRoot, { recursive: true });
    const spec = resolveSpecPaths(
      parseSpec({
        name: 'replay-tiny',
        dataset: { format: 'class-folders', path: dataRoot },
        baseModel: { id: 'tiny', resolution: 32 },
        method: { kind: 'lora', steps: 4, batchSize: 2, rank: 4, mixedPrecision: 'no', checkpointEvery: 2 },
        generation: { prompts: ['an endoscopy image of a polyp', 'an endoscopy image of the cecum'], seeds: [0, 1], steps: 2 },
        evaluation: { protocols: ['features'], realSplit: 'all', byCategory: false },
      }),
    );
    runId = `replay-src-${Date.now()}`;
    await (await startExperiment(client, { spec, specHash: specHash(spec), provenance: { gitCommit: 'recorded-commit', lockfileHashes: { 'package-lock.json': 'recorded' }, specPath: null, medsynthVersion: 'test' }, gpuTaskQueue: `${queue}-gpu` }, runId, queue)).result();
  }, 600_000);

  afterAll(async () => {
    await workers?.close();
    await client?.connection.close();
  });

  it('replays a tiny run: every artifact identical, the history replays cleanly, the code differences listed', async () => {
    const audit = await replayRun(client, deps, runId, { ...opts(), skipTrain: false });
    expect(audit.determinism).toMatchObject({ ok: true });
    const kinds = audit.comparisons.map((c) => c.artifact);
    expect(kinds).toContain('dataset manifest');
    expect(kinds).toContain('base model weights');
    expect(kinds).toContain('LoRA applied at generation');
    expect(kinds.some((k) => k.startsWith('model/'))).toBe(true);
    expect(kinds.filter((k) => k.startsWith('image ')).length).toBe(4);
    expect(kinds.some((k) => k.startsWith('metric train.loss'))).toBe(true);
    expect(kinds.some((k) => k.startsWith('metric eval.features.fd_efficientnet_lite0'))).toBe(true);
    expect(audit.comparisons.filter((c) => c.verdict !== 'identical')).toEqual([]);
    expect(audit.verdict).toBe('identical');
    expect(audit.summary).toMatch(/IDENTICAL .* 0 differ/);
    // the recorded run was made by a "recorded-commit": the audit says the code is not the same
    expect(audit.inputs.code.join('\n')).toMatch(/git commit: recorded recorded-commit/);
    const saved = JSON.parse(await readFile(audit.file!, 'utf8'));
    expect(saved.verdict).toBe('identical');
    expect(await readFile(audit.page!, 'utf8')).toContain('verdict <b>identical</b>');
    const replayRunTags = (await deps.mlflow.findRunByTag(await deps.mlflow.getOrCreateExperiment('replay-tiny'), 'medsynth.run_id', audit.replay!))!.data.tags;
    expect(replayRunTags.find((t) => t.key === 'medsynth.replay_of')?.value).toBe(runId);
  }, 600_000);

  it('--skip-train reuses the recorded LoRA and still reproduces the images and scores', async () => {
    const audit = await replayRun(client, deps, runId, { ...opts(), skipTrain: true });
    expect(audit.comparisons.find((c) => c.artifact.startsWith('model/'))?.detail).toMatch(/reused/);
    expect(audit.comparisons.some((c) => c.artifact.startsWith('metric train.'))).toBe(false);
    expect(audit.verdict).toBe('identical');
  }, 600_000);

  it('a workflow variant that reorders its commands fails the determinism check, naming the event', async () => {
    const variant = path.join(import.meta.dirname, 'fixtures', 'reordered-experiment.ts');
    const result = await checkDeterminism(client, runId, variant);
    expect(result.ok).toBe(false);
    expect(result.divergentEvent).toBeGreaterThan(0);
    expect(result.message).toMatch(new RegExp(`event ${result.divergentEvent} \\(ActivityTaskScheduled startRun\\): .*does not match .*'ingest'`));
  }, 120_000);

  it('a changed dataset image refuses the replay, naming the file', async () => {
    const victim = path.join(dataRoot, 'polyp', 'polyp-1.jpg');
    await writeFile(victim, await sharp({ create: { width: 33, height: 24, channels: 3, background: '#123456' } }).jpeg().toBuffer());
    await expect(replayRun(client, deps, runId, { ...opts(), skipTrain: true })).rejects.toThrow(/replay of .* refused: 1 dataset file\(s\) changed or missing[^]*polyp-1\.jpg: changed \(sha256 recorded/);
  }, 120_000);
});
