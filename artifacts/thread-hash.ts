// A sha256 computed on a worker thread, so hashing a large file overlaps with the network and disk
// work of the main thread (on two cores, hashing inline held transfers back by a third).
import { Worker } from 'node:worker_threads';

const source = `
const { parentPort } = require('node:worker_threads');
const hash = require('node:crypto').createHash('sha256');
parentPort.on('message', (bytes) => {
  if (bytes === null) parentPort.postMessage(hash.digest('hex'));
  else hash.update(bytes);
});`;

export class ThreadHash {
  private readonly worker = new Worker(source, { eval: true });

  /**
   * Feeds bytes, in order. `handOver`: the caller is done with the buffer, which then moves to the
   * thread without a copy (and is empty afterwards); otherwise the thread gets a copy.
   */
  update(bytes: Buffer, handOver = false): void {
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
    if (handOver && whole) this.worker.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
    else this.worker.postMessage(bytes);
  }

  async digest(): Promise<string> {
    try {
      return await new Promise<string>((resolve, reject) => {
        this.worker.once('message', resolve);
        this.worker.once('error', reject);
        this.worker.postMessage(null);
      });
    } finally {
      await this.worker.terminate();
    }
  }

  /** Stops the thread when the hash is not wanted any more (an error path). */
  async discard(): Promise<void> {
    await this.worker.terminate();
  }
}
