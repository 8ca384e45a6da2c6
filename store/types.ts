// Row shapes the store reads and writes. Rows of store tables use the tables' snake_case column names.

/** One row of `runs`, keyed by its column names. run_id is the Temporal workflow id. */
export interface RunRow {
  run_id: string;
  name: string | null;
  experiment: string | null;
  spec_hash: string | null;
  spec_json: string | null;
  dataset_manifest_hash: string | null;
  temporal_workflow_id: string | null;
  temporal_run_id: string | null;
  mlflow_experiment_id: string | null;
  mlflow_run_id: string | null;
  git_commit: string | null;
  /** Free text owned by the workflows, e.g. RUNNING, COMPLETED, FAILED, CANCELLED. */
  status: string;
  started_at: Date | null;
  ended_at: Date | null;
  error: string | null;
}

/** What upsertRun takes: undefined fields are left as they are, null clears them. */
export type RunUpsert = Pick<RunRow, 'run_id'> & Partial<Omit<RunRow, 'run_id'>>;

export interface MetricPoint {
  name: string;
  step: number;
  value: number;
  /** Groups metrics of one name, e.g. a class label for per-category FID; '' when none. */
  category?: string;
}

/** One row of `artifacts`, keyed by its column names (recorded_at is set by the store). */
export interface ArtifactRecord {
  run_id: string;
  /** Path of the artifact relative to the run's artifact root: the row's identity within the run. */
  path: string;
  sha256?: string | null;
  kind?: string | null;
  bytes?: number | null;
  /** Where MLflow (or the content-addressed store) serves it, e.g. runs:/<mlflow run id>/<path>. */
  uri?: string | null;
  /** Where the file lies on this machine, when it does. */
  local_path?: string | null;
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
