import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../services/free-port.ts';
import { MlflowClient } from '../../tracking/mlflow-client.ts';
import { MlflowError } from '../../tracking/mlflow-error.ts';

/** A stand-in server that answers each request with the next of `replies`. */
async function scriptedServer(replies: Array<[number, object]>): Promise<{ uri: string; server: Server; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    const [status, body] = replies[Math.min(hits++, replies.length - 1)]!;
    req.resume();
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, hits: () => hits };
}

describe('MlflowClient: retries', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
    server = undefined;
  });

  it('retries 5xx answers with backoff, then succeeds', async () => {
    const scripted = await scriptedServer([
      [503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'busy' }],
      [500, { error_code: 'INTERNAL_ERROR', message: 'db locked' }],
      [200, { experiment: { experiment_id: '7', name: 'e', lifecycle_stage: 'active', artifact_location: '' } }],
    ]);
    server = scripted.server;
    const client = new MlflowClient(scripted.uri, { retryDelayMs: 5 });
    expect(await client.getOrCreateExperiment('e')).toBe('7');
    expect(scripted.hits()).toBe(3);
  });

  it('gives up after the last retry with the server\'s error', async () => {
    const scripted = await scriptedServer([[503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'busy' }]]);
    server = scripted.server;
    const client = new MlflowClient(scripted.uri, { retries: 2, retryDelayMs: 5 });
    await expect(client.setTag('r', 'k', 'v')).rejects.toMatchObject({ status: 503, errorCode: 'TEMPORARILY_UNAVAILABLE', retryable: true });
    expect(scripted.hits()).toBe(3);
  });

  it('does not retry a 4xx answer', async () => {
    const scripted = await scriptedServer([[400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'bad' }]]);
    server = scripted.server;
    const client = new MlflowClient(scripted.uri, { retryDelayMs: 5 });
    await expect(client.setTag('r', 'k', 'v')).rejects.toMatchObject({ status: 400, errorCode: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('bad') });
    expect(scripted.hits()).toBe(1);
  });

  it('retries when nothing listens, then reports the server as unreachable', async () => {
    let attempts = 0;
    const counting: typeof fetch = (input, init) => {
      attempts++;
      return fetch(input, init);
    };
    const client = new MlflowClient(`http://127.0.0.1:${await freePort()}`, { retries: 2, retryDelayMs: 5, fetch: counting });
    const error = await client.getRun('r').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowError);
    expect(error).toMatchObject({ status: 0, errorCode: 'UNREACHABLE', retryable: true });
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect(attempts).toBe(3);
  });
});
