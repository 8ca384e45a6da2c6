// Follows a running experiment: a progress bar per stage on a terminal, plain lines elsewhere.
import type { WorkflowHandle } from '@temporalio/client';
import cliProgress from 'cli-progress';
import { readLiveState, type AttemptState, type LiveState } from '../client.ts';
import { stageNames, type StageName } from '../workflows/messages.ts';

/** Which activity's heartbeats measure a stage's progress. */
const stageActivity: Record<StageName, string> = {
  track: 'startRun',
  ingest: 'ingest',
  record: 'recordDataset',
  train: 'train',
  generate: 'generate',
  evaluate: 'evaluate',
  utility: 'classify',
  report: 'report',
};

export interface StageView {
  stage: StageName;
  state: string;
  done: number;
  total: number;
}

/** `totals` remembers each stage's last known total: heartbeats vanish once an activity ends. */
export function stageViews(live: LiveState, totals: Map<StageName, number>): StageView[] {
  return stageNames.map((stage) => {
    const state = live.progress?.stages[stage] ?? 'pending';
    const hb = live.activityProgress[stageActivity[stage]];
    if (hb?.total) totals.set(stage, hb.total);
    const total = Math.max(1, totals.get(stage) ?? 1);
    // most activities heartbeat {done, total}; training heartbeats {step, total, checkpoint}
    const done = hb?.done ?? hb?.step ?? 0;
    return { stage, state, total, done: state === 'done' ? total : Math.min(total, done) };
  });
}

/** A running attempt that has not heartbeated for this long is said to be silent (heartbeats come every few seconds). */
export const silentAfterSeconds = 12;

/**
 * What the user must hear about faults while following: an attempt whose worker went silent, a
 * worker lost (heartbeat timeout) or an attempt failed and retried, and an activity's own warning
 * (a heartbeat's `warning`, e.g. training that could not resume from its checkpoint). `seen` keeps
 * each notice to one line.
 */
export function faultNotices(live: LiveState, seen: Set<string>): string[] {
  const out: string[] = [];
  const say = (key: string, line: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    out.push(line);
  };
  for (const [type, a] of Object.entries(live.attempts) as Array<[string, AttemptState]>) {
    const of = a.maximumAttempts ? ` of ${a.maximumAttempts}` : '';
    if (a.attempt > 1 && a.lastFailure) {
      const why = a.lastFailure.heartbeatTimeout
        ? `lost its worker${a.worker ? ` (${a.worker})` : ''}: no heartbeat within the timeout`
        : `failed: ${a.lastFailure.message.split('\n')[0]}`;
      say(`${type}#${a.attempt}`, `${type}: attempt ${a.attempt - 1} ${why}; retrying as attempt ${a.attempt}${of}`);
    }
    if (a.state === 'started' && a.silentSeconds !== null && a.silentSeconds >= silentAfterSeconds) {
      say(`${type}#${a.attempt}:silent`, `${type}: no heartbeat from worker ${a.worker ?? '?'} for ${Math.round(a.silentSeconds)} s; if it died, the attempt is retried on another worker once the heartbeat timeout passes`);
    }
    const warning = live.activityProgress[type]?.warning;
    if (warning) say(`${type}#${a.attempt}:warning:${warning}`, `${type}: WARNING ${warning}`);
  }
  return out;
}

export async function followExperiment(handle: WorkflowHandle, opts: { intervalMs?: number; tty?: boolean } = {}) {
  const tty = opts.tty ?? Boolean(process.stderr.isTTY);
  const intervalMs = opts.intervalMs ?? 500;
  const multibar = tty
    ? new cliProgress.MultiBar(
        { format: ' {stage} [{bar}] {percentage}% {value}/{total} {state}', hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const bars = new Map<StageName, cliProgress.SingleBar>();
  const totals = new Map<StageName, number>();
  const lastLine = new Map<StageName, string>();
  const seenNotices = new Set<string>();
  const resultPromise = handle.result().then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  let settled = false;
  void resultPromise.then(() => (settled = true));

  const render = (views: StageView[]) => {
    for (const v of views) {
      if (multibar) {
        const payload = { stage: v.stage.padEnd(7), state: v.state };
        const bar = bars.get(v.stage) ?? bars.set(v.stage, multibar.create(v.total, 0, payload)).get(v.stage)!;
        bar.setTotal(v.total);
        bar.update(v.done, payload);
      } else {
        const decile = Math.floor((10 * v.done) / v.total);
        const line = `${v.stage}: ${v.state}${v.state === 'running' && v.total > 1 ? ` ${decile * 10}%` : ''}`;
        if (v.state !== 'pending' && lastLine.get(v.stage) !== line) {
          process.stderr.write(`${line}${v.total > 1 ? ` (${v.done}/${v.total})` : ''}\n`);
          lastLine.set(v.stage, line);
        }
      }
    }
  };

  try {
    while (!settled) {
      const live = await readLiveState(handle).catch(() => null);
      if (live) {
        for (const line of faultNotices(live, seenNotices)) {
          if (multibar) multibar.log(`${line}\n`);
          else process.stderr.write(`${line}\n`);
        }
        render(stageViews(live, totals));
      }
      await Promise.race([resultPromise, new Promise((r) => setTimeout(r, intervalMs))]);
    }
    const final = await readLiveState(handle).catch(() => null);
    if (final) render(stageViews(final, totals));
  } finally {
    multibar?.stop();
  }
  const outcome = await resultPromise;
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}
