// The challenge workflow (organisers regenerating and scoring submissions): orchestration only.
// One activity reads and checks every team folder; each accepted team is a child workflow with a
// deterministic id (<challenge>-<team>): a LoRA team is regenerated on the gpu queue inside the
// sandbox (resumable: the trainer skips images it already made), then scored on the cpu queue; at
// most gpuSlots teams are in flight. A team whose weights the sandboxed trainer refuses (another
// model's LoRA) is rejected with that reason; the others are ranked.
import { ApplicationFailure, condition, executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities, BookkeepingActivities } from '../activities/index.ts';
import { rootMessage, userErrorType } from '../errors.ts';
import { evaluateActivity, experimentExecutionTimeout, generateActivity, reportActivity, trackingActivity } from '../temporal.config.ts';
import type { ChallengeInput, ChallengeResult, TeamState } from './challenge-messages.ts';
import type { SweepRef } from './sweep-messages.ts';

const tracking = proxyActivities<BookkeepingActivities>(trackingActivity);
const scoring = proxyActivities<Activities>(evaluateActivity);
const reporting = proxyActivities<Activities>(reportActivity);

/** Was this failure the submission's fault (a user error from an activity), rather than the node's? */
function isUserError(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) if (e instanceof ApplicationFailure && e.type === userErrorType) return true;
  return false;
}

export interface TeamInput {
  challenge: SweepRef;
  input: ChallengeInput;
  team: TeamState;
  at: number;
}

/** One team: regenerate (a LoRA team) in the sandbox, then score. */
export async function challengeTeam({ challenge, input, team, at }: TeamInput): Promise<TeamState> {
  const generator = proxyActivities<Activities>({ ...generateActivity, ...(input.gpuTaskQueue ? { taskQueue: input.gpuTaskQueue } : {}) });
  const state: TeamState = { ...team, status: 'RUNNING' };
  const run = { runId: team.id, mlflowRunId: team.mlflowRunId, mlflowExperimentId: challenge.mlflowExperimentId };
  if (team.lora) {
    const { lora } = team;
    try {
      const made = await generator.generate({
        run,
        baseModel: input.baseModel,
        generation: { prompts: { file: 'the team prompts file (a blob)' }, negativePrompt: '', seeds: lora.seeds, imagesPerPrompt: lora.imagesPerPrompt, steps: lora.steps, guidance: lora.guidance, scheduler: lora.scheduler as 'dpm++', batchSize: 8 },
        prompts: lora.prompts,
        trained: { weights: { blob: lora.blob, kind: 'lora', name: 'submitted_lora.safetensors' }, validation: [], steps: 0, finalLoss: null, images: 0, resumedFrom: null },
        outName: 'regenerated',
        sandbox: input.sandbox,
      });
      state.images = made.provenance;
    } catch (err) {
      if (!isUserError(err)) throw err;
      return { ...state, status: 'REJECTED', reasons: [`regeneration refused: ${rootMessage(err)}`] };
    }
  }
  try {
    state.evaluation = await scoring.scoreTeam({ challenge, input, team: state, at });
  } catch (err) {
    if (!isUserError(err)) throw err;
    return { ...state, status: 'REJECTED', reasons: [`scoring refused: ${rootMessage(err)}`] };
  }
  return { ...state, status: 'SCORED' };
}

export async function challenge(input: ChallengeInput): Promise<ChallengeResult> {
  const start = await tracking.scanChallenge({ input, temporalRunId: workflowInfo().runId, at: Date.now() });
  const { challenge: ref, at } = start;
  const teams = start.teams;
  let inFlight = 0;
  const runs: Promise<void>[] = [];
  for (const [i, team] of teams.entries()) {
    if (team.status === 'REJECTED') continue;
    await condition(() => inFlight < input.gpuSlots);
    inFlight++;
    runs.push(
      executeChild<typeof challengeTeam>('challengeTeam', {
        workflowId: team.id,
        args: [{ challenge: ref, input, team, at }],
        workflowExecutionTimeout: experimentExecutionTimeout,
        retry: { maximumAttempts: 1 },
      })
        .then(
          (done) => void (teams[i] = done),
          (err: unknown) => void (teams[i] = { ...team, status: 'REJECTED', reasons: [`failed: ${rootMessage(err)}`] }),
        )
        .finally(() => inFlight--),
    );
  }
  await Promise.all(runs);
  const { leaderboard, metric, mode } = await tracking.finishChallenge({ challenge: ref, input, teams, at });
  const report = await reporting.challengeReport({ challenge: ref });
  return { ...ref, metric, mode, leaderboard, teams, report };
}
