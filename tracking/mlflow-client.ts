// A small typed client over MLflow's REST API. Not the npm `mlflow` package: its last release
// (2.0.7) has no artifact upload, which needs a PUT to the server's artifact proxy.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { redactSecrets } from '../secrets.ts';
import { artifactProxyUrl } from './artifact-url.ts';
import { chunkBatch } from './batch-chunks.ts';
import { MlflowError, MlflowParamConflictError } from './mlflow-error.ts';
import { MlflowHttp, type MlflowHttpOptions } from './mlflow-http.ts';
import type { Experiment, FileInfo, KeyValue, Metric, Run, RunInfo, RunStatus } from './mlflow-types.ts';
import { tagEquals } from './search-filter.ts';

export type MlflowClientOptions = MlflowHttpOptions;

export interface CreateRunInput {
  experimentId: string;
  runName: string;
  tags?: Record<string, string>;
  /** milliseconds since the epoch */
  startTime: number;
}

export interface LogBatchInput {
  runId: string;
  params?: Record<string, string>;
  /** `timestamp` is required on purpose: see logBatch */
  metrics?: Metric[];
  tags?: Record<string, string>;
}

type WireRun = { info: RunInfo; data?: { metrics?: WireMetric[]; params?: KeyValue[]; tags?: KeyValue[] } };
type WireMetric = Omit<Metric, 'value'> & { value: number | string };

/** Params and tags as MLflow takes them, with the values of secret env variables redacted (secrets.ts). */
const entries = (record: Record<string, string> = {}): KeyValue[] => Object.entries(record).map(([key, value]) => ({ key, value: redactSecrets(value) }));

/** JSON has no NaN or Infinity; MLflow's protobuf JSON takes (and returns) them as strings. */
const encodeValue = (v: number): number | string => (Number.isFinite(v) ? v : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity');
const decodeMetric = (m: WireMetric): Metric => ({ ...m, value: Number(m.value), step: Number(m.step ?? 0), timestamp: Number(m.timestamp) });

const toRun = ({ info, data = {} }: WireRun): Run => ({
  info,
  data: { metrics: (data.metrics ?? []).map(decodeMetric), params: data.params ?? [], tags: data.tags ?? [] },
});

export class MlflowClient {
  /** the transport, shared with the blob store (artifacts/blob-store.ts) */
  readonly http: MlflowHttp;
  private readonly artifactRoots = new Map<string, string>();

  constructor(readonly trackingUri: string, options: MlflowClientOptions = {}) {
    this.http = new MlflowHttp(trackingUri, options);
  }

  /** Id of the experiment with this name, created (with `tags`) if missing, restored if deleted. */
  async getOrCreateExperiment(name: string, tags: Record<string, string> = {}): Promise<string> {
    const existing = await this.getExperimentByName(name);
    if (existing) {
      if (existing.lifecycle_stage === 'deleted') await this.http.call('POST', 'experiments/restore', { experiment_id: existing.experiment_id });
      return existing.experiment_id;
    }
    try {
      const created = await this.http.call<{ experiment_id: string }>('POST', 'experiments/create', { name, tags: entries(tags) });
      return created.experiment_id;
    } catch (error) {
      // Another worker created it between our lookup and create.
      if (!(error instanceof MlflowError && error.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw error;
      const raced = await this.getExperimentByName(name);
      if (!raced) throw error;
      return raced.experiment_id;
    }
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    try {
      const { experiment } = await this.http.call<{ experiment: Experiment }>('GET', 'experiments/get-by-name', { experiment_name: name });
      return experiment;
    } catch (error) {
      if (error instanceof MlflowError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw error;
    }
  }

  /**
   * Not idempotent by itself (a retry creates a second run): give the run a unique tag and look
   * for it with findRunByTag first.
   */
  async createRun({ experimentId, runName, tags = {}, startTime }: CreateRunInput): Promise<Run> {
    const { run } = await this.http.call<{ run: WireRun }>('POST', 'runs/create', {
      experiment_id: experimentId,
      run_name: runName,
      start_time: startTime,
      tags: entries(tags),
    });
    return toRun(run);
  }

  /**
   * The run tagged medsynth.run_id = tags['medsynth.run_id'], created if there is none: the one
   * idempotent way to open a run (a retried activity finds the run its first attempt made).
   */
  async ensureRun(input: CreateRunInput & { tags: Record<string, string> }): Promise<{ run: Run; created: boolean }> {
    const id = input.tags['medsynth.run_id'];
    if (!id) throw new Error('ensureRun: the tags need a medsynth.run_id');
    const existing = await this.findRunByTag(input.experimentId, 'medsynth.run_id', id);
    return existing ? { run: existing, created: false } : { run: await this.createRun(input), created: true };
  }

  /** The oldest active run of the experiment whose tag `key` equals `value`. */
  async findRunByTag(experimentId: string, key: string, value: string): Promise<Run | undefined> {
    const { runs = [] } = await this.http.call<{ runs?: WireRun[] }>('POST', 'runs/search', {
      experiment_ids: [experimentId],
      filter: tagEquals(key, value),
      run_view_type: 'ACTIVE_ONLY',
      order_by: ['attributes.start_time ASC'],
      max_results: 1,
    });
    return runs[0] && toRun(runs[0]);
  }

  async getRun(runId: string): Promise<Run> {
    const { run } = await this.http.call<{ run: WireRun }>('GET', 'runs/get', { run_id: runId });
    return toRun(run);
  }

  /**
   * Logs params, metrics and tags, split into requests within MLflow's per-request limits.
   *
   * Idempotent, so an activity may retry it: MLflow's database store keys a metric row by
   * (key, value, step, timestamp) and skips rows it already has, so sending the identical batch
   * again adds nothing (test/tracking/mlflow-metrics.test.ts checks this against the real
   * server). That holds only if the timestamps are the same on every attempt, which is why
   * `timestamp` is required: pass the time the value was produced (fixed by the workflow or
   * the trainer), never Date.now() at logging time; a new timestamp makes a second point.
   * Params are write-once: the same value again is accepted, another value throws
   * MlflowParamConflictError.
   */
  async logBatch({ runId, params, metrics = [], tags }: LogBatchInput): Promise<void> {
    const batch = { params: entries(params), tags: entries(tags), metrics };
    for (const chunk of chunkBatch(batch)) {
      try {
        await this.http.call('POST', 'runs/log-batch', {
          run_id: runId,
          params: chunk.params,
          tags: chunk.tags,
          metrics: chunk.metrics.map((m) => ({ ...m, value: encodeValue(m.value) })),
        });
      } catch (error) {
        throw MlflowParamConflictError.matches(error) ? new MlflowParamConflictError(runId, error) : error;
      }
    }
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.http.call('POST', 'runs/set-tag', { run_id: runId, key, value: redactSecrets(value) });
  }

  async updateRun(runId: string, status: Exclude<RunStatus, 'SCHEDULED'>, endTime?: number): Promise<RunInfo> {
    // The server silently keeps the old status when it gets one it does not know.
    if (!['RUNNING', 'FINISHED', 'FAILED', 'KILLED'].includes(status)) throw new Error(`run ${runId}: unknown run status ${status}`);
    const { run_info } = await this.http.call<{ run_info: RunInfo }>('POST', 'runs/update', { run_id: runId, status, end_time: endTime });
    return run_info;
  }

  /** Every logged point of one metric, in the server's order (by step, then timestamp). */
  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    const points: Metric[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.http.call<{ metrics?: WireMetric[]; next_page_token?: string }>('GET', 'metrics/get-history', {
        run_id: runId,
        metric_key: key,
        max_results: 10_000,
        page_token: pageToken,
      });
      points.push(...(page.metrics ?? []).map(decodeMetric));
      pageToken = page.next_page_token;
    } while (pageToken);
    return points;
  }

  /** Uploads one file (streamed) to `artifactPath` under the run's artifact root; replaces what is there. */
  async uploadArtifact(runId: string, localPath: string, artifactPath: string): Promise<void> {
    const { size } = await stat(localPath);
    const url = artifactProxyUrl(this.trackingUri, await this.artifactRoot(runId), artifactPath);
    await this.http.raw('mlflow-artifacts upload', {
      method: 'PUT',
      url,
      body: () => ({
        body: Readable.toWeb(createReadStream(localPath)) as ReadableStream<Uint8Array>,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      }),
    });
  }

  /** The bytes of one artifact of the run. */
  async downloadArtifact(runId: string, artifactPath: string): Promise<Buffer> {
    const url = artifactProxyUrl(this.trackingUri, await this.artifactRoot(runId), artifactPath);
    const response = await this.http.raw('mlflow-artifacts download', { method: 'GET', url });
    return Buffer.from(await response.arrayBuffer());
  }

  /** Direct children of `path` (the run's artifact root by default); paths are relative to the root. */
  async listArtifacts(runId: string, path?: string): Promise<FileInfo[]> {
    const files: FileInfo[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.http.call<{ files?: FileInfo[]; next_page_token?: string }>('GET', 'artifacts/list', {
        run_id: runId,
        path,
        page_token: pageToken,
      });
      files.push(...(page.files ?? []));
      pageToken = page.next_page_token;
    } while (pageToken);
    return files;
  }

  private async artifactRoot(runId: string): Promise<string> {
    let root = this.artifactRoots.get(runId);
    if (!root) {
      root = (await this.getRun(runId)).info.artifact_uri;
      this.artifactRoots.set(runId, root);
    }
    return root;
  }
}
