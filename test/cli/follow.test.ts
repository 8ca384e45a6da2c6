// What the follower shows for each stage, from the workflow's query and the activities' heartbeats.
import { describe, expect, it } from 'vitest';
import { faultNotices, stageViews } from '../../cli/follow.ts';
import type { AttemptState, LiveState } from '../../client.ts';
import { stageNames } from '../../workflows/messages.ts';

const live = (activityProgress: LiveState['activityProgress'], attempts: LiveState['attempts'] = {}): LiveState => ({
  status: 'RUNNING',
  progress: { stages: { ...Object.fromEntries(stageNames.map((s) => [s, 'pending'])), track: 'done', ingest: 'done', record: 'done', train: 'running' } as never, current: 'train', run: null, dataset: null },
  activityProgress,
  attempts,
});
const attempt = (a: Partial<AttemptState>): AttemptState => ({ attempt: 1, maximumAttempts: 5, state: 'started', worker: 'gpu-node@1', lastFailure: null, silentSeconds: 1, ...a });

describe('stage views', () => {
  it('shows the training step the train heartbeat carries (it says step, not done)', () => {
    const train = stageViews(live({ train: { step: 1200, total: 2400 } }), new Map()).find((v) => v.stage === 'train')!;
    expect(train).toEqual({ stage: 'train', state: 'running', done: 1200, total: 2400 });
  });

  it('reads done where an activity heartbeats it, and remembers a total once the heartbeat is gone', () => {
    const totals = new Map();
    expect(stageViews(live({ ingest: { done: 3, total: 10 } }), totals).find((v) => v.stage === 'ingest')).toMatchObject({ done: 10, total: 10 });
    expect(stageViews(live({}), totals).find((v) => v.stage === 'ingest')).toMatchObject({ done: 10, total: 10 });
    expect(stageViews(live({}), totals).find((v) => v.stage === 'train')).toMatchObject({ done: 0, total: 1 });
  });
});

describe('fault notices', () => {
  it('says when a worker went silent, when it was lost and the attempt retried, once each', () => {
    const seen = new Set<string>();
    expect(faultNotices(live({}, { train: attempt({ silentSeconds: 3 }) }), seen)).toEqual([]);
    const silent = faultNotices(live({}, { train: attempt({ silentSeconds: 15 }) }), seen);
    expect(silent).toEqual([expect.stringMatching(/^train: no heartbeat from worker gpu-node@1 for 15 s/)]);
    expect(faultNotices(live({}, { train: attempt({ silentSeconds: 18 }) }), seen)).toEqual([]);
    const lost = { train: attempt({ attempt: 2, state: 'scheduled', lastFailure: { heartbeatTimeout: true, message: 'activity Heartbeat timeout' } }) };
    expect(faultNotices(live({}, lost), seen)).toEqual(['train: attempt 1 lost its worker (gpu-node@1): no heartbeat within the timeout; retrying as attempt 2 of 5']);
    expect(faultNotices(live({}, lost), seen)).toEqual([]);
  });

  it('names the error of a failed attempt, and passes on an activity warning', () => {
    const failed = { evaluate: attempt({ attempt: 3, lastFailure: { heartbeatTimeout: false, message: 'ENOSPC: no space left on device\n  at write' } }) };
    expect(faultNotices(live({}, failed), new Set())).toEqual(['evaluate: attempt 2 failed: ENOSPC: no space left on device; retrying as attempt 3 of 5']);
    const warned = faultNotices(live({ train: { step: 0, total: 8, warning: 'checkpoint of step 4 is gone: training restarts from step 0' } }, { train: attempt({ attempt: 2 }) }), new Set());
    expect(warned).toEqual(['train: WARNING checkpoint of step 4 is gone: training restarts from step 0']);
  });
});
