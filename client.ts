// The one client entry: starts experiment workflows and reads their state.
import { Client, Connection, WorkflowNotFoundError, type Workflow, type WorkflowHandle, type WorkflowStartOptions } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import protos from '@temporalio/proto';
import { UserError } from './errors.ts';
import { experimentExecutionTimeout, namespace, taskQueues } from './temporal.config.ts';
import type { challenge, experiment, promptSearch, sweep } from './workflows/index.ts';
import type { ChallengeInput } from './workflows/challenge-messages.ts';
import type { PromptSearchInput } from './workflows/prompt-search-messages.ts';
import type { SweepInput } from './workflows/sweep-messages.ts';
import { progressQuery, type ExperimentInput, type ExperimentProgress } from './workflows/messages.ts';

export async function connectClient(address: string): Promise<Client> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: '5 seconds' });
    return new Client({ connection, namespace });
  } catch (err) {
    throw new UserError(
      `cannot reach Temporal at ${address} (${(err as Error).message}); start it with "medsynth services up" or set TEMPORAL_ADDRESS`,
    );
  }
}

export function newRunId(specName: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${specName}-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}

export async function startExperiment(
  client: Client,
  input: ExperimentInput,
  workflowId: string,
  taskQueue: string = taskQueues.cpu,
): Promise<WorkflowHandle<typeof experiment>> {
  return client.workflow.start<typeof experiment>('experiment', {
    taskQueue,
    workflowId,
    args: [input],
    workflowExecutionTimeout: experimentExecutionTimeout,
    memo: { spec: input.spec.name, specHash: input.specHash },
    // A spec that fails is fixed and resubmitted under a new id; the workflow itself never retries.
    retry: { maximumAttempts: 1 },
  });
}

/**
 * Starts one of the workflows that stand for many runs (a sweep, a prompt search, a challenge):
 * its id is the workflow id its children derive theirs from; like a run, it never retries itself.
 */
function startOnce<W extends Workflow>(client: Client, type: string, workflowId: string, input: Parameters<W>[0], memo: Record<string, unknown>, taskQueue: string): Promise<WorkflowHandle<W>> {
  return client.workflow.start<W>(type, {
    taskQueue,
    workflowId,
    args: [input] as Parameters<W>,
    workflowExecutionTimeout: experimentExecutionTimeout,
    memo,
    retry: { maximumAttempts: 1 },
  } as unknown as WorkflowStartOptions<W>);
}

/** Starts a sweep; its trials' ids are <id>-t<index>-<hash>. */
export const startSweep = (client: Client, input: SweepInput, taskQueue: string = taskQueues.cpu) =>
  startOnce<typeof sweep>(client, 'sweep', input.sweepId, input, { spec: input.spec.name, specHash: input.specHash, trials: input.trials.length }, taskQueue);

/** Starts a prompt search; its model run is <id>-model and its candidates <id>-c<index>. */
export const startPromptSearch = (client: Client, input: PromptSearchInput, taskQueue: string = taskQueues.cpu) =>
  startOnce<typeof promptSearch>(client, 'promptSearch', input.searchId, input, { spec: input.spec.name, specHash: input.specHash, kind: 'prompts' }, taskQueue);

/** Starts a challenge (a rerun of the same folder reuses its id); each team's is <id>-<team>. */
export const startChallenge = (client: Client, input: ChallengeInput, taskQueue: string = taskQueues.cpu) =>
  startOnce<typeof challenge>(client, 'challenge', input.challengeId, input, { kind: 'challenge', dir: input.dir }, taskQueue);

export interface LiveState {
  status: string;
  progress: ExperimentProgress | null;
  /** heartbeat details of running activities, by activity type */
  activityProgress: Record<string, { done?: number; step?: number; total: number; warning?: string }>;
  /** how each pending activity's attempts are going, by activity type */
  attempts: Record<string, AttemptState>;
}

/** A pending activity as the server sees it: which attempt, who ran the last one, and why it ended. */
export interface AttemptState {
  attempt: number;
  maximumAttempts: number;
  /** 'scheduled' waits for a worker (or a retry's backoff); 'started' is running on `worker` */
  state: 'scheduled' | 'started' | 'cancel-requested';
  worker: string | null;
  /** the previous attempt's end: a worker that went silent, or the error it raised */
  lastFailure: { heartbeatTimeout: boolean; message: string } | null;
  /** seconds since the running attempt's last heartbeat (null before its first) */
  silentSeconds: number | null;
}

const { PendingActivityState, TimeoutType } = protos.temporal.api.enums.v1;
const seconds = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => (t ? Number(t.seconds ?? 0) + (t.nanos ?? 0) / 1e9 : null);

/** One look at a running (or finished) experiment: its query state and its activities' heartbeats. */
export async function readLiveState(handle: WorkflowHandle): Promise<LiveState> {
  const description = await handle.describe();
  const activityProgress: LiveState['activityProgress'] = {};
  const attempts: LiveState['attempts'] = {};
  const now = Date.now() / 1000;
  for (const a of description.raw.pendingActivities ?? []) {
    const payload = a.heartbeatDetails?.payloads?.[0];
    const type = a.activityType?.name;
    if (!type) continue;
    if (payload) activityProgress[type] = defaultPayloadConverter.fromPayload(payload);
    const failure = a.lastFailure;
    const beat = seconds(a.lastHeartbeatTime) ?? seconds(a.lastStartedTime);
    attempts[type] = {
      attempt: a.attempt ?? 1,
      maximumAttempts: a.maximumAttempts ?? 0,
      state: a.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED ? 'started' : a.state === PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED ? 'cancel-requested' : 'scheduled',
      worker: a.lastWorkerIdentity || null,
      lastFailure: failure
        ? { heartbeatTimeout: failure.timeoutFailureInfo?.timeoutType === TimeoutType.TIMEOUT_TYPE_HEARTBEAT, message: failure.message ?? '' }
        : null,
      silentSeconds: beat === null ? null : Math.max(0, now - beat),
    };
  }
  const progress = await handle.query(progressQuery).catch(() => null);
  return { status: description.status.name, progress, activityProgress, attempts };
}

export async function getHandle(client: Client, workflowId: string): Promise<WorkflowHandle<typeof experiment>> {
  const handle = client.workflow.getHandle<typeof experiment>(workflowId);
  try {
    await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new UserError(`no experiment run or sweep with id "${workflowId}"`);
    throw err;
  }
  return handle;
}
