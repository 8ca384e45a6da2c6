// One self-contained HTML page per run: spec and provenance, dataset, training curves, generated
// images per prompt, real vs synthetic per category, and the evaluation tables. Everything is read
// from where any cpu node can read it: DuckDB, MLflow (tags, evaluation results) and the blob store.
import type { BlobStore } from '../artifacts/blob-store.ts';
import { findingsOf } from '../datasets/adapters/findings.ts';
import { runPool } from '../datasets/pool.ts';
import { UserError } from '../errors.ts';
import type { EvaluationResult } from '../metrics/evaluate.ts';
import type { Paths } from '../settings.ts';
import { withStore, type Store } from '../store/index.ts';
import type { MlflowClient } from '../tracking/mlflow-client.ts';
import { imageMediaType } from '../activities/ingest.ts';
import { renderPage, writePage } from './html.ts';
import { lineChart } from './plots.ts';
import { REPORT_DEFAULTS } from './defaults.ts';
import { thumbnail } from './thumbnails.ts';
import type { UtilitySummary } from '../activities/utility.ts';

export interface ReportDeps {
  paths: Paths;
  mlflow: MlflowClient;
  blobs: BlobStore;
  /** the Temporal UI, when this node knows it (local services) */
  temporalUiUrl?: string;
}

export type RunReportOptions = typeof REPORT_DEFAULTS;

const fetchConcurrency = 8;

type Row = Record<string, unknown>;

async function rowsOf(store: Store, sql: string, params: unknown[]): Promise<Row[]> {
  const r = await store.query(sql, params as never);
  return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]])));
}

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v ? String(v) : null);

/** What DuckDB holds about a run, in one read-only open. */
async function fromStore(paths: Paths, runId: string, options: RunReportOptions) {
  return withStore(
    paths.store,
    async (store) => {
      const [run] = await rowsOf(store, 'select * from runs where run_id = ?', [runId]);
      if (!run) throw new UserError(`no run "${runId}" in ${paths.store} (medsynth query "select run_id, status from runs" lists them)`);
      const manifest = (run.dataset_manifest_hash as string | null) ?? '';
      const spec = JSON.parse(String(run.spec_json ?? '{}')) as Record<string, any>;
      const realSplit = String(spec.evaluation?.realSplit ?? 'test');
      return {
        run,
        spec,
        realSplit,
        dataset: (await rowsOf(store, 'select * from datasets where manifest_hash = ?', [manifest]))[0],
        counts: await rowsOf(
          store,
          `select split, coalesce(label, 'unlabelled') as label, count(*)::INTEGER as n from images
            where manifest_hash = ? group by all order by label, split`,
          [manifest],
        ),
        rejects: await rowsOf(store, 'select source, reason, detail from rejects where manifest_hash = ? order by reason, source limit ?', [manifest, options.rejects]),
        rejectCount: Number((await rowsOf(store, 'select count(*)::INTEGER as n from rejects where manifest_hash = ?', [manifest]))[0]!.n),
        metrics: await rowsOf(store, `select name, step, value from metrics where run_id = ? and name in ('train.loss', 'train.lr') and category = '' order by name, step`, [runId]),
        generated: await rowsOf(store, 'select sha256, prompt, seed, provenance from generated_images where run_id = ? order by prompt, seed, sha256', [runId]),
        real: await rowsOf(
          store,
          `select sha256, bytes, format, path, coalesce(label, 'unlabelled') as label from images
            where manifest_hash = ? and (? = 'all' or split = ?)
            qualify row_number() over (partition by coalesce(label, 'unlabelled') order by sha256) <= ?
            order by label, sha256`,
          [manifest, realSplit, realSplit, options.perCategory],
        ),
        artifacts: await rowsOf(store, 'select path, kind, bytes, sha256 from artifacts where run_id = ? order by path', [runId]),
      };
    },
    { readOnly: true },
  );
}

/** The run's evaluation results, as the evaluate activity logged them to MLflow. */
async function evaluationResults(mlflow: MlflowClient, mlflowRunId: string): Promise<EvaluationResult[]> {
  const files = await mlflow.listArtifacts(mlflowRunId, 'evaluation').catch(() => []);
  const results: EvaluationResult[] = [];
  for (const f of files.filter((f) => !f.is_dir && f.path.endsWith('.json')).sort((a, b) => a.path.localeCompare(b.path))) {
    results.push(JSON.parse((await mlflow.downloadArtifact(mlflowRunId, f.path)).toString('utf8')) as EvaluationResult);
  }
  return results;
}

/** The memorisation check's closest pairs (synthetic beside its nearest training image), when the run made one. */
async function memorisationView(deps: ReportDeps, mlflowRunId: string, options: RunReportOptions) {
  const raw = await deps.mlflow.downloadArtifact(mlflowRunId, 'memorisation/result.json').catch(() => null);
  if (!raw) return null;
  type Ref = { sha256: string; size: number; mediaType: string; path?: string };
  const result = JSON.parse(raw.toString('utf8')) as {
    flagged: number;
    flaggedFraction: number;
    thresholds: { cosine: number; correlation: number };
    pairs: Array<{ synthetic: Ref; byFeatures: { training: Ref; cosine: number }; byPixels: { training: Ref; correlation: number; mirrored: boolean }; flagged: boolean }>;
  };
  const pairs = await Promise.all(
    result.pairs.slice(0, options.perCategory).map(async (p) => ({
      ...p,
      syntheticSrc: await thumbnail(await deps.blobs.get(p.synthetic), options.thumbnails),
      trainingSrc: await thumbnail(await deps.blobs.getLocal(p.byFeatures.training, [p.byFeatures.training.path]), options.thumbnails),
    })),
  );
  return { ...result, pairs, total: result.pairs.length };
}

function evaluationView(e: EvaluationResult) {
  const keys = Object.keys(e.metrics);
  const isBound = (k: string) => /_(low|high)$/.test(k) && keys.includes(k.replace(/_(low|high)$/, ''));
  const metrics = keys
    .filter((k) => !isBound(k))
    .map((name) => ({
      name,
      value: e.metrics[name],
      interval: `${name}_low` in e.metrics ? [e.metrics[`${name}_low`], e.metrics[`${name}_high`]] : null,
    }));
  const categories = Object.entries(e.categories ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const categoryMetricNames = [...new Set(categories.flatMap(([, c]) => Object.keys(c.metrics)))].filter((k) => !isBound(k));
  return {
    protocol: e.protocol,
    note: e.note,
    extractor: e.extractor,
    counts: e.counts,
    metrics,
    categoryMetricNames,
    categories: categories.map(([category, c]) => ({
      category,
      real: c.counts.real,
      fake: c.counts.fake,
      values: categoryMetricNames.map((k) => c.metrics[k] ?? null),
    })),
    warnings: [...e.warnings, ...categories.flatMap(([category, c]) => c.warnings.map((w) => `${category}: ${w}`))],
  };
}

/** The HTML page of a run. */
export async function renderRunReport(deps: ReportDeps, runId: string, opts: Partial<RunReportOptions> = {}): Promise<string> {
  const options = { ...REPORT_DEFAULTS, ...opts };
  const db = await fromStore(deps.paths, runId, options);
  const mlflowRunId = String(db.run.mlflow_run_id ?? '');
  const [mlflowRun, evaluation, memorisation] = mlflowRunId
    ? await Promise.all([deps.mlflow.getRun(mlflowRunId), evaluationResults(deps.mlflow, mlflowRunId), memorisationView(deps, mlflowRunId, options)])
    : [null, [], null];
  // train-on-synthetic, test-on-real, as the utility stage's classify job reported it
  const utilityRaw = mlflowRunId ? await deps.mlflow.downloadArtifact(mlflowRunId, 'utility/classify.json').catch(() => null) : null;
  const utility = utilityRaw ? (JSON.parse(utilityRaw.toString('utf8')) as UtilitySummary) : null;
  const tags = Object.fromEntries((mlflowRun?.data.tags ?? []).map((t) => [t.key, t.value]));

  // training curves
  const series = (name: string) => db.metrics.filter((m) => m.name === name).map((m) => ({ x: Number(m.step), y: Number(m.value) }));
  const loss = series('train.loss');
  const lr = series('train.lr');
  const plots = [];
  if (loss.length) plots.push({ title: 'training loss', src: await lineChart({ title: 'training loss', x: 'step', y: 'loss', series: [{ name: 'loss', points: loss }] }) });
  if (lr.length) plots.push({ title: 'learning rate', src: await lineChart({ title: 'learning rate', x: 'step', y: 'learning rate', series: [{ name: 'lr', points: lr }] }) });

  // generated images, per prompt, and real ones per category
  const byPrompt = new Map<string, Row[]>();
  for (const g of db.generated) byPrompt.set(String(g.prompt), [...(byPrompt.get(String(g.prompt)) ?? []), g]);
  const shown = [...byPrompt.values()].flatMap((rows) => rows.slice(0, options.perPrompt));
  const thumbs = new Map<string, string | null>();
  await runPool(shown.values(), fetchConcurrency, async (g) => {
    const blob = (JSON.parse(String(g.provenance)) as { blob: Parameters<BlobStore['get']>[0] }).blob;
    thumbs.set(String(g.sha256), await thumbnail(await deps.blobs.get(blob), options.thumbnails));
  });
  // filled by index, so the page shows the images in the query's order whatever finishes first
  const realSrc: Array<string | null> = new Array(db.real.length).fill(null);
  await runPool(db.real.entries(), fetchConcurrency, async ([i, r]) => {
    const ref = { sha256: String(r.sha256), size: Number(r.bytes), mediaType: imageMediaType(String(r.format)) };
    realSrc[i] = await thumbnail(await deps.blobs.getLocal(ref, [String(r.path)]), options.thumbnails);
  });
  const realThumbs = new Map<string, string[]>();
  db.real.forEach((r, i) => {
    if (realSrc[i]) realThumbs.set(String(r.label), [...(realThumbs.get(String(r.label)) ?? []), realSrc[i]!]);
  });
  const synthByCategory = new Map<string, string[]>();
  for (const g of shown) {
    const category = findingsOf([String(g.prompt)]).label ?? 'unlabelled';
    const src = thumbs.get(String(g.sha256));
    if (src) synthByCategory.set(category, [...(synthByCategory.get(category) ?? []), src].slice(0, options.perCategory));
  }

  // dataset counts as a label x split table
  const splits = [...new Set(db.counts.map((c) => String(c.split)))].sort();
  const labels = [...new Set(db.counts.map((c) => String(c.label)))].sort();
  const count = (label: string, split: string) => Number(db.counts.find((c) => c.label === label && c.split === split)?.n ?? 0);

  const mlflowUi = deps.mlflow.http.baseUrl;
  return renderPage('run.njk', {
    version: tags['medsynth.version'] ?? '',
    run: {
      runId,
      experiment: db.run.experiment,
      status: db.run.status,
      startedAt: iso(db.run.started_at),
      endedAt: iso(db.run.ended_at),
      error: db.run.error,
      specHash: db.run.spec_hash,
      gitCommit: db.run.git_commit,
      manifestHash: db.run.dataset_manifest_hash,
      temporalWorkflowId: db.run.temporal_workflow_id,
      temporalRunId: db.run.temporal_run_id,
      mlflowRunId,
    },
    links: {
      mlflow: mlflowRunId ? `${mlflowUi}/#/experiments/${db.run.mlflow_experiment_id}/runs/${mlflowRunId}` : null,
      temporal: deps.temporalUiUrl ? `${deps.temporalUiUrl}/namespaces/default/workflows/${encodeURIComponent(runId)}` : null,
    },
    provenance: {
      version: tags['medsynth.version'],
      rng: tags['medsynth.rng'],
      lockfiles: Object.fromEntries(Object.entries(tags).filter(([k]) => k.startsWith('medsynth.lock.')).map(([k, v]) => [k.slice('medsynth.lock.'.length), v])),
    },
    spec: db.spec,
    artifacts: db.artifacts,
    dataset: db.dataset && {
      name: db.dataset.name,
      format: db.dataset.format,
      source: db.dataset.source,
      images: Number(db.dataset.n_images),
      rejected: Number(db.dataset.n_rejects),
      duplicatesMerged: Number(db.dataset.n_duplicates_merged),
      splits,
      byLabel: labels.map((label) => {
        const counts = splits.map((s) => count(label, s));
        return { label, counts, total: counts.reduce((a, b) => a + b, 0) };
      }),
      rejects: db.rejects,
      rejectsNotShown: Math.max(0, db.rejectCount - db.rejects.length),
    },
    training: {
      method: db.spec.method?.kind ?? null,
      steps: loss.at(-1)?.x ?? null,
      finalLoss: loss.at(-1)?.y ?? null,
      plots,
    },
    generation: {
      images: db.generated.length,
      notShown: db.generated.length - shown.length,
      prompts: [...byPrompt].map(([prompt, rows]) => ({
        prompt,
        images: rows.slice(0, options.perPrompt).flatMap((g) => {
          const src = thumbs.get(String(g.sha256));
          return src ? [{ seed: g.seed, src }] : [];
        }),
      })),
      categories: [...synthByCategory.keys()].sort().map((category) => ({
        category,
        realSplit: db.realSplit,
        real: realThumbs.get(category) ?? [],
        synthetic: synthByCategory.get(category)!,
      })),
    },
    evaluation: evaluation.map(evaluationView),
    memorisation,
    utility: utility ? { ...utility, regimes: Object.entries(utility.regimes).map(([name, r]) => ({ name, ...r })) } : null,
  });
}

/** Writes the page of a run to `file` (folders created); returns its path and size. */
export async function writeRunReport(deps: ReportDeps, runId: string, file: string, opts: Partial<RunReportOptions> = {}): Promise<{ file: string; bytes: number }> {
  return writePage(file, await renderRunReport(deps, runId, opts));
}
