// MLflow REST shapes as the server sends them (snake_case), so they read like MLflow's API docs.
// Run data lists are always present here, even where the server leaves them out.

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: 'active' | 'deleted';
  tags?: Array<{ key: string; value: string }>;
}

export interface RunInfo {
  run_id: string;
  run_name: string;
  experiment_id: string;
  user_id?: string;
  status: RunStatus;
  start_time: number;
  end_time?: number;
  /** e.g. mlflow-artifacts:/<experiment_id>/<run_id>/artifacts when the server proxies artifacts */
  artifact_uri: string;
  lifecycle_stage: 'active' | 'deleted';
}

export interface Metric {
  key: string;
  /** NaN round-trips; MLflow stores ±Infinity as ±Number.MAX_VALUE */
  value: number;
  step: number;
  /** milliseconds since the epoch */
  timestamp: number;
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface Run {
  info: RunInfo;
  data: { metrics: Metric[]; params: KeyValue[]; tags: KeyValue[] };
}

export interface FileInfo {
  /** relative to the run's artifact root */
  path: string;
  is_dir: boolean;
  file_size?: number;
}

export const asRecord = (entries: KeyValue[]): Record<string, string> =>
  Object.fromEntries(entries.map(({ key, value }) => [key, value]));
