// An auditor's replay of a recorded run: (1) its inputs, re-hashed against the manifest (a changed
// or missing file refuses the replay, every one named) and the code's commit and lockfiles
// compared; (2) its Temporal history replayed against the current workflow code (the SDK's
// replayer), naming the first divergent event; (3) a re-execution as a new run tagged replay_of,
// compared artifact by artifact; (4) an audit result: a verdict per artifact and one summary line.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { ActivityDeps } from '../activities/deps.ts';
import type { ProvenanceRow } from '../activities/generate.ts';
import { sha256File } from '../artifacts/content-store.ts';
import { startExperiment } from '../client.ts';
import { UserError } from '../errors.ts';
import { renderPage, writePage } from '../reports/html.ts';
import { collectProvenance } from '../experiments/provenance.ts';
import type { Experiment } from '../experiments/schema.ts';
import { withStore } from '../store/index.ts';
import { taskQueues } from '../temporal.config.ts';
import { workflowsPath as currentWorkflows } from '../worker.ts';
import type { ExperimentResult, Provenance, TrainResult } from '../workflows/messages.ts';
import { compareImages, compareMetric, compareTensors, overall, type Comparison, type Verdict } from './compare.ts';

export interface ReplayOptions {
  /** reuse the recorded LoRA instead of training (an auditor without a GPU) */
  skipTrain: boolean;
  /** largest difference still "within tolerance": relative for metrics, absolute for tensors, 0..1 for pixels */
  tolerance: number;
  /** the workflow code to replay the history against (default: this checkout's) */
  workflowsPath?: string;
  replayId?: string;
  taskQueue?: string;
  gpuTaskQueue?: string;
}

export interface Determinism {
  ok: boolean;
  events: number;
  /** the first event the current code does not reproduce, and the SDK's words */
  divergentEvent?: number | null;
  message?: string;
}

export interface AuditResult {
  run: string;
  replay: string | null;
  verdict: Verdict;
  summary: string;
  inputs: { datasetFiles: number; code: string[] };
  determinism: Determinism;
  comparisons: Comparison[];
  /** the audit JSON and its page */
  file?: string;
  page?: string;
}

interface Recorded {
  spec: Experiment;
  specHash: string;
  manifestHash: string;
  gitCommit: string | null;
  images: Array<{ sha256: string; path: string }>;
  weights: { path: string; sha256: string; bytes: number; kind: string } | null;
  generated: Map<string, ProvenanceRow>;
  metrics: Map<string, number>;
}

const metricKey = (name: string, step: number, category: string) => `${name} @${step}${category ? ` [${category}]` : ''}`;
const imageKey = (r: ProvenanceRow) => `image "${r.prompt}" seed ${r.seed}${r.index !== undefined ? ` #${String(r.index)}` : ''}`;

async function recorded(deps: ActivityDeps, runId: string): Promise<Recorded> {
  return withStore(
    deps.paths.store,
    async (store) => {
      const run = (await store.query('select spec_json, spec_hash, dataset_manifest_hash, git_commit, status from runs where run_id = ?', [runId])).rows[0];
      if (!run) throw new UserError(`no run "${runId}" in ${deps.paths.store} (medsynth status lists runs)`);
      if (run[4] !== 'FINISHED') throw new UserError(`run ${runId} is ${String(run[4])}: only a finished run can be replayed`);
      const images = (await store.query('select sha256, path from images where manifest_hash = ? order by idx', [String(run[2])])).rows.map(([sha256, p]) => ({ sha256: String(sha256), path: String(p) }));
      const w = (await store.query(`select path, sha256, bytes, kind from artifacts where run_id = ? and path like 'model/%'`, [runId])).rows[0];
      const generated = new Map<string, ProvenanceRow>();
      for (const [p] of (await store.query('select provenance from generated_images where run_id = ?', [runId])).rows) {
        const row = JSON.parse(String(p)) as ProvenanceRow;
        generated.set(imageKey(row), row);
      }
      const metrics = new Map((await store.getMetrics(runId)).map((m) => [metricKey(m.name, m.step, m.category), m.value]));
      return {
        spec: JSON.parse(String(run[0])) as Experiment,
        specHash: String(run[1]),
        manifestHash: String(run[2]),
        gitCommit: run[3] === null ? null : String(run[3]),
        images,
        weights: w ? { path: String(w[0]), sha256: String(w[1]), bytes: Number(w[2]), kind: String(w[3]) } : null,
        generated,
        metrics,
      };
    },
    { readOnly: true },
  );
}

/** Every dataset file that is missing or whose bytes changed since the manifest was written. */
export async function changedFiles(images: Recorded['images']): Promise<string[]> {
  const problems: string[] = [];
  for (const image of images) {
    if (!existsSync(image.path)) problems.push(`${image.path}: missing`);
    else {
      const now = await sha256File(image.path);
      if (now !== image.sha256) problems.push(`${image.path}: changed (sha256 recorded ${image.sha256.slice(0, 12)}, now ${now.slice(0, 12)})`);
    }
  }
  return problems;
}

/** Commit and lockfile differences between the recorded run and this checkout. */
function codeDifferences(recordedCommit: string | null, recordedLocks: Record<string, string>, now: Provenance): string[] {
  const out: string[] = [];
  if (recordedCommit !== now.gitCommit) out.push(`git commit: recorded ${recordedCommit ?? 'none'}, now ${now.gitCommit ?? 'none'}`);
  for (const file of new Set([...Object.keys(recordedLocks), ...Object.keys(now.lockfileHashes)])) {
    if (recordedLocks[file] !== now.lockfileHashes[file]) out.push(`${file}: recorded ${recordedLocks[file]?.slice(0, 12) ?? 'absent'}, now ${now.lockfileHashes[file]?.slice(0, 12) ?? 'absent'}`);
  }
  return out;
}

/** Replays the run's Temporal history against a workflow code folder; the first divergent event when it does not match. */
export async function checkDeterminism(client: Client, runId: string, workflowsPath = currentWorkflows): Promise<Determinism> {
  const history = await client.workflow.getHandle(runId).fetchHistory();
  const events = history.events?.length ?? 0;
  try {
    await Worker.runReplayHistory({ workflowsPath, bundlerOptions: { ignoreModules: [] } }, history, runId);
    return { ok: true, events };
  } catch (err) {
    const message = (err as Error).message;
    // the SDK names the event by its id, or by the activity type of the scheduled event it expected
    const id = /event[ _]?id[^\d]{0,4}(\d+)/i.exec(message)?.[1];
    const scheduled = /scheduled event '([^']+)'/.exec(message)?.[1];
    const byType = scheduled ? history.events?.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === scheduled)?.eventId : undefined;
    const divergentEvent = id ? Number(id) : byType !== undefined && byType !== null ? Number(byType) : null;
    return { ok: false, events, divergentEvent, message: scheduled && divergentEvent !== null ? `event ${divergentEvent} (ActivityTaskScheduled ${scheduled}): ${message}` : message };
  }
}

export async function replayRun(client: Client, deps: ActivityDeps, runId: string, opts: ReplayOptions): Promise<AuditResult> {
  const rec = await recorded(deps, runId);
  const problems = await changedFiles(rec.images);
  if (problems.length) throw new UserError(`replay of ${runId} refused: ${problems.length} dataset file(s) changed or missing since it ran:\n  ${problems.join('\n  ')}`);
  const tags = (await deps.mlflow.findRunByTag(await deps.mlflow.getOrCreateExperiment(rec.spec.name), 'medsynth.run_id', runId))?.data.tags ?? [];
  const locks = Object.fromEntries(tags.filter((t) => t.key.startsWith('medsynth.lock.')).map((t) => [t.key.slice('medsynth.lock.'.length), t.value]));
  const provenance = await collectProvenance(null);
  const code = codeDifferences(rec.gitCommit, locks, provenance);
  const determinism = await checkDeterminism(client, runId, opts.workflowsPath);

  let reuse: TrainResult | undefined;
  if (opts.skipTrain) {
    if (!rec.weights) throw new UserError(`--skip-train: run ${runId} recorded no trained weights`);
    reuse = { weights: { blob: { sha256: rec.weights.sha256, size: rec.weights.bytes, mediaType: 'application/octet-stream' }, kind: rec.weights.kind as 'lora' | 'unet', name: path.basename(rec.weights.path) }, validation: [], steps: 0, finalLoss: null, images: 0, resumedFrom: null };
  }
  const replayId = opts.replayId ?? `${runId}-replay-${Date.now().toString(36)}`;
  const handle = await startExperiment(
    client,
    { spec: rec.spec, specHash: rec.specHash, provenance, replayOf: runId, ...(reuse ? { reuseTraining: reuse } : {}), ...(opts.gpuTaskQueue ? { gpuTaskQueue: opts.gpuTaskQueue } : {}) },
    replayId,
    opts.taskQueue ?? taskQueues.cpu,
  );
  const result: ExperimentResult = await handle.result();
  const comparisons = await compareRuns(deps, rec, await recorded(deps, replayId), opts);
  if (!determinism.ok) comparisons.unshift({ artifact: 'workflow history', verdict: 'differs', detail: `diverges at event ${determinism.divergentEvent ?? '?'}: ${determinism.message}` });
  else comparisons.unshift({ artifact: 'workflow history', verdict: 'identical', detail: `all ${determinism.events} events replay against the current workflow code` });
  const verdict = overall(comparisons);
  const counts = (v: Verdict) => comparisons.filter((c) => c.verdict === v).length;
  const summary = `replay of ${runId} as ${replayId}: ${verdict.toUpperCase()} (${counts('identical')} identical, ${counts('within tolerance')} within tolerance ${opts.tolerance}, ${counts('differs')} differ)${code.length ? `; code differs from the recorded run: ${code.length} item(s)` : ''}`;
  const audit: AuditResult = { run: runId, replay: replayId, verdict, summary, inputs: { datasetFiles: rec.images.length, code }, determinism, comparisons };
  const dir = path.join(deps.paths.runs, replayId, 'audit');
  await mkdir(dir, { recursive: true });
  audit.file = path.join(dir, 'audit.json');
  await writeFile(audit.file, JSON.stringify(audit, null, 2));
  const page = await writePage(path.join(dir, 'index.html'), renderPage('audit.njk', { version: provenance.medsynthVersion, audit }));
  await deps.mlflow.uploadArtifact(result.mlflowRunId, audit.file, 'audit/audit.json');
  await deps.mlflow.uploadArtifact(result.mlflowRunId, page.file, 'audit/index.html');
  return { ...audit, page: page.file };
}

/**
 * Two finished runs of one spec compared artifact by artifact (a fault test's run against an
 * uninterrupted one, say); the verdicts of `medsynth replay`.
 */
export async function compareFinishedRuns(deps: ActivityDeps, runId: string, otherId: string, tolerance = 0): Promise<Comparison[]> {
  return compareRuns(deps, await recorded(deps, runId), await recorded(deps, otherId), { tolerance, skipTrain: false });
}

async function compareRuns(deps: ActivityDeps, rec: Recorded, other: Recorded, opts: Pick<ReplayOptions, 'tolerance' | 'skipTrain'>): Promise<Comparison[]> {
  const out: Comparison[] = [];
  const tol = opts.tolerance;
  // the manifest: the same hash is the same rows; otherwise count what moved
  if (other.manifestHash === rec.manifestHash) out.push({ artifact: 'dataset manifest', verdict: 'identical', detail: `manifest ${rec.manifestHash.slice(0, 12)}, ${rec.images.length} images` });
  else {
    const before = new Set(rec.images.map((i) => i.sha256));
    const after = new Set(other.images.map((i) => i.sha256));
    out.push({ artifact: 'dataset manifest', verdict: 'differs', detail: `${[...after].filter((s) => !before.has(s)).length} image(s) added, ${[...before].filter((s) => !after.has(s)).length} removed (split or labels may differ too)` });
  }
  // the trained weights
  if (rec.weights && other.weights) {
    if (opts.skipTrain) out.push({ artifact: rec.weights.path, verdict: 'identical', detail: 'reused (--skip-train): the recorded weights, hash-checked by the blob store' });
    else {
      const before = await deps.blobs.get({ sha256: rec.weights.sha256, size: rec.weights.bytes, mediaType: 'application/octet-stream' });
      const after = await deps.blobs.get({ sha256: other.weights.sha256, size: other.weights.bytes, mediaType: 'application/octet-stream' });
      out.push(rec.weights.kind === 'lora' ? await compareTensors(rec.weights.path, before, after, tol) : { artifact: rec.weights.path, verdict: rec.weights.sha256 === other.weights.sha256 ? 'identical' : 'differs', detail: 'UNet folder, compared by its tree hash' });
    }
  }
  // generated images, by prompt, seed and index
  const replayed = other.generated;
  for (const [key, row] of rec.generated) {
    const again = replayed.get(key);
    if (!again) out.push({ artifact: key, verdict: 'differs', detail: 'not generated by the replay' });
    else out.push(await compareImages(key, await deps.blobs.get(row.blob), await deps.blobs.get(again.blob), tol));
  }
  for (const key of replayed.keys()) if (!rec.generated.has(key)) out.push({ artifact: key, verdict: 'differs', detail: 'only in the replay' });
  // the base model and LoRA the images came from, as each generation recorded their hashes
  const [was, again] = [[...rec.generated.values()][0], [...replayed.values()][0]] as Array<(ProvenanceRow & { baseModel?: { weights?: Record<string, string> }; lora?: { sha256?: string } | null }) | undefined>;
  if (was && again) {
    const files = Object.keys({ ...was.baseModel?.weights, ...again.baseModel?.weights });
    const changed = files.filter((f) => was.baseModel?.weights?.[f] !== again.baseModel?.weights?.[f]);
    out.push({ artifact: 'base model weights', verdict: changed.length ? 'differs' : 'identical', detail: changed.length ? `other bytes: ${changed.join(', ')}` : `${files.length} weight files, the same sha256` });
    const same = (was.lora?.sha256 ?? null) === (again.lora?.sha256 ?? null);
    out.push({ artifact: 'LoRA applied at generation', verdict: same ? 'identical' : 'differs', detail: same ? `sha256 ${was.lora?.sha256?.slice(0, 12) ?? 'none'}` : `sha256 ${was.lora?.sha256?.slice(0, 12)} → ${again.lora?.sha256?.slice(0, 12)}` });
  }
  // metrics: every recorded point (training curves are not re-measured when training is skipped)
  const now = other.metrics;
  for (const [key, value] of rec.metrics) {
    if (opts.skipTrain && key.startsWith('train.')) continue;
    out.push(compareMetric(`metric ${key}`, value, now.get(key), tol));
  }
  return out;
}
