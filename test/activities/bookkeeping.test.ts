// Bookkeeping activities heartbeat while they run, so a worker that dies in one is noticed after
// the heartbeat timeout (20 s) rather than the start-to-close timeout (2 minutes).
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { bookkeeping, heartbeatWhileRunning } from '../../activities/index.ts';
import { trackingActivity } from '../../temporal.config.ts';

describe('bookkeeping heartbeats', () => {
  it('beats on a timer while the activity runs and stops when it ends', async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 3000 });
    let beats = 0;
    env.on('heartbeat', () => beats++);
    const slow = heartbeatWhileRunning(async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      return 'done';
    });
    expect(await env.run(slow, 2600)).toBe('done');
    expect(beats).toBeGreaterThanOrEqual(2);
    const after = beats;
    await new Promise((r) => setTimeout(r, 1500));
    expect(beats).toBe(after);
  });

  it('the tracking options have a heartbeat timeout well inside their start-to-close timeout', () => {
    expect(trackingActivity.heartbeatTimeout).toBe('20 seconds');
    expect(trackingActivity.startToCloseTimeout).toBe('2 minutes');
    expect(bookkeeping).toContain('recordTrial');
  });
});
