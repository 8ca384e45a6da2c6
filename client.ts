// The one client entry: starts experiment workflows and reads their state.
import { Client, Connection, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
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

/** Starts a sweep; its id is its workflow id, and its trials' ids derive from it. */
export async function startSweep(client: Client, input: SweepInput, taskQueue: string = taskQueues.cpu): Promise<WorkflowHandle<typeof sweep>> {
  return client.workflow.start<typeof sweep>('sweep', {
    taskQueue,
    workflowId: input.sweepId,
    args: [input],
    workflowExecutionTimeout: experimentExecutionTimeout,
    memo: { spec: input.spec.name, specHash: input.specHash, trials: input.trials.length },
    retry: { maximumAttempts: 1 },
  });
}

/** Starts a prompt search; its id is its workflow id, its model run is <id>-model and its candidates <id>-c<index>. */
export async function startPromptSearch(client: Client, input: PromptSearchInput, taskQueue: string = taskQueues.cpu): Promise<WorkflowHandle<typeof promptSearch>> {
  return client.workflow.start<typeof promptSearch>('promptSearch', {
    taskQueue,
    workflowId: input.searchId,
    args: [input],
    workflowExecutionTimeout: experimentExecutionTimeout,
    memo: { spec: input.spec.name, specHash: input.specHash, kind: 'prompts' },
    retry: { maximumAttempts: 1 },
  });
}

/** Starts a challenge; its id is its workflow id (a rerun of the same folder reuses it), each team's is <id>-<team>. */
export async function startChallenge(client: Client, input: ChallengeInput, taskQueue: string = taskQueues.cpu): Promise<WorkflowHandle<typeof challenge>> {
  return client.workflow.start<typeof challenge>('challenge', {
    taskQueue,
    workflowId: input.challengeId,
    args: [input],
    workflowExecutionTimeout: experimentExecutionTimeout,
    memo: { kind: 'challenge', dir: input.dir },
    retry: { maximumAttempts: 1 },
  });
}

export interface LiveState {
  status: string;
  progress: ExperimentProgress | null;
  /** heartbeat details of running activities, by activity type */
  activityProgress: Record<string, { done: number; total: number }>;
}

/** One look at a running (or finished) experiment: its query state and its activities' heartbeats. */
export async function readLiveState(handle: WorkflowHandle): Promise<LiveState> {
  const description = await handle.describe();
  const activityProgress: LiveState['activityProgress'] = {};
  for (const a of description.raw.pendingActivities ?? []) {
    const payload = a.heartbeatDetails?.payloads?.[0];
    const type = a.activityType?.name;
    if (payload && type) activityProgress[type] = defaultPayloadConverter.fromPayload(payload);
  }
  const progress = await handle.query(progressQuery).catch(() => null);
  return { status: description.status.name, progress, activityProgress };
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
