import { access, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServices, servicesDown, servicesStatus, servicesUp, type ServicesInfo } from '../../services/index.ts';
import { mlflowHealthy, temporalHealthy } from '../../services/health.ts';
import { projectRoot, stateFilePath } from '../../services/paths.ts';
import { isOurProcess, processGroupAlive } from '../../services/processes.ts';
import { testServices } from '../helpers/services.ts';

/** This process's env without the variables that would make the servers external. */
const localEnv = (): NodeJS.ProcessEnv => {
  const { TEMPORAL_ADDRESS: _t, MLFLOW_TRACKING_URI: _m, ...env } = process.env;
  return env;
};

const exists = (path: string) => access(path).then(() => true, () => false);

// Its own state directory: the servers of the global setup must not be touched.
describe('servicesUp / servicesStatus / servicesDown on a fresh state directory', () => {
  let stateDir: string;
  let first: ServicesInfo;

  beforeAll(async () => {
    await mkdir(join(projectRoot, '.medsynth-test'), { recursive: true });
    stateDir = await mkdtemp(join(projectRoot, '.medsynth-test', 'lifecycle-'));
  });
  afterAll(async () => {
    await servicesDown(stateDir);
    await rm(stateDir, { recursive: true, force: true });
  });

  it('up starts Temporal and MLflow on 127.0.0.1 and records them in services.json', async () => {
    first = await servicesUp({ stateDir, env: localEnv() });
    expect(first.external).toEqual({ temporal: false, mlflow: false });
    expect(first.reused).toEqual({ temporal: false, mlflow: false });
    expect(first.temporalAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(first.mlflowUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(first.temporalUiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await temporalHealthy(first.temporalAddress)).toBe(true);
    expect(await mlflowHealthy(first.mlflowUri)).toBe(true);

    const recorded = JSON.parse(await readFile(stateFilePath(stateDir), 'utf8'));
    expect(recorded.temporal).toMatchObject({ pid: first.local.temporal!.pid, address: first.temporalAddress, logPath: join(stateDir, 'temporal.log') });
    expect(recorded.mlflow).toMatchObject({ pid: first.local.mlflow!.pid, uri: first.mlflowUri, logPath: join(stateDir, 'mlflow.log') });
    expect(recorded.mlflow.command).toContain(`sqlite:///${join(stateDir, 'mlflow.db')}`);

    const status = await servicesStatus(stateDir, localEnv());
    expect(status.temporal).toMatchObject({ state: 'running', pid: first.local.temporal!.pid, endpoint: first.temporalAddress });
    expect(status.mlflow).toMatchObject({ state: 'running', pid: first.local.mlflow!.pid, endpoint: first.mlflowUri });
    expect(await resolveServices(stateDir, localEnv())).toEqual({
      temporalAddress: first.temporalAddress,
      temporalUiUrl: first.temporalUiUrl,
      mlflowUri: first.mlflowUri,
      mlflowUiUrl: first.mlflowUri,
      external: { temporal: false, mlflow: false },
    });
  });

  it('up again reuses the same processes', async () => {
    const again = await servicesUp({ stateDir, env: localEnv() });
    expect(again.reused).toEqual({ temporal: true, mlflow: true });
    expect(again.local.temporal!.pid).toBe(first.local.temporal!.pid);
    expect(again.local.mlflow!.pid).toBe(first.local.mlflow!.pid);
    expect(again.temporalAddress).toBe(first.temporalAddress);
  });

  it('an env-named MLflow is external; the local Temporal is still reused', async () => {
    const env = { ...localEnv(), MLFLOW_TRACKING_URI: testServices().mlflowUri };
    const mixed = await servicesUp({ stateDir, env });
    expect(mixed.external).toEqual({ temporal: false, mlflow: true });
    expect(mixed.mlflowUri).toBe(testServices().mlflowUri);
    expect(mixed.local.temporal!.pid).toBe(first.local.temporal!.pid);
    expect(mixed.local.mlflow).toBeUndefined();
    const status = await servicesStatus(stateDir, env);
    expect(status.mlflow).toEqual({ state: 'external', endpoint: testServices().mlflowUri, reachable: true });
    expect(status.temporal.state).toBe('running');
    expect((await resolveServices(stateDir, env)).mlflowUri).toBe(testServices().mlflowUri);
  });

  it('down stops both process groups and removes services.json', async () => {
    const temporal = first.local.temporal!;
    const mlflow = first.local.mlflow!;
    await servicesDown(stateDir);
    expect(await isOurProcess(temporal.pid, temporal.command)).toBe(false);
    expect(await isOurProcess(mlflow.pid, mlflow.command)).toBe(false);
    expect(await processGroupAlive(mlflow.pid)).toBe(false); // uvicorn, MLflow's child, is gone too
    expect(await exists(stateFilePath(stateDir))).toBe(false);
    const status = await servicesStatus(stateDir, localEnv());
    expect(status.temporal.state).toBe('stopped');
    expect(status.mlflow.state).toBe('stopped');
    await expect(resolveServices(stateDir, localEnv())).rejects.toThrow(/Temporal is not running .*services up.*TEMPORAL_ADDRESS/);
    await servicesDown(stateDir); // nothing left to stop: no error
  });
});

describe('external servers', () => {
  it('with TEMPORAL_ADDRESS and MLFLOW_TRACKING_URI set, up starts nothing', async () => {
    const stateDir = await mkdtemp(join(projectRoot, '.medsynth-test', 'external-'));
    try {
      const { temporalAddress, mlflowUri } = testServices();
      const env = { ...localEnv(), TEMPORAL_ADDRESS: temporalAddress, MLFLOW_TRACKING_URI: `${mlflowUri}/` };
      const info = await servicesUp({ stateDir, env });
      expect(info).toMatchObject({ temporalAddress, mlflowUri, external: { temporal: true, mlflow: true }, local: {} });
      expect(info.temporalUiUrl).toBeUndefined();
      expect(await exists(stateFilePath(stateDir))).toBe(false);
      const status = await servicesStatus(stateDir, env);
      expect(status.temporal).toEqual({ state: 'external', endpoint: temporalAddress, reachable: true });
      expect(status.mlflow).toEqual({ state: 'external', endpoint: mlflowUri, reachable: true });
      expect(await resolveServices(stateDir, env)).toMatchObject({ temporalAddress, mlflowUri, external: { temporal: true, mlflow: true } });
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('refuses a non-HTTP MLFLOW_TRACKING_URI', async () => {
    await expect(resolveServices('/nonexistent', { MLFLOW_TRACKING_URI: 'file:./mlruns' })).rejects.toThrow(/http/);
  });
});
