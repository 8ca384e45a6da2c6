// A challenge end to end against real services: five team folders (a LoRA team regenerated in the
// bubblewrap jail, a pre-generated-images team, a pickle file, a prompts file that is a symlink
// out of the folder, and a LoRA made for another model, refused by the jailed trainer): two are
// scored and ranked by their numbers, three rejected with their reasons, and a rerun of the same
// folder adds no row to DuckDB or MLflow.
import { copyFile, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeDeps } from '../../activities/index.ts';
import { prepareChallenge } from '../../cli/commands/challenge.ts';
import { startChallenge, startExperiment } from '../../client.ts';
import { parseSpec, resolveSpecPaths, specHash } from '../../experiments/load.ts';
import { resolvePaths, type Paths } from '../../settings.ts';
import { withStore } from '../../store/index.ts';
import { MlflowClient } from '../../tracking/mlflow-client.ts';
import type { ChallengeInput, ChallengeResult } from '../../workflows/challenge-messages.ts';
import { testServices } from '../helpers/services.ts';
import { startTestWorkers, type TestWorkers } from '../helpers/workers.ts';
import { writeTinyDataset } from '../helpers/tiny-dataset.ts';
import { trainedExtractorDir } from '../metrics/helpers.ts';

/** The same LoRA with one down-projection made 8 columns wider: what a LoRA for a wider model looks like. */
async function widened(file: string): Promise<Buffer> {
  const bytes = await readFile(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString()) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const { __metadata__: meta, ...tensors } = header as Record<string, never>;
  const key = Object.keys(tensors).find((k) => k.endsWith('.lora.down.weight'))!;
  const parts: Buffer[] = [];
  const out: Record<string, unknown> = meta ? { __metadata__: meta } : {};
  let at = 0;
  for (const [name, t] of Object.entries(tensors) as Array<[string, { dtype: string; shape: number[]; data_offsets: [number, number] }]>) {
    let data = bytes.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]);
    let shape = t.shape;
    if (name === key) {
      shape = [t.shape[0]!, t.shape[1]! + 8];
      data = Buffer.alloc(shape[0]! * shape[1]! * 4);
    }
    out[name] = { dtype: t.dtype, shape, data_offsets: [at, at + data.length] };
    parts.push(data);
    at += data.length;
  }
  const json = Buffer.from(JSON.stringify(out));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, ...parts]);
}

describe('challenge (real services, sandboxed regeneration)', () => {
  let queue = '';
  let workers: TestWorkers | undefined;
  let paths: Paths;
  let client: Client;
  let mlflow: MlflowClient;
  let dir: string;
  let real: string;
  let input: ChallengeInput;

  beforeAll(async () => {
    const services = testServices();
    const home = await mkdtemp(path.join(os.tmpdir(), 'medsynth-challenge-home-'));
    paths = resolvePaths({ MEDSYNTH_HOME: home });
    await symlink(await trainedExtractorDir(), path.join(home, 'extractors'));
    client = new Client({ connection: await Connection.connect({ address: services.temporalAddress }) });
    mlflow = new MlflowClient(services.mlflowUri);
    workers = await startTestWorkers('challenge', paths);
    queue = workers.queue;

    // a tiny LoRA, trained for real: what a participant would submit
    const data = await writeTinyDataset(4);
    const spec = resolveSpecPaths(parseSpec({ name: 'challenge-lora', dataset: { format: 'class-folders', path: data.root }, baseModel: { id: 'tiny', resolution: 32 }, method: { kind: 'lora', steps: 2, batchSize: 2, rank: 4, mixedPrecision: 'no', checkpointEvery: 2 } }));
    const trained = await (await startExperiment(client, { spec, specHash: specHash(spec), provenance: { gitCommit: null, lockfileHashes: {}, specPath: null, medsynthVersion: 'test' }, gpuTaskQueue: `${queue}-gpu` }, `challenge-lora-${Date.now()}`, queue)).result();
    const loraFile = await nodeDeps(paths, mlflow).blobs.get(trained.train!.weights.blob);

    // real images to score against, and the five teams
    real = await mkdtemp(path.join(os.tmpdir(), 'medsynth-challenge-real-'));
    for (const [c, label] of ['polyp', 'cecum'].entries()) {
      await mkdir(path.join(real, label));
      for (let i = 0; i < 8; i++) await sharp({ create: { width: 48, height: 48, channels: 3, background: { r: 60 * c + 10 * i, g: 90, b: 200 - 20 * i } } }).png().toFile(path.join(real, label, `${i}.png`));
    }
    dir = await mkdtemp(path.join(os.tmpdir(), 'medsynth-challenge-'));
    const team = async (name: string, files: Record<string, string | Buffer>) => {
      await mkdir(path.join(dir, name), { recursive: true });
      for (const [f, content] of Object.entries(files)) await writeFile(path.join(dir, name, f), content);
    };
    const yaml = (lora: string) => `baseModel: { id: tiny }\nlora: ${lora}\nprompts: prompts.txt\nseeds: [0, 1, 2]\nsteps: 2\nscheduler: ddim\n`;
    const prompts = 'an endoscopy image of a polyp\nan endoscopy image of the cecum\n';
    await team('lora-team', { 'team.yaml': yaml('lora.safetensors'), 'prompts.txt': prompts });
    await copyFile(loraFile, path.join(dir, 'lora-team', 'lora.safetensors'));
    await team('other-model', { 'team.yaml': yaml('lora.safetensors'), 'prompts.txt': prompts, 'lora.safetensors': await widened(loraFile) });
    await team('pickle-team', { 'team.yaml': yaml('lora.ckpt'), 'prompts.txt': prompts, 'lora.ckpt': Buffer.from([0x80, 0x04, 0x95, 0x00, 0x2e]) });
    await team('symlink-team', { 'team.yaml': yaml('lora.safetensors') });
    await copyFile(loraFile, path.join(dir, 'symlink-team', 'lora.safetensors'));
    const outside = path.join(await mkdtemp(path.join(os.tmpdir(), 'medsynth-outside-')), 'prompts.txt');
    await writeFile(outside, prompts);
    await symlink(outside, path.join(dir, 'symlink-team', 'prompts.txt'));
    await mkdir(path.join(dir, 'images-team', 'images'), { recursive: true });
    const rows = ['file,prompt'];
    for (const label of ['polyp', 'cecum']) {
      for (let i = 0; i < 3; i++) {
        await copyFile(path.join(real, label, `${i}.png`), path.join(dir, 'images-team', 'images', `${label}-${i}.png`));
        rows.push(`${label}-${i}.png,an endoscopy image of ${label === 'polyp' ? 'a polyp' : 'the cecum'}`);
      }
    }
    await writeFile(path.join(dir, 'images-team', 'prompts.csv'), `${rows.join('\n')}\n`);
    input = {
      ...(await prepareChallenge(dir, { protocol: 'features', real, baseModel: 'tiny', resolution: 32, gpuSlots: 2, bootstrap: 50, medvqa2025Mode: 'official', timeout: 600, memoryGb: 16, worker: false, detach: false })),
      gpuTaskQueue: `${queue}-gpu`,
    };
  }, 600_000);

  afterAll(async () => {
    await workers?.close();
    await client?.connection.close();
  });

  const sql = (text: string, params: unknown[] = []) => withStore(paths.store, async (s) => (await s.query(text, params as never)).rows, { readOnly: true });
  const counts = async (result: ChallengeResult) => {
    const { runs = [] } = await mlflow.http.call<{ runs?: unknown[] }>('POST', 'runs/search', { experiment_ids: [result.mlflowExperimentId], max_results: 1000 });
    return {
      trials: Number((await sql('select count(*) from trials where sweep_id = ?', [result.sweepId]))[0]![0]),
      metrics: Number((await sql('select count(*) from metrics m join trials t using (run_id) where t.sweep_id = ?', [result.sweepId]))[0]![0]),
      mlflowRuns: runs.length,
    };
  };
  let first: ChallengeResult;

  it('scores the LoRA and images teams, rejects the others with their reasons, ranks by the numbers', async () => {
    first = await (await startChallenge(client, input, queue)).result();
    const by = Object.fromEntries(first.teams.map((t) => [t.team, t]));
    expect(by['lora-team']!.status).toBe('SCORED');
    expect(by['images-team']!.status).toBe('SCORED');
    expect(by['pickle-team']!.reasons.join()).toMatch(/lora "lora.ckpt": \.ckpt weights are pickle-based and run code when loaded/);
    expect(by['symlink-team']!.reasons.join()).toMatch(/prompts "prompts.txt": a symlink that leaves the team folder/);
    // refused by the jailed trainer, by tensor name and shape, before anything was generated
    expect(by['other-model']!.status).toBe('REJECTED');
    expect(by['other-model']!.reasons.join()).toMatch(/regeneration refused: .*LoRA tensor 'unet\..*lora\.down\.weight' has shape \[4, \d+\]; .* a LoRA for another model/);

    // the regenerated images: 2 prompts x 3 seeds, made in the jail with the submitted LoRA
    const job = JSON.parse(await readFile(path.join(paths.runs, `${first.sweepId}-lora-team`, 'regenerated', 'generate-job.json'), 'utf8')) as { lora: { path: string } };
    // jailed: the weights sit beside the output folder (mounted read-only), not inside it
    expect(path.dirname(job.lora.path)).toBe(path.join(paths.runs, `${first.sweepId}-lora-team`, 'regenerated.inputs'));
    expect(by['lora-team']!.evaluation!.features!.counts.fake).toBe(6);

    // the leaderboard follows the numbers DuckDB holds, better (lower FD) first
    expect(first.metric).toBe('eval.features.fd_efficientnet_lite0');
    expect(first.leaderboard.map((b) => b.team).sort()).toEqual(['images-team', 'lora-team']);
    const recorded = await sql(`select t.run_id, m.value from trials t join metrics m using (run_id) where t.sweep_id = ? and m.name = ? and m.category = '' order by m.value`, [first.sweepId, first.metric]);
    expect(first.leaderboard.map((b) => `${first.sweepId}-${b.team}`)).toEqual(recorded.map((r) => r[0]));
    expect(first.leaderboard.map((b) => b.value)).toEqual(recorded.map((r) => Number(r[1])));
    for (const b of first.leaderboard) {
      expect(b.low!).toBeLessThanOrEqual(b.value);
      expect(b.high!).toBeGreaterThanOrEqual(b.value);
    }
    const statuses = await sql('select json_extract_string(overrides_json, \'$.team\'), status, error from trials where sweep_id = ? order by trial_index', [first.sweepId]);
    expect(statuses.map((r) => [r[0], r[1]])).toEqual([
      ['images-team', 'SCORED'], ['lora-team', 'SCORED'], ['other-model', 'REJECTED'], ['pickle-team', 'REJECTED'], ['symlink-team', 'REJECTED'],
    ]);

    // MLflow: one parent, one nested run per team, rejected ones tagged with why
    const pickle = await mlflow.findRunByTag(first.mlflowExperimentId, 'medsynth.run_id', `${first.sweepId}-pickle-team`);
    expect(pickle!.data.tags.find((t) => t.key === 'mlflow.parentRunId')?.value).toBe(first.mlflowRunId);
    expect(pickle!.data.tags.find((t) => t.key === 'medsynth.rejected')?.value).toMatch(/pickle-based/);

    // the page: leaderboard in order, every rejection with its reason
    const html = await readFile(first.report!.file, 'utf8');
    const order = first.leaderboard.map((b) => html.indexOf(`<td>${b.team}</td>`));
    expect(order.every((p) => p > 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(html).toContain('pickle-based');
    expect(html).toContain('a LoRA for another model');
  }, 600_000);

  it('a rerun of the same folder adds no row anywhere and ranks the same', async () => {
    const before = await counts(first);
    const again = await (await startChallenge(client, input, queue)).result();
    expect(again.sweepId).toBe(first.sweepId);
    expect(again.leaderboard).toEqual(first.leaderboard);
    expect(await counts(again)).toEqual(before);
  }, 600_000);
});
