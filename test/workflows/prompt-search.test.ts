// The prompt search end to end on the tiny preset: real Temporal, MLflow, DuckDB, the real
// trainer generating images and the trained EfficientNet-Lite0 scoring them, on real kvasir-mini
// images with their MEDVQA-GI prompts. It stays within its image budget, reports the best measured
// prompt, skips a category with too few real images with a warning, and ranks the same again.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPromptSearch } from '../../client.ts';
import { parseSpec, resolveSpecPaths, specHash } from '../../experiments/load.ts';
import type { Experiment } from '../../experiments/schema.ts';
import { planCost, planHalving } from '../../prompts/halving.ts';
import { resolvePaths, type Paths } from '../../settings.ts';
import { withStore } from '../../store/index.ts';
import { MlflowClient } from '../../tracking/mlflow-client.ts';
import type { PromptSearchInput, PromptSearchResult } from '../../workflows/prompt-search-messages.ts';
import { hasKvasir, kvasirDir, trainedExtractorDir } from '../metrics/helpers.ts';
import { testServices } from '../helpers/services.ts';
import { startTestWorkers, type TestWorkers } from '../helpers/workers.ts';

const KID = 'prompt.kid_efficientnet_lite0';

/** An imagefolder dataset of real kvasir-mini images with their metadata (prompts, VQA): n per label. */
async function kvasirSample(perLabel: Record<string, number>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'medsynth-prompts-data-'));
  const lines = (await readFile(path.join(kvasirDir, 'metadata.jsonl'), 'utf8')).split('\n').filter(Boolean);
  const kept: string[] = [];
  for (const [label, n] of Object.entries(perLabel)) {
    const rows = lines.map((l) => JSON.parse(l) as { file_name: string; label: string; prompts?: string[] }).filter((r) => r.label === label);
    // images with MEDVQA-GI prompts first: they carry the attributes
    rows.sort((a, b) => Number(Boolean(b.prompts?.length)) - Number(Boolean(a.prompts?.length)) || a.file_name.localeCompare(b.file_name));
    for (const row of rows.slice(0, n)) {
      await mkdir(path.join(root, path.dirname(row.file_name)), { recursive: true });
      await copyFile(path.join(kvasirDir, row.file_name), path.join(root, row.file_name));
      kept.push(JSON.stringify(row));
    }
  }
  await writeFile(path.join(root, 'metadata.jsonl'), `${kept.join('\n')}\n`);
  return root;
}

describe.skipIf(!hasKvasir)('prompt search (tiny preset, real services)', () => {
  let queue = '';
  let workers: TestWorkers | undefined;
  let paths: Paths;
  let client: Client;
  let mlflow: MlflowClient;
  let dataRoot: string;

  beforeAll(async () => {
    const services = testServices();
    const home = await mkdtemp(path.join(os.tmpdir(), 'medsynth-prompts-home-'));
    paths = resolvePaths({ MEDSYNTH_HOME: home });
    await symlink(await trainedExtractorDir(), path.join(home, 'extractors'));
    client = new Client({ connection: await Connection.connect({ address: services.temporalAddress }) });
    mlflow = new MlflowClient(services.mlflowUri);
    dataRoot = await kvasirSample({ polyp: 24, esophagitis: 24, 'impacted-stool': 4 });
    workers = await startTestWorkers('prompts', paths);
    queue = workers.queue;
  }, 300_000);

  afterAll(async () => {
    await workers?.close();
    await client?.connection.close();
  });

  function searchInput(id: string): PromptSearchInput {
    const spec = resolveSpecPaths(
      parseSpec({
        name: 'prompts-tiny',
        dataset: { format: 'imagefolder', path: dataRoot, splits: { train: 0.6, val: 0.3, test: 0.1, seed: 3 } },
        baseModel: { id: 'tiny', resolution: 32 },
        method: { kind: 'lora', steps: 6, batchSize: 2, checkpointEvery: 6, mixedPrecision: 'no', rank: 4, learningRate: 1e-3 },
        generation: { prompts: ['an endoscopy image of a polyp, seen up close'], steps: 2, batchSize: 8 },
        prompts: { budget: 48, imagesPerCandidate: 2, eta: 3, maxCandidates: 6, minRealImages: 4, bootstrap: 100, top: 2, seedPrompts: { esophagitis: ['inflamed oesophagus mucosa'] } },
      }),
    );
    const { generation: _g, prompts: _p, ...rest } = spec;
    const model = rest as Experiment;
    return { searchId: id, spec, specHash: specHash(spec), model: { spec: model, specHash: specHash(model) }, provenance: { gitCommit: null, lockfileHashes: {}, specPath: null, medsynthVersion: 'test' }, gpuTaskQueue: `${queue}-gpu` };
  }

  const sql = (text: string, params: unknown[] = []) => withStore(paths.store, async (s) => (await s.query(text, params as never)).rows, { readOnly: true });
  const ranking = (r: PromptSearchResult) => r.categories.map((c) => ({ category: c.category, best: c.best.map((b) => [b.prompt, b.rounds.map((x) => x.kid)]) }));

  let first: PromptSearchResult;

  it('stays within its budget, skips a category with too few real images, and reports the best measured prompt', async () => {
    const id = `ps-a-${Date.now()}`;
    first = await (await startPromptSearch(client, searchInput(id), queue)).result();

    // impacted-stool has 4 images: too few in its val split to score against
    expect(first.skipped.map((s) => s.category)).toEqual(['impacted-stool']);
    expect(first.skipped[0]!.reason).toMatch(/real val image\(s\); scoring needs minRealImages 4/);
    expect(first.warnings.join('\n')).toMatch(/category impacted-stool skipped/);
    expect(first.categories.map((c) => c.category)).toEqual(['esophagitis', 'polyp']);

    // the budget: every image generated is counted, and never more than the budget
    const provenanceRows = (await sql(`select count(*) from artifacts where run_id = ? and kind = 'prompt-images'`, [id]))[0]![0];
    expect(Number(provenanceRows)).toBe(first.images.length);
    expect(first.generated).toBeLessThanOrEqual(48);
    expect(first.generated).toBe(2 * planCost(planHalving({ candidates: 6, budget: 24, k: 2, eta: 3 })));

    const trials = await sql(`select trial_index, status, objective, pruned_at, json_extract_string(overrides_json, '$.category'), json_extract_string(overrides_json, '$.prompt'), json_array_length(rung_scores_json) from trials where sweep_id = ? order by trial_index`, [id]);
    expect(trials).toHaveLength(12);
    // the seed prompt is a candidate of its category
    expect(trials.some((t) => t[4] === 'esophagitis' && t[5] === 'inflamed oesophagus mucosa')).toBe(true);
    // candidates from the dataset's MEDVQA-GI attributes
    expect(trials.some((t) => /with \d+ polyps?|of size|paris|colours|located/.test(String(t[5])))).toBe(true);
    for (const c of first.categories) {
      const rows = trials.filter((t) => t[4] === c.category);
      // halving: 6 raced with 2 images each, the best 2 went on to 8 images
      expect(rows.filter((t) => t[1] === 'PRUNED').map((t) => Number(t[3]))).toEqual([2, 2, 2, 2]);
      const finalists = rows.filter((t) => t[1] === 'FINISHED');
      expect(finalists).toHaveLength(2);
      // the reported best is the best measured on the most images, and its KID is what DuckDB holds
      const best = finalists.reduce((a, b) => (Number(b[2]) < Number(a[2]) ? b : a));
      expect(c.best[0]!.prompt).toBe(best[5]);
      expect(c.best[0]!.rounds.at(-1)!.kid).toBe(Number(best[2]));
      const recorded = await sql(`select value from metrics where run_id = ? and name = ? and step = 8 and category = ?`, [c.best[0]!.id, KID, c.category]);
      expect(Number(recorded[0]![0])).toBe(c.best[0]!.rounds.at(-1)!.kid);
      const { interval, kid } = c.best[0]!.rounds.at(-1)!;
      expect(interval!.low).toBeLessThanOrEqual(kid);
      expect(interval!.high).toBeGreaterThanOrEqual(kid);
    }

    // MLflow: a parent run and one nested run per candidate
    const experimentId = await mlflow.getOrCreateExperiment('prompts-tiny');
    const nested = await Promise.all(trials.map((t) => mlflow.findRunByTag(experimentId, 'medsynth.run_id', `${id}-c${Number(t[0])}`)));
    for (const run of nested) {
      expect(run!.data.tags.find((t) => t.key === 'mlflow.parentRunId')?.value).toBe(first.mlflowRunId);
      expect(run!.info.status).toBe('FINISHED');
    }

    // the page: every searched category, the best prompts' images
    const html = await readFile(first.report!.file, 'utf8');
    for (const c of first.categories) expect(html).toContain(`id="cat-${c.category}"`);
    expect(html).toContain(first.categories[0]!.best[0]!.prompt.replace(/&/g, '&amp;'));
    expect(html.match(/<img class="synthetic"/g)?.length).toBeGreaterThanOrEqual(2 * 8);
    expect(existsSync(first.report!.file)).toBe(true);
  }, 600_000);

  it('the same seed ranks the same', async () => {
    const again = await (await startPromptSearch(client, searchInput(`ps-b-${Date.now()}`), queue)).result();
    expect(ranking(again)).toEqual(ranking(first));
  }, 600_000);
});
