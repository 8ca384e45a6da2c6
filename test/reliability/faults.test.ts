// Faults, short mode (the long mode, 20 seeded kills and a load run, is `npm run bench:reliability`):
// on a private two-node cluster, a tiny experiment survives a cpu node SIGKILLed at a seeded point
// of a seeded cpu stage (inside its activity, by MEDSYNTH_FAILPOINT); a gpu node killed
// mid-training whose heartbeated checkpoint was lost warns loudly and trains again; a Temporal restart and MLflow down for 30 s mid-training; a full disk on
// the gpu node. Every run finishes with the artifacts and metrics of an uninterrupted run, and no
// metric point stored twice in DuckDB or MLflow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.ts';
import { parseFailpoint } from '../../activities/failpoint.ts';
import { startCluster, type Cluster } from './cluster.ts';
import { checkAgainst, diskFullTrial, killPlan, killTrial, lostCheckpointTrial, outageTrial, startTiny, type LiveNodes } from './faults.ts';

const seed = Number(process.env.MEDSYNTH_FAULT_SEED ?? 7);
const reference = `reliability-ref-${Date.now()}`;

describe('faults on a two-node cluster (short mode)', () => {
  let cluster: Cluster;
  let nodes: LiveNodes;

  beforeAll(async () => {
    cluster = await startCluster('faults');
    nodes = { cpu: cluster.cpu(), gpu: cluster.gpu() };
    const result = await (await startTiny(cluster, reference)).result();
    expect(result.runId).toBe(reference);
  }, 300_000);

  afterAll(async () => {
    await cluster?.close();
  });

  const expectSameAsReference = async (runId: string) => {
    const check = await checkAgainst(cluster, reference, runId);
    expect(check.differences).toEqual([]);
    expect(check.duplicates).toEqual([]);
    expect(check.compared).toBeGreaterThan(10);
  };

  it(`a cpu node killed at a seeded point (seed ${seed}) of a cpu stage: the run finishes as if nothing happened`, async () => {
    const plan = killPlan(seed, ['ingest', 'evaluate', 'report']);
    const outcome = await killTrial(cluster, nodes, plan, `reliability-kill-${seed}-${Date.now()}`);
    console.log(`kill trial: ${JSON.stringify({ ...outcome, notices: undefined })}`);
    expect(outcome.status, JSON.stringify(outcome)).toBe('FINISHED');
    expect(outcome.interrupted, 'the node died inside the activity').toBe(true);
    expect(outcome.retries).toBeGreaterThan(0);
    expect(outcome.notices.join('\n')).toMatch(new RegExp(`${plan.stage}: attempt 1 lost its worker`));
    await expectSameAsReference(outcome.runId);
  }, 300_000);

  it('MEDSYNTH_FAILPOINT: a bad value or an unknown activity is one clear error', () => {
    expect(() => parseFailpoint('ingest', ['ingest'])).toThrow(/MEDSYNTH_FAILPOINT "ingest": expected <activity>:<milliseconds>/);
    expect(parseFailpoint('report:40', ['ingest', 'report'])).toEqual({ activity: 'report', afterMs: 40 });
    expect(parseFailpoint(undefined, ['ingest'])).toBeNull();
    process.env.MEDSYNTH_FAILPOINT = 'ingets:5';
    try {
      expect(() => createActivities(cluster.deps)).toThrow(/MEDSYNTH_FAILPOINT names "ingets", which is not an activity \(startRun, ingest,/);
    } finally {
      delete process.env.MEDSYNTH_FAILPOINT;
    }
  });

  it('a gpu node killed mid-training whose checkpoint blob was lost: the retry warns loudly, trains from step 0, and ends the same', async () => {
    const outcome = await lostCheckpointTrial(cluster, nodes, `reliability-lost-ckpt-${Date.now()}`);
    const notices = outcome.notices.join('\n');
    expect(notices).toMatch(/train: attempt 1 lost its worker/);
    expect(notices).toMatch(new RegExp(`train: WARNING the checkpoint of step \\d+ \\(blob ${outcome.checkpoint.slice(0, 12)}\\) could not be fetched .*training restarts from step 0`));
    expect(outcome.warningTag).toMatch(/could not be fetched/);
    expect(outcome.resumedFrom).toBeNull();
    await expectSameAsReference(outcome.runId);
  }, 300_000);

  it('Temporal restarted mid-run and MLflow stopped for 30 s mid-training: nothing lost', async () => {
    const outcome = await outageTrial(cluster, `reliability-outage-${Date.now()}`);
    await expectSameAsReference(outcome.runId);
  }, 400_000);

  it('a full disk on the gpu node: a one-line error naming the node (and the file where known), and a retry that succeeds once there is room', async () => {
    const { runId, home, failure } = await diskFullTrial(cluster, nodes, `reliability-disk-${Date.now()}`);
    // one line: the node's home, and the file where Node knows it (a write on an open file does not say)
    expect(failure).toMatch(new RegExp(`^no space left on device on this node (writing ${home}/\\S+|\\(ENOSPC: [^\\n]*\\)) \\(MEDSYNTH_HOME ${home}\\); free some space there: the attempt is retried$`));
    await expectSameAsReference(runId);
  }, 300_000);
});
