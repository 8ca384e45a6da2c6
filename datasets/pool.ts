// Bounded-concurrency consumption of a (possibly lazy) candidate stream: at most `concurrency`
// items are in flight, and nothing is pulled from the source before a worker is free, so memory
// stays flat however long the stream is.

export async function runPool<T>(
  items: Iterable<T> | AsyncIterable<T>,
  concurrency: number,
  work: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const iterator = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  // Pulls are chained: iterators are not required to accept overlapping next() calls.
  let pulling: Promise<IteratorResult<T>> = Promise.resolve({ done: false, value: undefined as T });
  const pull = () => (pulling = pulling.then(() => iterator.next()));
  let exhausted = false;

  async function worker(): Promise<void> {
    while (!exhausted && !signal?.aborted) {
      const next = await pull();
      if (next.done) {
        exhausted = true;
        return;
      }
      await work(next.value);
    }
  }

  try {
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
    signal?.throwIfAborted();
  } finally {
    if (!exhausted) await iterator.return?.();
  }
}

/** The first `limit` items of a stream. */
export async function* take<T>(items: Iterable<T> | AsyncIterable<T>, limit: number): AsyncGenerator<T> {
  if (limit <= 0) return;
  let count = 0;
  for await (const item of items) {
    yield item;
    if (++count >= limit) return;
  }
}
