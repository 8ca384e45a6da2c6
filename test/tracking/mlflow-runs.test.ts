import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MlflowClient } from '../../tracking/mlflow-client.ts';
import { MlflowError } from '../../tracking/mlflow-error.ts';
import { asRecord } from '../../tracking/mlflow-types.ts';
import { testServices } from '../helpers/services.ts';
import { freshRun } from './mlflow-fixture.ts';

describe('MlflowClient: experiments and runs', () => {
  const mlflow = () => new MlflowClient(testServices().mlflowUri);

  it('getOrCreateExperiment returns the same id every time', async () => {
    const name = `test-experiment-${randomUUID()}`;
    const first = await mlflow().getOrCreateExperiment(name, { team: 'gi' });
    expect(await mlflow().getOrCreateExperiment(name)).toBe(first);
    const experiment = await mlflow().getExperimentByName(name);
    expect(experiment).toMatchObject({ experiment_id: first, name, lifecycle_stage: 'active' });
    expect(experiment!.artifact_location).toMatch(/^mlflow-artifacts:/);
    expect(asRecord(experiment!.tags ?? [])).toMatchObject({ team: 'gi' });
  });

  it('creates a run with tags, finds it by tag, and closes it', async () => {
    const client = mlflow();
    const experimentId = await client.getOrCreateExperiment(`test-runs-${randomUUID()}`);
    const key = randomUUID();
    const created = await client.createRun({ experimentId, runName: 'lora-r16', startTime: 1_700_000_000_000, tags: { 'medsynth.run_id': key, 'mlflow.source.name': 'medsynth' } });
    expect(created.info).toMatchObject({ experiment_id: experimentId, run_name: 'lora-r16', status: 'RUNNING', start_time: 1_700_000_000_000 });

    const found = await client.findRunByTag(experimentId, 'medsynth.run_id', key);
    expect(found?.info.run_id).toBe(created.info.run_id);
    expect(await client.findRunByTag(experimentId, 'medsynth.run_id', 'no-such-run')).toBeUndefined();

    await client.setTag(created.info.run_id, 'medsynth.note', "it's fine");
    expect((await client.findRunByTag(experimentId, 'medsynth.note', "it's fine"))?.info.run_id).toBe(created.info.run_id);

    // MLflow silently ignores a status it does not know, so the client refuses it.
    await expect(client.updateRun(created.info.run_id, 'DONE' as 'FINISHED')).rejects.toThrow(/status DONE/);
    const closed = await client.updateRun(created.info.run_id, 'FINISHED', 1_700_000_100_000);
    expect(closed).toMatchObject({ status: 'FINISHED', end_time: 1_700_000_100_000 });
    const run = await client.getRun(created.info.run_id);
    expect(run.info.status).toBe('FINISHED');
    expect(asRecord(run.data.tags)).toMatchObject({ 'medsynth.run_id': key, 'medsynth.note': "it's fine", 'mlflow.runName': 'lora-r16' });
  });

  it('4xx answers are MlflowErrors with MLflow\'s code, and are not retried', async () => {
    let requests = 0;
    const counting: typeof fetch = (input, init) => {
      requests++;
      return fetch(input, init);
    };
    const client = new MlflowClient(testServices().mlflowUri, { fetch: counting, retryDelayMs: 1 });
    const error = await client.getRun('0123456789abcdef0123456789abcdef').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowError);
    expect(error).toMatchObject({ status: 404, errorCode: 'RESOURCE_DOES_NOT_EXIST', endpoint: 'runs/get', retryable: false });
    expect(requests).toBe(1);

    const { runId } = await freshRun('bad-metric');
    const invalid = await client.logBatch({ runId, metrics: [{ key: 'k'.repeat(300), value: 1, step: 0, timestamp: 1 }] }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(MlflowError);
    expect(invalid).toMatchObject({ status: 400, errorCode: 'INVALID_PARAMETER_VALUE', endpoint: 'runs/log-batch' });
    expect(requests).toBe(2);
  });
});
