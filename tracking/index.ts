export { MlflowClient } from './mlflow-client.ts';
export type { CreateRunInput, LogBatchInput, MlflowClientOptions } from './mlflow-client.ts';
export { MlflowError, MlflowParamConflictError } from './mlflow-error.ts';
export type { Experiment, FileInfo, KeyValue, Metric, Run, RunInfo, RunStatus } from './mlflow-types.ts';
export { asRecord } from './mlflow-types.ts';
export { flattenParams, paramValueLimit } from './flatten.ts';
