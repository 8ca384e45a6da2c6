// Security checks of issue 16, item 5: (a) no path from a spec, CSV, archive or submission
// escapes its root; (b) the services listen on loopback only; (c) secret env values never reach
// MLflow params and tags, DuckDB, logs or reports. (d), untrusted weights never unpickled, is
// trainer/tests/test_untrusted_weights.py: the trainer is Python.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeDeps } from '../../activities/deps.ts';
import { finishRunActivity } from '../../activities/finish-run.ts';
import { startRunActivity } from '../../activities/start-run.ts';
import { parseSpec, specHash } from '../../experiments/load.ts';
import { collectProvenance } from '../../experiments/provenance.ts';
import { renderRunReport } from '../../reports/run-report.ts';
import { redactSecrets, secretValues } from '../../secrets.ts';
import { servicesDown, servicesUp, type ServicesInfo } from '../../services/index.ts';
import { projectRoot } from '../../services/paths.ts';
import { resolvePaths } from '../../settings.ts';
import { withStore } from '../../store/index.ts';
import { MlflowClient } from '../../tracking/mlflow-client.ts';
import { escapesByRoot, runBadInputCorpus } from './bad-inputs.ts';
import { isLoopback, listeningSockets, processTree } from './listening-sockets.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medsynth-security-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('paths stay inside their root', () => {
  let byRoot: ReturnType<typeof escapesByRoot>;
  beforeAll(async () => {
    byRoot = escapesByRoot((await runBadInputCorpus(path.join(dir, 'corpus'))).cases);
  }, 120_000);

  it.each(['spec', 'csv', 'archive', 'submission', 'dataset'] as const)('%s: every escape attempt of the corpus is refused and nothing outside is read', (root) => {
    const attempts = byRoot.get(root) ?? [];
    expect(attempts.length, `escape cases for ${root}`).toBeGreaterThan(0);
    expect(attempts.filter((c) => !c.handled).map((c) => `${c.name}: ${c.message}`)).toEqual([]);
  });
});

/** This process's env without the variables that would make the servers external. */
const localEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
  const { TEMPORAL_ADDRESS: _t, MLFLOW_TRACKING_URI: _m, ...env } = process.env;
  return { ...env, ...extra };
};

const secrets = {
  MEDSYNTH_RELIABILITY_TOKEN: `tok-${randomBytes(12).toString('hex')}`,
  HF_TOKEN: `hf_${randomBytes(16).toString('hex')}`,
  MLFLOW_TRACKING_TOKEN: `mlf-${randomBytes(12).toString('hex')}`,
  AWS_SECRET_ACCESS_KEY: randomBytes(20).toString('base64url'),
};

describe('the started services and what they record', () => {
  let stateDir: string;
  let info: ServicesInfo;
  beforeAll(async () => {
    await mkdir(path.join(projectRoot, '.medsynth-test'), { recursive: true });
    stateDir = await mkdtemp(path.join(projectRoot, '.medsynth-test', 'security-'));
    info = await servicesUp({ stateDir, env: localEnv(secrets) });
  });
  afterAll(async () => {
    await servicesDown(stateDir);
    await rm(stateDir, { recursive: true, force: true });
  });

  it('every socket the Temporal and MLflow processes listen on is bound to loopback', async () => {
    const pids = await processTree([info.local.temporal!.pid, info.local.mlflow!.pid]);
    const sockets = await listeningSockets(pids);
    const ports = new Set(sockets.map((s) => s.port));
    // the endpoints we connect to are among them: the check sees the real sockets
    for (const endpoint of [info.temporalAddress, info.mlflowUri, info.temporalUiUrl!]) expect(ports, endpoint).toContain(Number(/:(\d+)$/.exec(endpoint)![1]));
    expect(sockets.filter((s) => !isLoopback(s.address))).toEqual([]);
  });

  it('secret env values reach neither MLflow params and tags, DuckDB, the report nor the logs', async () => {
    const saved = Object.fromEntries(Object.keys(secrets).map((k) => [k, process.env[k]]));
    Object.assign(process.env, secrets);
    try {
      expect(secretValues().map((s) => s.name).sort()).toEqual(Object.keys(secrets).sort());
      const paths = resolvePaths({ MEDSYNTH_HOME: path.join(dir, 'home') });
      const mlflow = new MlflowClient(info.mlflowUri);
      const deps = nodeDeps(paths, mlflow);
      // user text quoting secrets: a tag pasted from a shell, a dataset path holding a token
      const spec = parseSpec({
        name: 'security-secrets',
        dataset: { format: 'class-folders', path: `/data/${secrets.HF_TOKEN}/kvasir` },
        tags: { note: `token ${secrets.MEDSYNTH_RELIABILITY_TOKEN}`, aws: secrets.AWS_SECRET_ACCESS_KEY },
      });
      const runId = `security-${Date.now()}`;
      const run = await startRunActivity(deps)({ runId, temporalRunId: 't', at: Date.now(), spec, specHash: specHash(spec), provenance: await collectProvenance(null) });
      // an error that quotes a URL with a token in it, as a failed HTTP call would
      await finishRunActivity(deps)({ run, status: 'FAILED', error: `no response from http://medsynth:${encodeURIComponent(secrets.MLFLOW_TRACKING_TOKEN)}@mlflow.example:5000` });
      const report = await renderRunReport(deps, runId);

      const recorded = await mlflow.getRun(run.mlflowRunId);
      const duckdb = await withStore(paths.store, async (store) => {
        const tables = (await store.query("select table_name from information_schema.tables where table_schema = 'main'", [])).rows.map((r) => String(r[0]));
        return Promise.all(tables.map(async (t) => JSON.stringify((await store.query(`select * from "${t}"`, [])).rows, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))));
      });
      const logs = await Promise.all(
        (await readdir(stateDir)).filter((f) => f.endsWith('.log')).map((f) => readFile(path.join(stateDir, f), 'utf8')),
      );
      const places = {
        'mlflow params': JSON.stringify(recorded.data.params),
        'mlflow tags': JSON.stringify(recorded.data.tags),
        duckdb: duckdb.join('\n'),
        report,
        'service logs': logs.join('\n'),
        'spec.json artifact': (await mlflow.downloadArtifact(run.mlflowRunId, 'spec.json')).toString(),
        'spec.json on disk': await readFile(path.join(paths.runs, runId, 'spec.json'), 'utf8'),
      };
      // the secrets did reach the code: redacted where they were
      expect(places['mlflow tags']).toContain('[redacted $MEDSYNTH_RELIABILITY_TOKEN]');
      expect(places['mlflow params']).toContain('[redacted $HF_TOKEN]');
      expect(places.duckdb).toContain('[redacted $MLFLOW_TRACKING_TOKEN]');
      expect(places['spec.json artifact']).toContain('[redacted $HF_TOKEN]');
      expect((await stat(paths.store)).size).toBeGreaterThan(0);
      for (const [where, text] of Object.entries(places)) {
        for (const [name, value] of Object.entries(secrets)) {
          expect(text.includes(value) || text.includes(encodeURIComponent(value)), `${name} in ${where}`).toBe(false);
        }
      }
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
});

describe('redactSecrets', () => {
  it.each([
    [{ A_TOKEN: 'abcdefgh12' }, 'x abcdefgh12 y abcdefgh12', 'x [redacted $A_TOKEN] y [redacted $A_TOKEN]'],
    [{ SHORT_KEY: 'abc' }, 'abc stays', 'abc stays'], // too short to be a credential
    [{ SECRETS_DIR: 'abcdefgh12' }, 'abcdefgh12', 'abcdefgh12'], // a name that holds no credential,
    [{ DB_PASSWORD: 'p@ss/word!' }, 'http://u:p%40ss%2Fword!@h', 'http://u:[redacted $DB_PASSWORD]@h'],
    [{ OUTER_KEY: 'abcdefgh-12345', INNER_TOKEN: 'abcdefgh' }, 'abcdefgh-12345', '[redacted $OUTER_KEY]'],
  ])('%j', (env, text, expected) => {
    expect(redactSecrets(text, env)).toBe(expected);
  });
});
