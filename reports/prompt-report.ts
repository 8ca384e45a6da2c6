// One self-contained HTML page per prompt search, on the report base: per category the ranked
// candidates (KID with its bootstrap interval, FD, the images each was scored on), the best
// prompts' images beside real ones, and each candidate's KID round by round as halving went.
import type { ProvenanceRow } from '../activities/generate.ts';
import { imageMediaType } from '../activities/ingest.ts';
import { UserError } from '../errors.ts';
import { DEFAULT_FEATURES } from '../metrics/protocols/protocols.ts';
import { rankCandidates } from '../prompts/halving.ts';
import { withStore } from '../store/index.ts';
import type { BlobRef } from '../workflows/messages.ts';
import { PROMPT_IMAGES, promptMetricKeys } from '../workflows/prompt-search-messages.ts';
import { REPORT_DEFAULTS } from './defaults.ts';
import { renderPage, writePage } from './html.ts';
import { lineChart } from './plots.ts';
import type { ReportDeps } from './run-report.ts';
import { thumbnail } from './thumbnails.ts';

interface Row {
  index: number;
  id: string;
  category: string;
  prompt: string;
  source: string;
  status: string;
  prunedAt: number | null;
  rounds: Array<{ images: number; kid: number }>;
  low: number | null;
  high: number | null;
  fd: number | null;
}

export async function renderPromptReport(deps: ReportDeps, searchId: string): Promise<string> {
  const db = await withStore(
    deps.paths.store,
    async (store) => {
      const search = await store.getSweep(searchId);
      if (!search || search.method !== 'prompts') throw new UserError(`no prompt search "${searchId}" in ${deps.paths.store} (medsynth query "select sweep_id from sweeps where method = 'prompts'" lists them)`);
      const spec = JSON.parse(search.spec_json) as { prompts: { top: number; seed: number }; evaluation?: { features?: string } };
      const keys = promptMetricKeys(spec.evaluation?.features ?? DEFAULT_FEATURES);
      const metrics = await store.query(
        `select t.trial_index, m.name, m.value from trials t join metrics m on m.run_id = t.run_id
          where t.sweep_id = ? and m.name in (?, ?, ?) and m.step = coalesce((select max(step) from metrics where run_id = t.run_id and name = ?), 0)`,
        [searchId, keys.low, keys.high, keys.fd, keys.kid],
      );
      const last = new Map<string, number>(metrics.rows.map(([i, name, value]) => [`${Number(i)}/${String(name)}`, Number(value)]));
      const rows: Row[] = (await store.getTrials(searchId)).map((t) => {
        const o = JSON.parse(t.overrides_json) as { category: string; prompt: string; source: string };
        return {
          index: t.trial_index,
          id: t.run_id,
          ...o,
          status: t.status,
          prunedAt: t.pruned_at,
          rounds: (JSON.parse(t.rung_scores_json ?? '[]') as Array<{ step: number; score: number }>).map((r) => ({ images: r.step, kid: r.score })),
          low: last.get(`${t.trial_index}/${keys.low}`) ?? null,
          high: last.get(`${t.trial_index}/${keys.high}`) ?? null,
          fd: last.get(`${t.trial_index}/${keys.fd}`) ?? null,
        };
      });
      const blobs = (await store.query(`select sha256, bytes from artifacts where run_id = ? and kind = ? order by path`, [searchId, PROMPT_IMAGES])).rows.map(
        ([sha256, bytes]): BlobRef => ({ sha256: String(sha256), size: Number(bytes), mediaType: 'application/x-ndjson' }),
      );
      const manifest = (await store.query(`select dataset_manifest_hash from runs where run_id = ?`, [`${searchId}-model`])).rows[0]?.[0];
      const real = manifest
        ? (await store.query(`select sha256, bytes, format, path, label from images where manifest_hash = ? and split = 'val' order by sha256`, [String(manifest)])).rows
        : [];
      return { search, spec, keys, rows, blobs, real };
    },
    { readOnly: true },
  );
  const images = new Map<string, ProvenanceRow[]>();
  for (const blob of db.blobs) {
    for (const row of await deps.blobs.getJsonLines<ProvenanceRow>(blob)) {
      const list = images.get(row.prompt) ?? images.set(row.prompt, []).get(row.prompt)!;
      if (!list.some((r) => r.seed === row.seed)) list.push(row);
    }
  }
  const categories = [];
  for (const category of [...new Set(db.rows.map((r) => r.category))].sort()) {
    const ranked = rankCandidates(db.rows.filter((r) => r.category === category));
    const best = [];
    for (const r of ranked.slice(0, db.spec.prompts.top)) {
      const shown = (images.get(r.prompt) ?? []).sort((a, b) => a.seed - b.seed).slice(0, REPORT_DEFAULTS.perCategory);
      best.push({ ...r, images: await Promise.all(shown.map(async (g) => ({ seed: g.seed, src: await thumbnail(await deps.blobs.get(g.blob)) }))) });
    }
    const realRows = db.real.filter((r) => String(r[4]) === category).slice(0, REPORT_DEFAULTS.perCategory);
    const real = await Promise.all(
      realRows.map(async ([sha256, bytes, format, source]) => thumbnail(await deps.blobs.getLocal({ sha256: String(sha256), size: Number(bytes), mediaType: imageMediaType(String(format)) }, [String(source)]))),
    );
    const series = ranked.filter((r) => r.rounds.length > 0).map((r) => ({ name: `#${r.index}${r.status === 'PRUNED' ? ' (stopped)' : ''}`, points: r.rounds.map((x) => ({ x: x.images, y: x.kid })) }));
    const plot = series.length ? await lineChart({ title: `${category}: KID by images per candidate`, x: 'images per candidate', y: 'KID', series }) : null;
    categories.push({ category, ranked: ranked.map((r, i) => ({ ...r, rank: i + 1, images: r.rounds.at(-1)?.images ?? 0, kid: r.rounds.at(-1)?.kid ?? null })), best, real, plot });
  }
  const tags = db.search.mlflow_run_id ? (await deps.mlflow.getRun(db.search.mlflow_run_id)).data.tags : [];
  const mlflowUi = deps.mlflow.http.baseUrl;
  return renderPage('prompts.njk', {
    version: tags.find((t) => t.key === 'medsynth.version')?.value ?? '',
    search: db.search,
    objective: db.keys.kid,
    categories,
    modelRun: `${searchId}-model`,
    links: {
      mlflow: db.search.mlflow_run_id ? `${mlflowUi}/#/experiments/${db.search.mlflow_experiment_id}/runs/${db.search.mlflow_run_id}` : null,
      temporal: deps.temporalUiUrl ? `${deps.temporalUiUrl}/namespaces/default/workflows/${encodeURIComponent(searchId)}` : null,
    },
  });
}

export async function writePromptReport(deps: ReportDeps, searchId: string, file: string): Promise<{ file: string; bytes: number }> {
  return writePage(file, await renderPromptReport(deps, searchId));
}
