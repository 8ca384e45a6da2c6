import { heartbeat } from '@temporalio/activity';

/**
 * Heartbeats the latest progress on a timer. Cancellation reaches an activity only through
 * heartbeats, so a step that reports nothing for a while must not leave the activity deaf to it.
 */
export function keepHeartbeating(details: () => unknown, heartbeatTimeoutMs: number | undefined): () => void {
  const every = Math.max(1000, Math.min(10_000, (heartbeatTimeoutMs ?? 30_000) / 3));
  const timer = setInterval(() => heartbeat(details()), every);
  return () => clearInterval(timer);
}
