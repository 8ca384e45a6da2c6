// A challenge's activities (cpu queue): read and check every team folder (nothing in it is run),
// publish what the accepted teams submitted as blobs, score each team's images with the chosen
// protocols, rank them, and write the page. Records: an MLflow parent run with one nested run per
// team, DuckDB rows in sweeps/trials (the sweep engine's tables, method 'challenge') and metrics.
// Every write is an upsert or found by tag, and metric timestamps come from the first start, so a
// rerun of the same folder adds no row anywhere.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { activityInfo, heartbeat } from '@temporalio/activity';
import { readChallengeDir, type Submission } from '../challenge/submission.ts';
import { challengeMetric, rankTeams } from '../challenge/leaderboard.ts';
import { findingsOf } from '../datasets/adapters/findings.ts';
import { runPool } from '../datasets/pool.ts';
import { folderCategories, listImages } from '../metrics/images/list-images.ts';
import { evaluate as evaluateImages } from '../metrics/index.ts';
import { writeChallengeReport } from '../reports/challenge-report.ts';
import { withStore, type MetricPoint } from '../store/index.ts';
import { flattenParams } from '../tracking/flatten.ts';
import type { ChallengeInput, ChallengeStart, LeaderboardEntry, TeamState } from '../workflows/challenge-messages.ts';
import type { EvaluationSummary, ReportResult } from '../workflows/messages.ts';
import type { SweepRef } from '../workflows/sweep-messages.ts';
import type { ActivityDeps } from './deps.ts';
import type { ProvenanceRow } from './generate.ts';
import { keepHeartbeating } from './heartbeat.ts';
import { reportArtifactPath } from './report.ts';
import { logRunArtifact, logRunMetrics } from './run-records.ts';

const asRun = (ref: SweepRef) => ({ runId: ref.sweepId, mlflowRunId: ref.mlflowRunId, mlflowExperimentId: ref.mlflowExperimentId });
const teamRun = (ref: SweepRef, t: TeamState) => ({ runId: t.id, mlflowRunId: t.mlflowRunId, mlflowExperimentId: ref.mlflowExperimentId });

export function challengeActivities(deps: ActivityDeps) {
  const { paths, mlflow, blobs } = deps;

  async function publish(s: Submission & { ok: true }, input: ChallengeInput): Promise<Partial<TeamState>> {
    if (s.kind === 'images') {
      const rows = await Promise.all(s.images.map(async (img, seed) => ({ prompt: img.prompt, seed, path: path.basename(img.file), blob: await blobs.put(img.file, 'image/png') })));
      return { images: await blobs.putJsonLines(rows) };
    }
    if (s.spec.baseModel.id !== input.baseModel.id || (s.spec.baseModel.revision ?? null) !== (input.baseModel.revision ?? null)) {
      throw new Error(`team.yaml names base model ${s.spec.baseModel.id}${s.spec.baseModel.revision ? `@${s.spec.baseModel.revision}` : ''}; this challenge regenerates with ${input.baseModel.id}${input.baseModel.revision ? `@${input.baseModel.revision}` : ''}`);
    }
    return {
      lora: {
        blob: await blobs.put(s.lora, 'application/octet-stream'),
        prompts: await blobs.putJson(s.prompts),
        seeds: s.spec.seeds,
        imagesPerPrompt: s.spec.imagesPerPrompt,
        scheduler: s.spec.scheduler,
        steps: s.spec.steps,
        guidance: s.spec.guidance,
      },
    };
  }

  return {
    /** Reads every team folder; accepted teams' files become blobs, rejected ones keep their reasons. */
    async scanChallenge({ input, temporalRunId, at }: { input: ChallengeInput; temporalRunId: string; at: number }): Promise<ChallengeStart> {
      const { submissions, hidden } = await readChallengeDir(input.dir);
      const metric = challengeMetric(input.protocols);
      const experiment = `challenge-${path.basename(input.dir)}`.replace(/[^\w.-]+/g, '-');
      const experimentId = await mlflow.getOrCreateExperiment(experiment);
      const tags = {
        'medsynth.run_id': input.challengeId,
        'medsynth.kind': 'challenge',
        'medsynth.temporal.workflow_id': input.challengeId,
        'medsynth.version': input.provenance.medsynthVersion,
        ...(input.provenance.gitCommit ? { 'mlflow.source.git.commit': input.provenance.gitCommit } : {}),
      };
      const { run: parent } = await mlflow.ensureRun({ experimentId, runName: input.challengeId, startTime: at, tags });
      const ref: SweepRef = { sweepId: input.challengeId, mlflowExperimentId: experimentId, mlflowRunId: parent.info.run_id };
      await mlflow.logBatch({ runId: ref.mlflowRunId, params: flattenParams({ challenge: { protocols: input.protocols.join(','), baseModel: input.baseModel, bootstrap: input.bootstrap, medvqa2025Mode: input.medvqa2025Mode, teams: submissions.length } }) });

      const teams: TeamState[] = [];
      for (const [index, s] of submissions.entries()) {
        const t: TeamState = { index, team: s.team, id: `${input.challengeId}-${s.team}`, mlflowRunId: '', kind: s.kind, status: s.ok ? 'PENDING' : 'REJECTED', reasons: s.ok ? [] : s.reasons, evaluation: null };
        if (s.ok) {
          try {
            Object.assign(t, await publish(s, input));
          } catch (err) {
            t.status = 'REJECTED';
            t.reasons = [(err as Error).message];
          }
        }
        teams.push(t);
        heartbeat({ done: teams.length, total: submissions.length });
      }
      await runPool(teams.values(), 4, async (t) => {
        const { run } = await mlflow.ensureRun({ experimentId, runName: t.team, startTime: at, tags: { 'mlflow.parentRunId': ref.mlflowRunId, 'medsynth.run_id': t.id, 'medsynth.kind': 'challenge-team', 'medsynth.team': t.team } });
        t.mlflowRunId = run.info.run_id;
        if (t.status === 'REJECTED') {
          await mlflow.setTag(t.mlflowRunId, 'medsynth.rejected', t.reasons.join('; ').slice(0, 5000));
          await mlflow.updateRun(t.mlflowRunId, 'FAILED', at);
        }
      });
      const origin = await withStore(paths.store, async (store) => {
        const known = await store.getSweep(input.challengeId);
        await store.upsertSweep({
          sweep_id: input.challengeId,
          experiment,
          spec_hash: '',
          spec_json: JSON.stringify({ challenge: { ...input, provenance: undefined } }),
          method: 'challenge',
          objective: metric.name,
          mode: metric.mode,
          n_trials: teams.length,
          max_parallel: input.gpuSlots,
          gpu_slots: input.gpuSlots,
          temporal_run_id: temporalRunId,
          mlflow_experiment_id: experimentId,
          mlflow_run_id: ref.mlflowRunId,
          git_commit: input.provenance.gitCommit,
          status: 'RUNNING',
          ...(known?.started_at ? {} : { started_at: new Date(at) }),
        });
        for (const t of teams) {
          await store.upsertTrial({
            sweep_id: input.challengeId,
            trial_index: t.index,
            run_id: t.id,
            overrides_json: JSON.stringify({ team: t.team, kind: t.kind }),
            status: t.status,
            error: t.reasons.length ? t.reasons.join('; ') : null,
          });
        }
        return known?.started_at ? known.started_at.getTime() : at;
      });
      return { challenge: ref, teams, at: origin, hidden };
    },

    /** Scores one team's images with each protocol against the real images; numbers into DuckDB and the team's MLflow run. */
    async scoreTeam({ challenge, input, team, at }: { challenge: SweepRef; input: ChallengeInput; team: TeamState; at: number }): Promise<EvaluationSummary> {
      const rows = await blobs.getJsonLines<ProvenanceRow>(team.images!);
      const fake: string[] = new Array(rows.length);
      // real images: the category is their first folder level; generated ones: the finding their prompt names
      const categories = folderCategories(await listImages(input.real, 'real'));
      await runPool(rows.entries(), 8, async ([i, row]) => {
        fake[i] = await blobs.get(row.blob);
        categories.set(fake[i], findingsOf([row.prompt]).label ?? 'unlabelled');
      });
      let progress = { done: 0, total: 0 };
      const stopBeats = keepHeartbeating(() => progress, activityInfo().heartbeatTimeoutMs);
      const summary: EvaluationSummary = {};
      const points: MetricPoint[] = [];
      const outDir = path.join(paths.runs, team.id, 'evaluate');
      await mkdir(outDir, { recursive: true });
      try {
        for (const protocol of input.protocols) {
          const result = await evaluateImages({
            protocol,
            real: input.real,
            fake,
            categories,
            byCategory: true,
            bootstrap: input.bootstrap,
            medvqa2025Mode: input.medvqa2025Mode,
            extractorDir: path.join(paths.home, 'extractors'),
            cacheDir: path.join(paths.home, 'feature-cache'),
            onProgress: (p) => heartbeat((progress = { done: p.done, total: p.total })),
          });
          const file = path.join(outDir, `${protocol}.json`);
          await writeFile(file, JSON.stringify(result, null, 2));
          await logRunArtifact(deps, teamRun(challenge, team), file, `evaluation/${protocol}.json`, 'evaluation');
          for (const [name, value] of Object.entries(result.metrics)) points.push({ name: `eval.${protocol}.${name}`, step: 0, value });
          for (const [category, c] of Object.entries(result.categories ?? {})) for (const [name, value] of Object.entries(c.metrics)) points.push({ name: `eval.${protocol}.${name}`, step: 0, value, category });
          summary[protocol] = { metrics: result.metrics, counts: result.counts, note: result.note, warnings: result.warnings, extractor: { name: result.extractor.name, sha256: result.extractor.sha256 } };
        }
      } finally {
        stopBeats();
      }
      await logRunMetrics(deps, teamRun(challenge, team), points, at);
      return summary;
    },

    /** Ranks the scored teams, records every team's outcome and closes the runs. */
    async finishChallenge({ challenge, input, teams, at }: { challenge: SweepRef; input: ChallengeInput; teams: TeamState[]; at: number }): Promise<{ leaderboard: LeaderboardEntry[]; metric: string; mode: 'min' | 'max' }> {
      const metric = challengeMetric(input.protocols);
      const scored = teams.flatMap((t) => {
        const m = t.status === 'SCORED' ? t.evaluation?.[metric.protocol]?.metrics : undefined;
        const value = m?.[metric.key];
        return typeof value === 'number' ? [{ team: t.team, value, low: m![metric.low] ?? null, high: m![metric.high] ?? null }] : [];
      });
      const board = rankTeams(scored, metric.mode);
      await withStore(paths.store, async (store) => {
        for (const t of teams) {
          const entry = board.find((b) => b.team === t.team);
          await store.upsertTrial({ sweep_id: challenge.sweepId, trial_index: t.index, status: t.status, objective: entry?.value ?? null, error: t.reasons.length ? t.reasons.join('; ') : null, ended_at: new Date(at) });
        }
        await store.upsertSweep({ sweep_id: challenge.sweepId, status: 'FINISHED', best_run_id: board[0] ? `${challenge.sweepId}-${board[0].team}` : null, best_value: board[0]?.value ?? null, ended_at: new Date() });
      });
      await runPool(teams.filter((t) => t.status !== 'REJECTED').values(), 4, async (t) => {
        const entry = board.find((b) => b.team === t.team);
        if (entry) await mlflow.logBatch({ runId: t.mlflowRunId, metrics: [{ key: 'challenge.rank', value: entry.rank, step: 0, timestamp: at }] });
        await mlflow.updateRun(t.mlflowRunId, t.status === 'SCORED' ? 'FINISHED' : 'FAILED', at);
      });
      for (const t of teams.filter((t) => t.status === 'REJECTED' && t.reasons.length)) await mlflow.setTag(t.mlflowRunId, 'medsynth.rejected', t.reasons.join('; ').slice(0, 5000));
      await mlflow.updateRun(challenge.mlflowRunId, 'FINISHED', Date.now());
      return { leaderboard: board, metric: metric.name, mode: metric.mode };
    },

    async challengeReport({ challenge }: { challenge: SweepRef }): Promise<ReportResult> {
      const file = path.join(paths.runs, challenge.sweepId, 'report', 'index.html');
      const written = await writeChallengeReport(deps, challenge.sweepId, file);
      await logRunArtifact(deps, asRun(challenge), file, reportArtifactPath, 'report');
      return { file: written.file, bytes: written.bytes, uri: `runs:/${challenge.mlflowRunId}/${reportArtifactPath}` };
    },
  };
}

