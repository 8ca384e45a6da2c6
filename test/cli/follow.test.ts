// What the follower shows for each stage, from the workflow's query and the activities' heartbeats.
import { describe, expect, it } from 'vitest';
import { stageViews } from '../../cli/follow.ts';
import type { LiveState } from '../../client.ts';
import { stageNames } from '../../workflows/messages.ts';

const live = (activityProgress: LiveState['activityProgress']): LiveState => ({
  status: 'RUNNING',
  progress: { stages: { ...Object.fromEntries(stageNames.map((s) => [s, 'pending'])), track: 'done', ingest: 'done', record: 'done', train: 'running' } as never, current: 'train', run: null, dataset: null },
  activityProgress,
});

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
