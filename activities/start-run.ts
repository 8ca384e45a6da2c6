// Opens the run in MLflow and DuckDB. Idempotent: a retry finds the MLflow run by its
// medsynth.run_id tag instead of creating a second one.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { withStore } from '../store/index.ts';
import { flattenParams } from '../tracking/flatten.ts';
import type { ExperimentInput, RunRef } from '../workflows/messages.ts';
import type { ActivityDeps } from './deps.ts';
import { redactSecrets } from '../secrets.ts';

export interface StartRunInput extends ExperimentInput {
  runId: string;
  temporalRunId: string;
  at: number;
}

export function runTags(input: StartRunInput, storePath: string): Record<string, string> {
  const { provenance } = input;
  return {
    'mlflow.runName': input.runId,
    'mlflow.source.name': 'medsynth',
    ...(provenance.gitCommit ? { 'mlflow.source.git.commit': provenance.gitCommit } : {}),
    'medsynth.run_id': input.runId,
    'medsynth.spec_hash': input.specHash,
    'medsynth.temporal.workflow_id': input.runId,
    'medsynth.temporal.run_id': input.temporalRunId,
    'medsynth.duckdb': storePath,
    'medsynth.version': provenance.medsynthVersion,
    ...(provenance.specPath ? { 'medsynth.spec_path': provenance.specPath } : {}),
    ...Object.fromEntries(Object.entries(provenance.lockfileHashes).map(([f, h]) => [`medsynth.lock.${f}`, h])),
    // a sweep's trial is nested under the sweep's MLflow run
    ...(input.sweep
      ? {
          'mlflow.parentRunId': input.sweep.mlflowRunId,
          'medsynth.sweep_id': input.sweep.sweepId,
          'medsynth.trial_index': String(input.sweep.trialIndex),
          'medsynth.trial_overrides': JSON.stringify(input.sweep.overrides),
        }
      : {}),
    ...(input.replayOf ? { 'medsynth.replay_of': input.replayOf } : {}),
    ...input.spec.tags,
  };
}

export function startRunActivity({ paths, mlflow }: ActivityDeps) {
  return async function startRun(input: StartRunInput): Promise<RunRef> {
    const { spec, runId } = input;
    const experimentId = await mlflow.getOrCreateExperiment(spec.name);
    const mlflowRunId = (await mlflow.ensureRun({ experimentId, runName: runId, startTime: input.at, tags: runTags(input, paths.store) })).run.info.run_id;
    const params = flattenParams(spec);
    const specFile = path.join(paths.runs, runId, 'spec.json');
    await mkdir(path.dirname(specFile), { recursive: true });
    // the artifact others browse: a secret value pasted into the spec does not travel with it
    await writeFile(specFile, redactSecrets(JSON.stringify(spec, null, 2)));

    // Independent writes, each idempotent: MLflow params, the spec artifact, the DuckDB rows.
    const logParams = mlflow.logBatch({ runId: mlflowRunId, params });
    const uploadSpec = mlflow.uploadArtifact(mlflowRunId, specFile, 'spec.json');
    const storeRun = withStore(paths.store, async (store) => {
      await store.upsertRun({
        run_id: runId,
        name: runId,
        experiment: spec.name,
        spec_hash: input.specHash,
        spec_json: JSON.stringify(spec),
        temporal_workflow_id: runId,
        temporal_run_id: input.temporalRunId,
        mlflow_experiment_id: experimentId,
        mlflow_run_id: mlflowRunId,
        git_commit: input.provenance.gitCommit,
        status: 'RUNNING',
        started_at: new Date(input.at),
      });
      await store.logParams(runId, params);
    });
    await Promise.all([logParams, uploadSpec, storeRun]);
    return { runId, mlflowExperimentId: experimentId, mlflowRunId };
  };
}
