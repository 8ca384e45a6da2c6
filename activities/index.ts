// Every activity, built from injected dependencies (createActivities) so tests can point them at
// their own servers and folders. Workflows import only the type.
import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { keepHeartbeating } from './heartbeat.ts';
import { UserError, userErrorType } from '../errors.ts';
import type { ActivityDeps } from './deps.ts';
import { evaluateActivity } from './evaluate.ts';
import { parseFailpoint, withFailpoint } from './failpoint.ts';
import { finishRunActivity } from './finish-run.ts';
import { ingestActivity } from './ingest.ts';
import { recordDatasetActivity } from './record-dataset.ts';
import { reportActivity } from './report.ts';
import { generateActivity } from './generate.ts';
import { preparePromptsActivity, prepareTrainingActivity } from './gpu-inputs.ts';
import { recordGenerationActivity, recordTrainingActivity } from './record-gpu-results.ts';
import { startRunActivity } from './start-run.ts';
import { challengeActivities } from './challenge.ts';
import { utilityActivities } from './utility.ts';
import { promptSearchActivities } from './prompt-search.ts';
import { sweepRecordActivities } from './sweep-records.ts';
import { trainActivity } from './train.ts';

/** Whether an error (Node's, or the trainer's as its message carries it) is a full disk. */
export function isDiskFull(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException | undefined;
  return e?.code === 'ENOSPC' || /ENOSPC|No space left on device|Errno 28/i.test(String(e?.message ?? ''));
}

/**
 * The Temporal failure an activity's error becomes. A user's error fails at once (non-retryable,
 * of the type temporal.config.ts names), unless it is one that waiting fixes (a locked store). A
 * full disk is this node's to fix, not the input's: one line naming the node's home (and the file
 * where Node knows it), retryable, so the attempt succeeds once there is room. Anything else is
 * left as it is (retried by the activity's policy).
 */
function asFailure(err: unknown, home: string): unknown {
  if (err instanceof UserError) return err.retryable ? ApplicationFailure.retryable(err.message, err.name) : ApplicationFailure.nonRetryable(err.message, userErrorType);
  if (err instanceof ApplicationFailure || !isDiskFull(err)) return err;
  const file = (err as NodeJS.ErrnoException).path;
  const what = file ? `writing ${file}` : `(${String((err as Error).message).split('\n')[0]})`;
  return ApplicationFailure.retryable(`no space left on device on this node ${what} (MEDSYNTH_HOME ${home}); free some space there: the attempt is retried`, 'DiskFull');
}

function classifyErrors<A extends unknown[], R>(activity: (...args: A) => Promise<R>, home: string): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await activity(...args);
    } catch (err) {
      throw asFailure(err, home);
    }
  };
}

/**
 * The bookkeeping activities (temporal.config.ts trackingActivity): short DuckDB and MLflow writes.
 * They heartbeat on a timer while they run, so a worker that dies in one is noticed within the
 * heartbeat timeout instead of the whole start-to-close timeout. Workflows reach them only through
 * the BookkeepingActivities type, so one missing here does not compile.
 */
export const bookkeeping = [
  'startRun', 'recordDataset', 'prepareTraining', 'recordTraining', 'preparePrompts', 'recordGeneration', 'finishRun',
  'startSweep', 'recordTrial', 'finishSweep', 'startPromptSearch', 'recordCandidates', 'scanChallenge', 'finishChallenge',
  'prepareUtility', 'recordUtility',
] as const;

/** The report activities (temporal.config.ts reportActivity) heartbeat on a timer too. */
const reports = ['report', 'sweepReport', 'promptReport', 'challengeReport'] as const;

/** The activity's heartbeat timeout, or null when called outside an activity (tests, scripts). */
function inActivity(): { heartbeatTimeoutMs?: number } | null {
  try {
    return activityInfo();
  } catch {
    return null;
  }
}

/** Heartbeats (no details) on a timer while `activity` runs as an activity. */
export function heartbeatWhileRunning<A extends unknown[], R>(activity: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    const info = inActivity();
    if (!info) return activity(...args);
    const stop = keepHeartbeating(() => undefined, info.heartbeatTimeoutMs);
    try {
      return await activity(...args);
    } finally {
      stop();
    }
  };
}

export function createActivities(deps: ActivityDeps) {
  const activities = {
    startRun: startRunActivity(deps),
    ingest: ingestActivity(deps),
    recordDataset: recordDatasetActivity(deps),
    finishRun: finishRunActivity(deps),
    prepareTraining: prepareTrainingActivity(deps),
    train: trainActivity(deps),
    recordTraining: recordTrainingActivity(deps),
    preparePrompts: preparePromptsActivity(deps),
    generate: generateActivity(deps),
    recordGeneration: recordGenerationActivity(deps),
    evaluate: evaluateActivity(deps),
    report: reportActivity(deps),
    ...sweepRecordActivities(deps),
    ...promptSearchActivities(deps),
    ...challengeActivities(deps),
    ...utilityActivities(deps),
  };
  const beating = new Set<string>([...bookkeeping, ...reports]);
  const failpoint = parseFailpoint(process.env.MEDSYNTH_FAILPOINT, Object.keys(activities));
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => {
      const classified = classifyErrors(withFailpoint(name, fn as (...a: unknown[]) => Promise<unknown>, failpoint), deps.paths.home);
      return [name, beating.has(name) ? heartbeatWhileRunning(classified) : classified];
    }),
  ) as typeof activities;
}

export type Activities = ReturnType<typeof createActivities>;
export type BookkeepingActivities = Pick<Activities, (typeof bookkeeping)[number]>;
export { nodeDeps, type ActivityDeps } from './deps.ts';
