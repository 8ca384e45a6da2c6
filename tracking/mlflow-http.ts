import { setTimeout as sleep } from 'node:timers/promises';
import { MlflowError } from './mlflow-error.ts';

export interface MlflowHttpOptions {
  /** extra attempts after a connection error, 5xx or 429 (default 4: waits 0.25, 0.5, 1, 2 s) */
  retries?: number;
  retryDelayMs?: number;
  /** per attempt, for JSON calls (default 30 s); artifact transfers have none */
  timeoutMs?: number;
  /** e.g. an Authorization header for a shared server */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

export interface RawRequest {
  method: 'GET' | 'PUT';
  /** absolute URL */
  url: string;
  /** called once per attempt, so a stream body is fresh on a retry */
  body?: () => { body: BodyInit; headers?: Record<string, string> };
  timeoutMs?: number;
  headers?: Record<string, string>;
}

async function errorFrom(response: Response, endpoint: string): Promise<MlflowError> {
  const text = await response.text().catch(() => '');
  let code = `HTTP_${response.status}`;
  let message = text.slice(0, 2000) || response.statusText;
  try {
    const body = JSON.parse(text) as { error_code?: string; message?: string };
    if (body.error_code) code = body.error_code;
    if (body.message) message = body.message;
  } catch {
    // not JSON (a proxy's HTML page, say): keep the text
  }
  return new MlflowError(`MLflow ${endpoint} failed (${response.status} ${code}): ${message}`, response.status, code, endpoint);
}

/** HTTP transport for MLflow: JSON calls under /api/2.0/mlflow, retries with exponential backoff. */
export class MlflowHttp {
  readonly baseUrl: string;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private readonly fetch: typeof fetch;

  constructor(trackingUri: string, options: MlflowHttpOptions = {}) {
    this.baseUrl = trackingUri.replace(/\/+$/, '');
    this.retries = options.retries ?? 4;
    this.retryDelayMs = options.retryDelayMs ?? 250;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.headers = options.headers ?? {};
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** A REST call: GET with `query`, POST with a JSON `body`. */
  async call<T>(method: 'GET' | 'POST', endpoint: string, payload: Record<string, unknown> = {}): Promise<T> {
    let url = `${this.baseUrl}/api/2.0/mlflow/${endpoint}`;
    let body: (() => { body: BodyInit; headers: Record<string, string> }) | undefined;
    if (method === 'GET') {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(payload)) if (v !== undefined) query.set(k, String(v));
      if (query.size > 0) url += `?${query}`;
    } else {
      const json = JSON.stringify(payload);
      body = () => ({ body: json, headers: { 'content-type': 'application/json' } });
    }
    const response = await this.send(endpoint, { method: method as RawRequest['method'], url, body, timeoutMs: this.timeoutMs }, method);
    const text = await response.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** Any request to the server (artifact proxy): the response if 2xx, else an MlflowError. */
  raw(endpoint: string, request: RawRequest): Promise<Response> {
    return this.send(endpoint, request, request.method);
  }

  private async send(endpoint: string, request: RawRequest, method: string): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let error: MlflowError;
      const payload = request.body?.();
      try {
        const response = await this.fetch(request.url, {
          method,
          headers: { ...this.headers, ...request.headers, ...payload?.headers },
          body: payload?.body,
          // Node's fetch needs this to stream a request body
          ...(payload ? { duplex: 'half' } : {}),
          signal: request.timeoutMs ? AbortSignal.timeout(request.timeoutMs) : undefined,
        } as RequestInit);
        if (response.ok) return response;
        error = await errorFrom(response, endpoint);
      } catch (cause) {
        const why = cause instanceof Error ? `${cause.message}${cause.cause instanceof Error ? `: ${cause.cause.message}` : ''}` : String(cause);
        error = new MlflowError(`MLflow ${endpoint}: no response from ${this.baseUrl} (${why})`, 0, 'UNREACHABLE', endpoint, { cause });
      }
      if (!error.retryable || attempt >= this.retries) throw error;
      await sleep(this.retryDelayMs * 2 ** attempt);
    }
  }
}
