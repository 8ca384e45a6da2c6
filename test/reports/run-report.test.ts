// The run report as a user meets it: a tiny experiment through the real workflow (real Temporal,
// MLflow, DuckDB, trainer and extractors) ends with its report stage; the page then opens from
// file:// in headless Chromium with no console error and no request beyond itself, shows the
// images and plots it should, and renders hostile prompts as text.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, stat, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExperiment } from '../../client.ts';
import { parseSpec, resolveSpecPaths, specHash } from '../../experiments/load.ts';
import { renderPage } from '../../reports/html.ts';
import { thumbnail } from '../../reports/thumbnails.ts';
import { projectRoot } from '../../services/paths.ts';
import { resolvePaths, type Paths } from '../../settings.ts';
import { withStore } from '../../store/index.ts';
import { MlflowClient } from '../../tracking/mlflow-client.ts';
import { createWorker, workflowsPath } from '../../worker.ts';
import type { ExperimentResult } from '../../workflows/messages.ts';
import { launchBrowser, openPage } from '../helpers/browser.ts';
import { testServices } from '../helpers/services.ts';
import { writeTinyDataset, type TinyDataset } from '../helpers/tiny-dataset.ts';
import { hasKvasir, kvasirImages, trainedExtractorDir } from '../metrics/helpers.ts';

const hostile = 'an endoscopy image of a polyp <script>alert(1)</script> "><img src=x onerror=alert(2)>';
const prompts = ['an endoscopy image of the cecum', hostile];
const seeds = [0, 1, 2];
const screenshots = path.join(projectRoot, '.medsynth-test', 'screenshots');

describe('run report', () => {
  const queue = `test-report-${process.pid}-${Date.now()}`;
  let paths: Paths;
  let client: Client;
  let mlflow: MlflowClient;
  let tiny: TinyDataset;
  let browser: Browser;
  let result: ExperimentResult;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    const services = testServices();
    paths = resolvePaths({ MEDSYNTH_HOME: await mkdtemp(path.join(os.tmpdir(), 'medsynth-report-home-')) });
    await symlink(await trainedExtractorDir(['inception-fid']), path.join(paths.home, 'extractors'));
    mlflow = new MlflowClient(services.mlflowUri);
    client = new Client({ connection: await Connection.connect({ address: services.temporalAddress }) });
    const config = { temporalAddress: services.temporalAddress, mlflowUri: services.mlflowUri, paths, temporalUiUrl: services.temporalUiUrl };
    const workflowBundle = await bundleWorkflowCode({ workflowsPath, logger: undefined });
    for (const created of [
      await createWorker({ ...config, queue: 'cpu', taskQueueName: queue, workflowBundle }),
      await createWorker({ ...config, queue: 'gpu', taskQueueName: `${queue}-gpu` }),
    ]) {
      const running = created.worker.run();
      closers.push(async () => {
        created.worker.shutdown();
        await running;
        await created.connection.close();
      });
    }
    tiny = await writeTinyDataset(5);
    browser = await launchBrowser();
    const spec = resolveSpecPaths(
      parseSpec({
        name: 'report-test',
        // a test split of 1 image per class at least: the utility stage tests on it
        dataset: { format: 'class-folders', path: tiny.root, splits: { train: 0.6, val: 0.2, test: 0.2, seed: 0 } },
        baseModel: { id: 'tiny', resolution: 32 },
        method: { kind: 'lora', steps: 6, batchSize: 2, checkpointEvery: 3, mixedPrecision: 'no', rank: 4 },
        generation: { prompts, seeds, steps: 2, batchSize: 3 },
        evaluation: { protocols: ['features', 'standard'], realSplit: 'all', memorisation: true },
        utility: { seeds: [0, 1], epochs: 1, resolution: 32, batchSize: 8 },
      }),
    );
    const input = { spec, specHash: specHash(spec), provenance: { gitCommit: 'c0ffee', lockfileHashes: { 'package-lock.json': 'abc' }, specPath: null, medsynthVersion: 'test' }, gpuTaskQueue: `${queue}-gpu` };
    result = await (await startExperiment(client, input, `report-${Date.now()}`, queue)).result();
  });

  afterAll(async () => {
    await browser?.close();
    for (const close of closers) await close();
    await client?.connection.close();
  });

  it('ends the workflow, is logged to MLflow and recorded in DuckDB', async () => {
    expect(result.report).not.toBeNull();
    const { file, bytes, uri } = result.report!;
    expect((await stat(file)).size).toBe(bytes);
    expect(uri).toBe(`runs:/${result.mlflowRunId}/report/index.html`);
    expect(await mlflow.downloadArtifact(result.mlflowRunId, 'report/index.html')).toEqual(await readFile(file));
    const rows = await withStore(paths.store, async (s) => (await s.query(`select kind, bytes from artifacts where run_id = '${result.runId}' and path = 'report/index.html'`)).rows, { readOnly: true });
    expect(rows).toEqual([['report', bytes]]);
  });

  it('opens from file:// with no console error and no request, showing every image, plot and table', async () => {
    const { page, errors, requests, dialogs } = await openPage(browser, pathToFileURL(result.report!.file).href);
    expect(errors).toEqual([]);
    expect(requests).toEqual([pathToFileURL(result.report!.file).href]);
    expect(dialogs).toEqual([]);
    expect(await page.locator('img.synthetic').count()).toBe(prompts.length * seeds.length);
    expect(await page.locator('img.plot').count()).toBe(2); // loss and learning rate
    // every image is a decoded data: URI (no broken image)
    const broken = await page.locator('img').evaluateAll((imgs) => imgs.filter((i) => !(i as HTMLImageElement).complete || (i as HTMLImageElement).naturalWidth === 0).length);
    expect(broken).toBe(0);
    expect(await page.locator('table.rejects tr').count()).toBe(tiny.bad + 1);
    expect(await page.locator('h3.protocol').allTextContents()).toEqual(['features', 'standard']);
    expect(await page.locator('table.metrics').first().textContent()).toContain('fd_efficientnet_lite0');
    expect(await page.locator('#dataset').textContent()).toContain(`${tiny.good} images`);
    // memorisation: every generated image beside its nearest training image, the flagged count said
    const generated = prompts.length * seeds.length;
    expect(await page.locator('img.memorised').count()).toBe(Math.min(generated, 8));
    expect(await page.locator('img.memorised-nearest').count()).toBe(Math.min(generated, 8));
    expect(await page.locator('#evaluation').textContent()).toMatch(new RegExp(`\\d+ of ${generated} generated images .* flagged as copies`));
    const flagged = await withStore(paths.store, async (s) => (await s.query(`select value from metrics where run_id = '${result.runId}' and name = 'eval.memorisation.flagged_fraction'`)).rows, { readOnly: true });
    expect(flagged).toHaveLength(1);
    // the utility stage: three regimes, tested on the real test split, recorded in DuckDB
    expect(await page.locator('table.utility tr').count()).toBe(4);
    const utility = await withStore(paths.store, async (s) => (await s.query(`select name from metrics where run_id = '${result.runId}' and name like 'utility.%accuracy' order by name`)).rows.map((r) => r[0]), { readOnly: true });
    expect(utility).toEqual(['utility.real.accuracy', 'utility.real_synthetic.accuracy', 'utility.synthetic.accuracy']);
    await mkdir(screenshots, { recursive: true });
    await page.screenshot({ path: path.join(screenshots, 'run-report.png'), fullPage: true });
    expect(existsSync(path.join(screenshots, 'run-report.png'))).toBe(true);
    await page.close();
  });

  it('renders a hostile prompt as text: no script, no injected element', async () => {
    const { page, dialogs } = await openPage(browser, pathToFileURL(result.report!.file).href);
    expect(await page.locator('h3.prompt').allTextContents()).toContain(hostile);
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('img[onerror]').count()).toBe(0);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await page.close();
  });
});

describe('report building blocks', () => {
  it('escapes every interpolated value by default', () => {
    const html = renderPage('run.njk', {
      run: { runId: '<b>x</b>', experiment: '"><img src=x onerror=alert(1)>' },
      links: {},
      provenance: { lockfiles: {} },
      spec: { name: '</pre><script>alert(1)</script>' },
      artifacts: [],
      training: { plots: [] },
      generation: { prompts: [] },
      evaluation: [],
    });
    expect(html).not.toMatch(/<script>|<img src=x|<b>x<\/b>/);
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(html).toContain('&lt;/pre&gt;&lt;script&gt;');
  });

  it.skipIf(!hasKvasir)('keeps 200 real images under 10 MB as thumbnails', async () => {
    const files = ['polyp', 'cecum', 'esophagitis', 'ulcerative-colitis'].flatMap((c) => kvasirImages(c, 50));
    let total = 0;
    for (const file of files) {
      const src = await thumbnail(file);
      expect(src).toMatch(/^data:image\/jpeg;base64,/);
      total += src!.length;
    }
    expect(files).toHaveLength(200);
    expect(total).toBeLessThan(10e6);
  });
});
