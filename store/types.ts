// Row shapes the store reads and writes, in TypeScript's camelCase (the tables use snake_case).

/** One row of `runs`. run_id is the Temporal workflow id. */
export interface RunRecord {
  runId: string;
  name: string | null;
  experiment: string | null;
  specHash: string | null;
  specJson: string | null;
  datasetManifestHash: string | null;
  temporalWorkflowId: string | null;
  temporalRunId: string | null;
  mlflowExperimentId: string | null;
  mlflowRunId: string | null;
  gitCommit: string | null;
  /** Free text owned by the workflows, e.g. pending, running, completed, failed, cancelled. */
  status: string;
  startedAt: Date | null;
  endedAt: Date | null;
  error: string | null;
}

/** What upsertRun takes: undefined fields are left as they are, null clears them. */
export type RunUpsert = Pick<RunRecord, 'runId'> & Partial<Omit<RunRecord, 'runId'>>;

export interface MetricPoint {
  name: string;
  step: number;
  value: number;
  /** Groups metrics of one name, e.g. a class label for per-category FID; '' when none. */
  category?: string;
}

export interface ArtifactRecord {
  runId: string;
  /** Path of the artifact relative to the run's artifact root: the row's identity within the run. */
  path: string;
  sha256?: string | null;
  kind?: string | null;
  bytes?: number | null;
  /** Where MLflow (or the content-addressed store) serves it. */
  uri?: string | null;
}

export interface QueryColumn {
  name: string;
  /** DuckDB's type name, e.g. VARCHAR, BIGINT, VARCHAR[], TIMESTAMP WITH TIME ZONE. */
  type: string;
}

export interface QueryResult {
  columns: QueryColumn[];
  rows: unknown[][];
}

export type OnConflict = 'error' | 'replace' | 'ignore';
