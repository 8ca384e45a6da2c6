import { describe, expect, it } from 'vitest';
import { MlflowError, MlflowParamConflictError } from '../../tracking/mlflow-error.ts';
import { asRecord } from '../../tracking/mlflow-types.ts';
import { freshRun } from './mlflow-fixture.ts';

const at = 1_700_000_000_000;

describe('MlflowClient: params, tags, metrics', () => {
  it('round-trips params, tags and metrics', async () => {
    const { mlflow, runId } = await freshRun('roundtrip');
    await mlflow.logBatch({
      runId,
      params: { 'method.rank': '16', 'method.lr': '0.0001' },
      tags: { 'medsynth.spec_hash': 'abc' },
      metrics: [
        { key: 'train.loss', value: 0.9, step: 0, timestamp: at },
        { key: 'train.loss', value: 0.5, step: 1, timestamp: at + 1 },
        { key: 'fid', value: 110.7, step: 0, timestamp: at },
      ],
    });
    const run = await mlflow.getRun(runId);
    expect(asRecord(run.data.params)).toEqual({ 'method.rank': '16', 'method.lr': '0.0001' });
    expect(asRecord(run.data.tags)).toMatchObject({ 'medsynth.spec_hash': 'abc' });
    expect(await mlflow.getMetricHistory(runId, 'train.loss')).toEqual([
      { key: 'train.loss', value: 0.9, step: 0, timestamp: at },
      { key: 'train.loss', value: 0.5, step: 1, timestamp: at + 1 },
    ]);
    expect(await mlflow.getMetricHistory(runId, 'never-logged')).toEqual([]);
  });

  it('logging the identical batch twice (a retried activity) leaves one point per step', async () => {
    const { mlflow, runId } = await freshRun('idempotent');
    const batch = {
      runId,
      params: { seed: '42' },
      metrics: [0, 1, 2].map((step) => ({ key: 'loss', value: 1 / (step + 1), step, timestamp: at + step })),
    };
    await mlflow.logBatch(batch);
    await mlflow.logBatch(batch);
    const history = await mlflow.getMetricHistory(runId, 'loss');
    expect(history.map((m) => m.step)).toEqual([0, 1, 2]);
  });

  it('a new timestamp for the same step is a second point (why logBatch requires timestamps)', async () => {
    const { mlflow, runId } = await freshRun('timestamps');
    await mlflow.logBatch({ runId, metrics: [{ key: 'loss', value: 0.5, step: 0, timestamp: at }] });
    await mlflow.logBatch({ runId, metrics: [{ key: 'loss', value: 0.5, step: 0, timestamp: at + 1 }] });
    expect(await mlflow.getMetricHistory(runId, 'loss')).toHaveLength(2);
  });

  it('the same param value again is accepted, another value is a MlflowParamConflictError', async () => {
    const { mlflow, runId } = await freshRun('params');
    await mlflow.logBatch({ runId, params: { rank: '16' } });
    await mlflow.logBatch({ runId, params: { rank: '16' } });
    const error = await mlflow.logBatch({ runId, params: { rank: '32' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowParamConflictError);
    expect(error).toBeInstanceOf(MlflowError);
    expect(error).toMatchObject({ status: 400, errorCode: 'INVALID_PARAMETER_VALUE' });
    expect((error as Error).message).toMatch(/write-once/);
    expect(asRecord((await mlflow.getRun(runId)).data.params)).toEqual({ rank: '16' });
  });

  it('splits a batch over MLflow\'s limits (2500 metrics, 150 params, 120 tags)', async () => {
    const { mlflow, runId } = await freshRun('split');
    const metrics = Array.from({ length: 2500 }, (_, step) => ({ key: 'loss', value: step / 10, step, timestamp: at }));
    const params = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`p${i}`, String(i)]));
    const tags = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`t${i}`, String(i)]));
    await mlflow.logBatch({ runId, metrics, params, tags });
    const history = await mlflow.getMetricHistory(runId, 'loss');
    expect(history).toHaveLength(2500);
    expect(history[2499]).toEqual({ key: 'loss', value: 249.9, step: 2499, timestamp: at });
    const run = await mlflow.getRun(runId);
    expect(run.data.params).toHaveLength(150);
    expect(Object.keys(asRecord(run.data.tags)).filter((k) => /^t\d+$/.test(k))).toHaveLength(120);
  });

  it('logs NaN (a diverged loss) and reads it back as NaN', async () => {
    const { mlflow, runId } = await freshRun('nan');
    await mlflow.logBatch({ runId, metrics: [{ key: 'loss', value: Number.NaN, step: 0, timestamp: at }] });
    const [point] = await mlflow.getMetricHistory(runId, 'loss');
    expect(point!.value).toBeNaN();
  });
});
