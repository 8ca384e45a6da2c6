// Sweeps with the real trainer (tiny preset on the CPU), real Temporal, MLflow and DuckDB, and
// workers in their own processes: a 2x2 grid on 2 GPU slots, whose cpu worker (the one running
// the sweep workflow) is SIGKILLed mid-sweep and replaced, finishes every trial exactly once and
// never runs more than 2 gpu activities at once (from the recorded event times); a trial that fails
// under onFailure: continue is recorded and the others finish; the leaderboard follows DuckDB's
// values, MLflow nests the trials under the sweep's run, and the sweep page opens in Chromium.
import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSweep } from '../../client.ts';
import { parseSpec, resolveSpecPaths, specHash } from '../../experiments/load.ts';
import { expandSweep, sweepObjective } from '../../experiments/sweep.ts';
import { resolvePaths, type Paths } from '../../settings.ts';
import { withStore } from '../../store/index.ts';
import { MlflowClient } from '../../tracking/mlflow-client.ts';
import { sweepProgressQuery, type SweepInput } from '../../workflows/sweep-messages.ts';
import { launchBrowser, openPage } from '../helpers/browser.ts';
import { testServices } from '../helpers/services.ts';
import { waitFor } from '../helpers/wait.ts';
import { writeTinyDataset } from '../helpers/tiny-dataset.ts';
import { trainedExtractorDir } from '../metrics/helpers.ts';
import { maxOverlap } from '../reliability/faults.ts';

const root = path.resolve(import.meta.dirname, '../..');
const medsynth = path.join(root, 'bin/medsynth.mjs');

/** The largest number of intervals that overlap at one instant. */
describe('sweeps through real workers', () => {
  const queue = `test-sweep-${process.pid}-${Date.now()}`;
  const gpuQueue = `${queue}-gpu`;
  let home: string;
  let paths: Paths;
  let client: Client;
  let mlflow: MlflowClient;
  let dataRoot: string;
  const workers: ResultPromise[] = [];
  const env = () => {
    const services = testServices();
    return { ...process.env, TEMPORAL_ADDRESS: services.temporalAddress, MLFLOW_TRACKING_URI: services.mlflowUri, MEDSYNTH_HOME: home };
  };

  function worker(kind: 'cpu' | 'gpu'): ResultPromise {
    const child = execa('node', [medsynth, 'worker', '--queue', kind, '--task-queue', kind === 'cpu' ? queue : gpuQueue, ...(kind === 'gpu' ? ['--slots', '2'] : [])], {
      cwd: root,
      env: env(),
      reject: false,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    workers.push(child);
    return child;
  }

  let cpu: ResultPromise | null = null;
  /** The cpu worker of the tests after the first (which kills and replaces its own). */
  function ensureCpuWorker(): void {
    if (!cpu || cpu.exitCode !== null || cpu.killed) cpu = worker('cpu');
  }

  function sweepInput(id: string, sweep: Record<string, unknown>, method: Record<string, unknown> = {}, dataset: Record<string, unknown> = {}): SweepInput {
    const raw = {
      name: 'sweep-real',
      dataset: { format: 'class-folders', path: dataRoot, ...dataset },
      baseModel: { id: 'tiny', resolution: 32 },
      method: { kind: 'lora', steps: 12, batchSize: 2, checkpointEvery: 6, mixedPrecision: 'no', rank: 4, learningRate: 1e-3, ...method },
      generation: { prompts: ['an endoscopy image of a polyp'], seeds: [0, 1], steps: 2, batchSize: 2 },
      evaluation: { protocols: ['features'], realSplit: 'all', byCategory: false },
      sweep,
    };
    const spec = resolveSpecPaths(parseSpec(raw));
    return {
      sweepId: id,
      spec,
      specHash: specHash(spec),
      provenance: { gitCommit: null, lockfileHashes: {}, specPath: null, medsynthVersion: 'test' },
      trials: expandSweep(raw, spec, id),
      objective: sweepObjective(spec),
      gpuTaskQueue: gpuQueue,
    };
  }

  const sql = (text: string, params: unknown[] = []) =>
    withStore(paths.store, async (s) => (await s.query(text, params as never)).rows, { readOnly: true });

  beforeAll(async () => {
    const services = testServices();
    home = await mkdtemp(path.join(os.tmpdir(), 'medsynth-sweep-home-'));
    paths = resolvePaths({ MEDSYNTH_HOME: home });
    await symlink(await trainedExtractorDir(), path.join(home, 'extractors'));
    client = new Client({ connection: await Connection.connect({ address: services.temporalAddress }) });
    mlflow = new MlflowClient(services.mlflowUri);
    dataRoot = (await writeTinyDataset(4)).root;
    worker('gpu');
  });

  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await Promise.all(workers);
    await client?.connection.close();
  });

  it('a 2x2 grid on 2 GPU slots survives its cpu worker being killed: every trial once, never more than 2 gpu activities', async () => {
    const first = worker('cpu');
    const id = `sweep-grid-${Date.now()}`;
    const input = sweepInput(id, { axes: { 'method.rank': [2, 4], 'method.learningRate': [1e-3, 5e-4] }, maxParallel: 4, gpuSlots: 2 });
    const handle = await startSweep(client, input, queue);
    // kill the worker that runs the sweep workflow once trials hold GPU slots
    await waitFor('trials holding GPU slots', async () => ((await handle.query(sweepProgressQuery).catch(() => null))?.gpu.held.length ?? 0) > 0);
    first.kill('SIGKILL');
    await first;
    cpu = worker('cpu');
    const result = await handle.result();

    expect(result.status).toBe('FINISHED');
    expect(result.trials.map((t) => t.status)).toEqual(['FINISHED', 'FINISHED', 'FINISHED', 'FINISHED']);
    for (const t of result.trials) expect(Number.isFinite(t.objective)).toBe(true);

    // each trial ran as exactly one workflow execution, and its train/generate activities never
    // overlapped more than the 2 slots (their start and close times, from each trial's history)
    const intervals: Array<[number, number]> = [];
    for (const trial of input.trials) {
      const executions = [];
      for await (const wf of client.workflow.list({ query: `WorkflowId = '${trial.id}'` })) executions.push(wf.runId);
      expect(executions, trial.id).toHaveLength(1);
      const history = await client.workflow.getHandle(trial.id).fetchHistory();
      const started = new Map<string, number>();
      for (const e of history.events ?? []) {
        const at = Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6);
        if (e.activityTaskStartedEventAttributes) started.set(String(e.activityTaskStartedEventAttributes.scheduledEventId), at);
        const closed = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
        const scheduled = history.events!.find((s) => String(s.eventId) === String(closed?.scheduledEventId));
        const type = scheduled?.activityTaskScheduledEventAttributes?.activityType?.name;
        if (closed && (type === 'train' || type === 'generate')) intervals.push([started.get(String(closed.scheduledEventId))!, at]);
      }
    }
    expect(intervals).toHaveLength(8);
    expect(maxOverlap(intervals)).toBeLessThanOrEqual(2);
    expect(maxOverlap(intervals)).toBe(2);

    // DuckDB: the sweep, its four trials and their runs, each once, no metric row twice
    const ids = input.trials.map((t) => t.id);
    expect(await sql('select status, n_trials, best_run_id from sweeps where sweep_id = ?', [id])).toEqual([['FINISHED', 4, result.best!.id]]);
    expect(await sql('select trial_index, run_id, status from trials where sweep_id = ? order by trial_index', [id])).toEqual(ids.map((r, i) => [i, r, 'FINISHED']));
    const runs = await sql(`select run_id, status, mlflow_run_id from runs where run_id in (${ids.map(() => '?').join(', ')}) order by run_id`, ids);
    expect(runs.map((r) => r[1])).toEqual(['FINISHED', 'FINISHED', 'FINISHED', 'FINISHED']);
    const losses = await sql(`select count(*)::INTEGER, count(distinct (run_id, step))::INTEGER from metrics where name = 'train.loss' and run_id in (${ids.map(() => '?').join(', ')})`, ids);
    expect(losses).toEqual([[48, 48]]);

    // MLflow: one parent run, the trials nested under it, no trial run twice
    const parent = (await mlflow.getRun(result.mlflowRunId)).data.tags;
    expect(parent).toEqual(expect.arrayContaining([{ key: 'medsynth.kind', value: 'sweep' }, { key: 'medsynth.best_run_id', value: result.best!.id }]));
    const nested = await mlflow.http.call<{ runs?: unknown[] }>('POST', 'runs/search', {
      experiment_ids: [result.mlflowExperimentId],
      filter: `tags.mlflow.parentRunId = '${result.mlflowRunId}'`,
      max_results: 100,
    });
    expect(nested.runs).toHaveLength(4);
    for (const [, , mlflowRunId] of runs) {
      const tags = (await mlflow.getRun(String(mlflowRunId))).data.tags;
      expect(tags).toEqual(expect.arrayContaining([{ key: 'mlflow.parentRunId', value: result.mlflowRunId }, { key: 'medsynth.sweep_id', value: id }]));
    }

    // the leaderboard ranks by the values DuckDB holds, lower first
    const metric = input.objective.metric;
    const values = await sql(`select run_id, value from metrics where name = ? and category = '' and run_id in (${ids.map(() => '?').join(', ')}) order by value`, [metric, ...ids]);
    expect(values).toHaveLength(4);
    expect(result.best!.id).toBe(values[0]![0]);
    const board = await execa('node', [medsynth, 'leaderboard', id], { cwd: root, env: env() });
    const order = board.stdout.split('\n').flatMap((line) => /\| (sweep-grid-\S+) \|/.exec(line)?.[1] ?? []);
    expect(order).toEqual(values.map((v) => v[0]));
    const csv = path.join(home, 'board.csv');
    await execa('node', [medsynth, 'leaderboard', id, '--out', csv], { cwd: root, env: env() });
    expect((await readFile(csv, 'utf8')).split('\n')[1]).toContain(String(values[0]![0]));

    // the sweep's page: leaderboard rows, a heatmap, nothing loaded from elsewhere
    expect(result.report?.file).toBe(path.join(paths.runs, id, 'report', 'index.html'));
    const browser = await launchBrowser();
    try {
      const url = pathToFileURL(result.report!.file).href;
      const opened = await openPage(browser, url);
      expect(opened.errors).toEqual([]);
      expect(opened.requests).toEqual([url]);
      expect(await opened.page.locator('table.leaderboard tr').count()).toBe(5);
      expect(await opened.page.locator('img.plot').count()).toBe(1);
      await opened.page.screenshot({ path: path.join(root, '.medsynth-test', 'screenshots', 'sweep-report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  }, 420_000);

  it('records a failed trial under onFailure: continue and finishes the others', async () => {
    ensureCpuWorker();
    const id = `sweep-fail-${Date.now()}`;
    const input = sweepInput(id, { axes: { 'dataset.path': [dataRoot, '/no/such/folder'] }, maxParallel: 2, gpuSlots: 1 }, { steps: 4 });
    const result = await (await startSweep(client, input, queue)).result();
    expect(result.status).toBe('FINISHED');
    expect(result.trials.map((t) => t.status)).toEqual(['FINISHED', 'FAILED']);
    expect(result.trials[1]!.error).toMatch(/\/no\/such\/folder/);
    expect(result.best?.index).toBe(0);
    expect(await sql('select status, error from trials where sweep_id = ? order by trial_index', [id])).toEqual([
      ['FINISHED', null],
      ['FAILED', result.trials[1]!.error],
    ]);
    expect(await sql('select status, error from sweeps where sweep_id = ?', [id])).toEqual([['FINISHED', '1 of 2 trials did not finish']]);
    const status = await execa('node', [medsynth, 'status', id], { cwd: root, env: env() });
    expect(status.stdout).toMatch(/sweep .* finished: 1 finished, 1 failed/);
    expect(existsSync(path.join(paths.runs, id, 'report', 'index.html'))).toBe(true);
  }, 300_000);

  it('successive halving stops the worse trials at the rung with their checkpoint, and the best trains on to the end', async () => {
    ensureCpuWorker();
    const id = `sweep-asha-${Date.now()}`;
    // a val split for the rung scores (KID of each trial's rung images against it)
    const input = sweepInput(
      id,
      { axes: { 'method.learningRate': [1e-3, 3e-4, 1e-4] }, maxParallel: 3, gpuSlots: 2, asha: { rungs: [4], eta: 3, images: 2 } },
      { steps: 8, checkpointEvery: 100 },
      { splits: { train: 0.5, val: 0.5, test: 0, seed: 1 } },
    );
    const result = await (await startSweep(client, input, queue)).result();
    const statuses = result.trials.map((t) => t.status).sort();
    expect(statuses).toEqual(['FINISHED', 'PRUNED', 'PRUNED']);
    const survivor = result.trials.find((t) => t.status === 'FINISHED')!;
    // the survivor scored best at the rung
    for (const t of result.trials) expect(t.rungs).toHaveLength(1);
    expect(Math.min(...result.trials.map((t) => t.rungs[0]!.score))).toBe(survivor.rungs[0]!.score);
    expect(result.best?.id).toBe(survivor.id);

    const ids = result.trials.map((t) => t.id);
    const steps = await sql(`select run_id, max(step)::INTEGER, count(*)::INTEGER from metrics where name = 'train.loss' and run_id in (?, ?, ?) group by run_id`, ids);
    for (const [runId, last, n] of steps) expect([last, n]).toEqual(runId === survivor.id ? [8, 8] : [4, 4]);
    const rungKid = await sql(`select run_id, step::INTEGER from metrics where name = 'rung.features.kid_efficientnet_lite0_mean' and run_id in (?, ?, ?) order by run_id`, ids);
    expect(rungKid.map((r) => r[1])).toEqual([4, 4, 4]);
    const runs = await sql(`select run_id, status from runs where run_id in (?, ?, ?) order by run_id`, ids);
    expect(runs.filter((r) => r[1] === 'PRUNED')).toHaveLength(2);
    // a pruned trial keeps its rung checkpoint, as a blob any node can fetch
    const kept = await sql(`select run_id, uri from artifacts where kind = 'checkpoint' and run_id in (?, ?, ?)`, ids);
    expect(kept).toHaveLength(2);
    for (const [, uri] of kept) expect(String(uri)).toMatch(/^mlflow-artifacts:\/blobs\/sha256\//);
    expect(await sql('select trial_index, status, pruned_at from trials where sweep_id = ? order by trial_index', [id])).toEqual(
      result.trials.map((t) => [t.index, t.status, t.status === 'PRUNED' ? 4 : null]),
    );
  }, 300_000);
});
