// The command line as a user meets it: a real process, real services, real files.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { testServices } from '../helpers/services.ts';
import { writeTinyDataset, type TinyDataset } from '../helpers/tiny-dataset.ts';
import { trainedExtractorDir } from '../metrics/helpers.ts';

const root = path.resolve(import.meta.dirname, '../..');
const sharedData = path.resolve(root, '../shared/data');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function medsynth(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  try {
    const { stdout, stderr } = await promisify(execFile)('node', [path.join(root, 'bin/medsynth.mjs'), ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      maxBuffer: 16 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('medsynth CLI: user errors are one clear line, never a stack trace', () => {
  let badSpec: string;
  let badSweep: string;
  let badPrompts: string;
  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'medsynth-cli-'));
    badSpec = path.join(dir, 'bad.yaml');
    await writeFile(badSpec, 'name: ok\ndataset: { format: imagefolder, path: x, sede: 1 }\n');
    badPrompts = path.join(dir, 'bad-prompts.yaml');
    await writeFile(badPrompts, 'name: ok\ndataset: { format: imagefolder, path: x }\nprompts: { templates: [no placeholder], imagesPerCandidate: 1 }\n');
    badSweep = path.join(dir, 'bad-sweep.yaml');
    await writeFile(
      badSweep,
      'name: ok\ndataset: { format: imagefolder, path: x }\nmethod: { kind: lora }\nevaluation: {}\nsweep: { axes: { method.rank: [4, 0], method.rnak: [1] } }\n',
    );
  });

  it.each([
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['run', 'spec.yaml', '--bogus'], /unknown option '--bogus'/],
    [['services', 'up', '--mlflow-port', '70000'], /expected a port number/],
    [['services', 'sideways'], /Allowed choices are up, status, down/],
    [['worker', '--queue', 'tpu'], /Allowed choices are cpu, gpu/],
    [['run', '/no/such/spec.yaml', '--dry-run'], /cannot read spec \(ENOENT\)/],
    [['validate', '__BAD__'], /dataset\.sede: unknown key/],
    [['sweep', '__BAD_SWEEP__', '--dry-run'], /invalid trials:\n.*method\.rnak: unknown key \(trials 0, 1,[^]*method\.rank: Too small.*\(trial 1,/],
    [['run', '__BAD_SWEEP__', '--dry-run'], /the sweep of ok has invalid trials/],
    [['prompts', 'experiments/examples/tiny-sweep.yaml', '--dry-run'], /tiny-sweep\.yaml: no prompts: section/],
    [['challenge', '/no/such/folder', '--real', 'experiments'], /challenge folder \/no\/such\/folder: not found/],
    [['challenge', 'experiments', '--real', 'experiments', '--protocol', 'features,bogus'], /unknown protocol "bogus"/],
    [['validate', '__BAD_PROMPTS__'], /prompts\.imagesPerCandidate: Too small[^]*prompts\.templates\.0: a template must hold \{finding\}/],
  ])('medsynth %j', async (args, message) => {
    const out = await medsynth(args.map((a) => (a === '__BAD__' ? badSpec : a === '__BAD_SWEEP__' ? badSweep : a === '__BAD_PROMPTS__' ? badPrompts : a)));
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(message);
    expect(out.stderr).not.toMatch(/^\s+at /m);
  });

  it('status before services up: one line naming the fix, exit 1, no stack trace (the most common first error)', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'medsynth-nohome-'));
    const out = await medsynth(['status'], { MEDSYNTH_HOME: home, TEMPORAL_ADDRESS: '', MLFLOW_TRACKING_URI: '' });
    expect(out.code).toBe(1);
    expect(out.stderr.trim()).toMatch(/^error: Temporal is not running for .*: start it with `medsynth services up`, or set TEMPORAL_ADDRESS/);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stderr).not.toMatch(/internal error|^\s+at /m);
  });

  it('prompts --dry-run names the search and its model run and fills in the defaults', async () => {
    const out = await medsynth(['prompts', 'experiments/examples/tiny-prompts.yaml', '--dry-run', '--id', 'ps']);
    expect(out.code).toBe(0);
    const plan = JSON.parse(out.stdout);
    expect(plan.searchId).toBe('ps');
    expect(plan.modelRun).toBe('ps-model');
    expect(plan.prompts).toMatchObject({ budget: 120, imagesPerCandidate: 3, eta: 3, top: 3, bootstrap: 200, attributes: ['count', 'size', 'paris', 'colour', 'location', 'instrument', 'vqa'] });
  });

  it('sweep --dry-run lists the trials with their ids and overrides, and the objective', async () => {
    const out = await medsynth(['sweep', 'experiments/examples/tiny-sweep.yaml', '--dry-run', '--id', 'sw']);
    expect(out.code).toBe(0);
    const plan = JSON.parse(out.stdout);
    expect(plan.objective).toEqual({ metric: 'eval.features.fd_efficientnet_lite0', mode: 'min' });
    expect(plan.trials.map((t: { id: string }) => t.id)).toEqual([expect.stringMatching(/^sw-t0-/), expect.stringMatching(/^sw-t1-/), expect.stringMatching(/^sw-t2-/), expect.stringMatching(/^sw-t3-/)]);
    expect(plan.trials[3].overrides).toEqual({ 'method.rank': 8, 'method.learningRate': 1e-4 });
  });

  it('run --dry-run prints the resolved input: absolute paths, defaults, spec hash, provenance', async () => {
    const out = await medsynth(['run', 'experiments/examples/kvasir-classes.yaml', '--dry-run', '--data', 'somewhere']);
    expect(out.code).toBe(0);
    const input = JSON.parse(out.stdout);
    expect(input.spec.dataset.path).toBe(path.join(root, 'somewhere'));
    expect(input.spec.dataset.splits).toEqual({ train: 0.8, val: 0.1, test: 0.1, seed: 0 });
    expect(input.specHash).toMatch(/^[0-9a-f]{64}$/);
    expect(input.provenance.lockfileHashes['package-lock.json']).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('medsynth run, status and query against real services', () => {
  let env: NodeJS.ProcessEnv;
  let tiny: TinyDataset;
  beforeAll(async () => {
    const services = testServices();
    env = {
      TEMPORAL_ADDRESS: services.temporalAddress,
      MLFLOW_TRACKING_URI: services.mlflowUri,
      MEDSYNTH_HOME: await mkdtemp(path.join(os.tmpdir(), 'medsynth-cli-home-')),
    };
    // the kvasir-mini example evaluates with the features protocol (the trained EfficientNet-Lite0)
    // and the standard one (a random-weight FID Inception here)
    await symlink(await trainedExtractorDir(['inception-fid']), path.join(env.MEDSYNTH_HOME!, 'extractors'));
    tiny = await writeTinyDataset();
  });

  it('runs a spec with an in-process worker and reports the dataset and its rejects', async () => {
    const id = `cli-run-${Date.now()}`;
    const run = await medsynth(['run', 'experiments/examples/kvasir-classes.yaml', '--worker', '--id', id, '--data', tiny.root], env);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${tiny.good} images from ${tiny.good + tiny.duplicates + tiny.bad} candidates`);
    expect(run.stdout).toMatch(/rejects:/);
    expect(run.stdout).toMatch(/MLflow run: http:\/\/127\.0\.0\.1:\d+\/#\/experiments\/\d+\/runs\/[0-9a-f]+/);

    const status = await medsynth(['status', id], env);
    expect(status.stdout).toContain(`${id}: COMPLETED`);
    const query = await medsynth(['query', `select status from runs where run_id = '${id}'`], env);
    expect(query.stdout).toContain('FINISHED');

    // the run ended with its report stage; `medsynth report` writes the page again, anywhere
    expect(run.stdout).toMatch(/report: .*report\/index\.html/);
    const out = path.join(tiny.root, 'again.html');
    const report = await medsynth(['report', id, '--out', out], env);
    expect(report.code).toBe(0);
    expect(report.stdout).toContain(`wrote ${out}`);
    expect(existsSync(out)).toBe(true);
    const unknown = await medsynth(['report', 'no-such-run'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no run "no-such-run" in .*medsynth\.duckdb/);
    expect(unknown.stderr).not.toMatch(/^\s+at /m);
  });

  it('a run that fails on bad input says why in one line and exits 1', async () => {
    const missing = path.join(tiny.root, 'no-such-folder');
    const run = await medsynth(['run', 'experiments/examples/kvasir-classes.yaml', '--worker', '--data', missing], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`error: the run failed: .*${missing}`));
    expect(run.stderr).not.toMatch(/internal error|^\s+at /m);
  });

  it.skipIf(!existsSync(sharedData))('runs the example specs on the real sample data (../shared/data)', async () => {
    for (const [spec, folder, images] of [
      ['experiments/examples/kvasir-mini.yaml', 'kvasir-mini', 2900],
      ['experiments/examples/medvqa-gi-2024-dev.yaml', 'medvqa-gi-2024-dev', 1714], // 1,722 files, 8 exact duplicates
    ] as const) {
      const id = `cli-real-${folder}-${Date.now()}`;
      const run = await medsynth(['run', spec, '--worker', '--id', id, '--data', path.join(sharedData, folder)], env);
      expect(run.stderr).not.toMatch(/internal error/);
      expect(run.code).toBe(0);
      const query = await medsynth(
        ['query', `select count(*) as n from images join runs on images.manifest_hash = runs.dataset_manifest_hash where run_id = '${id}'`],
        env,
      );
      expect(query.stdout).toMatch(new RegExp(`\\b${images}\\b`));
    }
  }, 360_000); // the whole kvasir-mini demo (ingest, 200 steps, generation, two protocols): ~85 s alone, more beside other files
});
