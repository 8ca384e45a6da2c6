// A sweep's records (cpu queue): its MLflow parent run, under which every trial's run is nested
// (mlflow.parentRunId, see start-run.ts), and its DuckDB rows in `sweeps` and `trials`. Every
// write is idempotent: a retry finds the parent run by its tag and upserts the same rows.
import path from 'node:path';
import { writeSweepReport } from '../reports/sweep-report.ts';
import { withStore } from '../store/index.ts';
import { flattenParams } from '../tracking/flatten.ts';
import type { ReportResult } from '../workflows/messages.ts';
import type { SweepInput, SweepRef, TrialState } from '../workflows/sweep-messages.ts';
import type { ActivityDeps } from './deps.ts';
import type { RunStatus } from './finish-run.ts';
import { reportArtifactPath } from './report.ts';
import { logRunArtifact } from './run-records.ts';
import { runTags } from './start-run.ts';

export interface StartSweepInput extends SweepInput {
  temporalRunId: string;
  at: number;
}

const asRun = (sweep: SweepRef) => ({ runId: sweep.sweepId, mlflowRunId: sweep.mlflowRunId, mlflowExperimentId: sweep.mlflowExperimentId });
const terminal = new Set(['FINISHED', 'FAILED', 'KILLED', 'SKIPPED', 'PRUNED']);

/** What a starting sweep (or prompt search) records in DuckDB. */
export interface SweepStart {
  sweepId: string;
  input: Pick<StartSweepInput, 'spec' | 'specHash' | 'temporalRunId' | 'at' | 'provenance'>;
  experimentId: string;
  mlflowRunId: string;
  method: string;
  objective: string;
  mode: 'min' | 'max';
  maxParallel: number;
  gpuSlots: number;
  trials: ReadonlyArray<{ index: number; id: string; overrides: unknown }>;
}

/** Its `sweeps` row, RUNNING, and a PENDING row for each trial not recorded yet: a retry must not reset a trial that has already moved on. */
export async function recordSweepStart(storePath: string, s: SweepStart): Promise<void> {
  const { input } = s;
  await withStore(storePath, async (store) => {
    await store.upsertSweep({
      sweep_id: s.sweepId,
      experiment: input.spec.name,
      spec_hash: input.specHash,
      spec_json: JSON.stringify(input.spec),
      method: s.method,
      objective: s.objective,
      mode: s.mode,
      n_trials: s.trials.length,
      max_parallel: s.maxParallel,
      gpu_slots: s.gpuSlots,
      temporal_run_id: input.temporalRunId,
      mlflow_experiment_id: s.experimentId,
      mlflow_run_id: s.mlflowRunId,
      git_commit: input.provenance.gitCommit,
      status: 'RUNNING',
      started_at: new Date(input.at),
    });
    const known = new Set((await store.getTrials(s.sweepId)).map((t) => t.trial_index));
    for (const trial of s.trials.filter((t) => !known.has(t.index))) {
      await store.upsertTrial({ sweep_id: s.sweepId, trial_index: trial.index, run_id: trial.id, overrides_json: JSON.stringify(trial.overrides), status: 'PENDING' });
    }
  });
}

export function sweepRecordActivities(deps: ActivityDeps) {
  const { paths, mlflow } = deps;
  return {
    async startSweep(input: StartSweepInput): Promise<SweepRef> {
      const { spec, sweepId, objective } = input;
      const settings = spec.sweep!;
      const experimentId = await mlflow.getOrCreateExperiment(spec.name);
      const tags = { ...runTags({ ...input, runId: sweepId }, paths.store), 'medsynth.kind': 'sweep' };
      const mlflowRunId = (await mlflow.ensureRun({ experimentId, runName: sweepId, startTime: input.at, tags })).run.info.run_id;
      const params = {
        ...flattenParams({ sweep: { ...settings, objective } }),
        'sweep.trials': String(input.trials.length),
      };
      await mlflow.logBatch({ runId: mlflowRunId, params });
      await recordSweepStart(paths.store, {
        sweepId,
        input,
        experimentId,
        mlflowRunId,
        method: settings.method,
        objective: objective.metric,
        mode: objective.mode,
        maxParallel: settings.maxParallel,
        gpuSlots: settings.gpuSlots,
        trials: input.trials,
      });
      return { sweepId, mlflowExperimentId: experimentId, mlflowRunId };
    },

    async recordTrial({ sweep, trial, at }: { sweep: SweepRef; trial: TrialState; at: number }): Promise<void> {
      const ended = terminal.has(trial.status);
      await withStore(paths.store, (store) =>
        store.upsertTrial({
          sweep_id: sweep.sweepId,
          trial_index: trial.index,
          run_id: trial.id,
          overrides_json: JSON.stringify(trial.overrides),
          status: trial.status,
          objective: trial.objective,
          error: trial.error,
          rung_scores_json: JSON.stringify(trial.rungs),
          pruned_at: trial.prunedAt,
          ...(trial.status === 'RUNNING' ? { started_at: new Date(at) } : {}),
          ...(ended ? { ended_at: new Date(at) } : {}),
        }),
      );
      // the parent run's objective curve, one point per trial (its index is the step)
      if (ended && trial.objective !== null) {
        await mlflow.logBatch({ runId: sweep.mlflowRunId, metrics: [{ key: 'trial.objective', value: trial.objective, step: trial.index, timestamp: at }] });
      }
    },

    async finishSweep({ sweep, status, best, error }: { sweep: SweepRef; status: RunStatus; best: TrialState | null; error?: string }): Promise<void> {
      const endTime = Date.now();
      if (best) {
        await mlflow.logBatch({
          runId: sweep.mlflowRunId,
          metrics: best.objective === null ? [] : [{ key: 'best.objective', value: best.objective, step: 0, timestamp: endTime }],
          tags: { 'medsynth.best_run_id': best.id },
        });
      }
      if (error) await mlflow.setTag(sweep.mlflowRunId, 'medsynth.error', error.slice(0, 5000));
      await mlflow.updateRun(sweep.mlflowRunId, status, endTime);
      await withStore(paths.store, (store) =>
        store.upsertSweep({
          sweep_id: sweep.sweepId,
          status,
          best_run_id: best?.id ?? null,
          best_value: best?.objective ?? null,
          ended_at: new Date(endTime),
          error: error ?? null,
        }),
      );
    },

    /** The sweep's HTML page, on the report base: trials, leaderboard, heatmap over two axes. */
    async sweepReport({ sweep }: { sweep: SweepRef }): Promise<ReportResult> {
      const file = path.join(paths.runs, sweep.sweepId, 'report', 'index.html');
      const written = await writeSweepReport(deps, sweep.sweepId, file);
      await logRunArtifact(deps, asRun(sweep), file, reportArtifactPath, 'report');
      return { file: written.file, bytes: written.bytes, uri: `runs:/${sweep.mlflowRunId}/${reportArtifactPath}` };
    },
  };
}
