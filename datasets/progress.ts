// Throttled progress: at most one report per 1% of the total or per 200 ms, plus a final one.
import type { IngestProgress } from './types.ts';

export function progressReporter(total: number, onProgress?: (p: IngestProgress) => void, now = Date.now) {
  const step = Math.max(1, Math.floor(total / 100));
  let done = 0;
  let lastDone = 0;
  let lastTime = now();
  const emit = () => {
    lastDone = done;
    lastTime = now();
    onProgress?.({ done, total });
  };
  return {
    tick(): void {
      done += 1;
      if (done - lastDone >= step || now() - lastTime >= 200) emit();
    },
    finish(): void {
      emit();
    },
  };
}
