// The Store: one connection to the store file, with every operation run one at a time so that
// concurrent callers never interleave inside each other's transactions. The queue is shared by
// every Store of one file in this process: DuckDB would otherwise abort one of two concurrent
// writes of the same rows ("Conflict on tuple deletion"), as parallel sweep trials ingesting one
// dataset showed.

import type { Table } from 'apache-arrow';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { IngestResult, ManifestRow } from '../datasets/types.ts';
import { redactRecord, redactSecrets } from '../secrets.ts';
import { insertArrowTable } from './arrow-in.ts';
import * as datasets from './datasets.ts';
import { runQuery, runQueryArrow, writeQueryResult } from './query.ts';
import type { QueryParams, ResultFileFormat } from './query.ts';
import * as runs from './runs.ts';
import * as sweeps from './sweeps.ts';
import type { ArtifactRecord, MetricPoint, OnConflict, QueryResult, RunRow, RunUpsert } from './types.ts';

/** The tail of each store file's operation queue, by absolute path. */
const queues = new Map<string, Promise<unknown>>();

export class Store {
  private closed = false;

  constructor(
    private readonly conn: DuckDBConnection,
    /** Absolute path of the store file. */
    readonly path: string,
    readonly readOnly: boolean,
    private readonly release: () => Promise<void>,
  ) {}

  private serial<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`the store ${this.path} is closed`));
    const run = (queues.get(this.path) ?? Promise.resolve()).then(() => fn(this.conn));
    const tail = run.catch(() => undefined);
    queues.set(this.path, tail);
    // forget an idle queue, so the map does not grow with every file ever opened
    void tail.then(() => queues.get(this.path) === tail && queues.delete(this.path));
    return run;
  }

  /** Waits for pending operations, then disconnects; the last store open on the file releases its lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await queues.get(this.path);
    this.conn.closeSync();
    await this.release();
  }

  /** The spec and the error are user text: secret env values in them are redacted (secrets.ts). */
  upsertRun(run: RunUpsert): Promise<void> {
    const redacted = { ...run, ...(typeof run.spec_json === 'string' ? { spec_json: redactSecrets(run.spec_json) } : {}), ...(typeof run.error === 'string' ? { error: redactSecrets(run.error) } : {}) };
    return this.serial((c) => runs.upsertRun(c, redacted));
  }

  setRunStatus(runId: string, status: string, opts: { endedAt?: Date | null; error?: string | null } = {}): Promise<void> {
    return this.upsertRun({ run_id: runId, status, ended_at: opts.endedAt, error: opts.error });
  }

  getRun(runId: string): Promise<RunRow | null> {
    return this.serial((c) => runs.getRun(c, runId));
  }

  logParams(runId: string, params: Record<string, string>): Promise<void> {
    return this.serial((c) => runs.logParams(c, runId, redactRecord(params)!));
  }

  getParams(runId: string): Promise<Record<string, string>> {
    return this.serial((c) => runs.getParams(c, runId));
  }

  logMetrics(runId: string, points: readonly MetricPoint[]): Promise<void> {
    return this.serial((c) => runs.logMetrics(c, runId, points));
  }

  getMetrics(runId: string, name?: string): Promise<Required<MetricPoint>[]> {
    return this.serial((c) => runs.getMetrics(c, runId, name));
  }

  recordArtifact(artifact: ArtifactRecord): Promise<void> {
    return this.serial((c) => runs.recordArtifact(c, artifact));
  }

  upsertSweep(row: sweeps.SweepUpsert): Promise<void> {
    return this.serial((c) => sweeps.upsertSweep(c, row));
  }

  upsertTrial(row: sweeps.TrialUpsert): Promise<void> {
    return this.serial((c) => sweeps.upsertTrial(c, row));
  }

  getSweep(sweepId: string): Promise<sweeps.SweepRow | null> {
    return this.serial((c) => sweeps.getSweep(c, sweepId));
  }

  getTrials(sweepId: string): Promise<sweeps.TrialRow[]> {
    return this.serial((c) => sweeps.getTrials(c, sweepId));
  }

  saveGeneratedImages(runId: string, images: readonly runs.GeneratedImage[]): Promise<number> {
    return this.serial((c) => runs.saveGeneratedImages(c, runId, images));
  }

  linkRunDataset(runId: string, manifestHash: string, role = ''): Promise<void> {
    return this.serial((c) => runs.linkRunDataset(c, runId, manifestHash, role));
  }

  saveDataset(result: IngestResult, manifestParquetPath?: string): Promise<void> {
    return this.serial((c) => datasets.saveDataset(c, result, manifestParquetPath));
  }

  loadDataset(manifestHash: string): Promise<IngestResult | null> {
    return this.serial((c) => datasets.loadDataset(c, manifestHash));
  }

  loadManifest(manifestHash: string): Promise<ManifestRow[]> {
    return this.serial((c) => datasets.loadManifest(c, manifestHash));
  }

  exportManifestParquet(manifestHash: string, filePath: string): Promise<number> {
    return this.serial((c) => datasets.exportManifestParquet(c, manifestHash, filePath));
  }

  exportRejects(manifestHash: string, filePath: string): Promise<number> {
    return this.serial((c) => datasets.exportRejects(c, manifestHash, filePath));
  }

  query(sql: string, params?: QueryParams): Promise<QueryResult> {
    return this.serial((c) => runQuery(c, sql, params));
  }

  queryArrow(sql: string, params?: QueryParams): Promise<Table> {
    return this.serial((c) => runQueryArrow(c, sql, params));
  }

  /** Appends the Arrow table's rows to a store table; returns how many rows were written. */
  insertArrow(table: Table, tableName: string, opts: { onConflict?: OnConflict } = {}): Promise<number> {
    return this.serial((c) => insertArrowTable(c, table, tableName, opts.onConflict ?? 'error'));
  }

  writeQueryResult(sql: string, outPath: string): Promise<{ path: string; format: ResultFileFormat; rows: number }> {
    return this.serial((c) => writeQueryResult(c, sql, outPath));
  }
}
