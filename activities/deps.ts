// What activities need from the outside world, injected by the worker (and by tests).
import { BlobStore } from '../artifacts/blob-store.ts';
import type { MlflowClient } from '../tracking/mlflow-client.ts';
import type { Paths } from '../settings.ts';

export interface ActivityDeps {
  /** this node's folders; gpu activities never open paths.store (DuckDB lives with the cpu queue) */
  paths: Paths;
  mlflow: MlflowClient;
  /** the bytes that travel between nodes, through the MLflow server */
  blobs: BlobStore;
  /** the Temporal UI, when this node knows it (local services): reports link to it */
  temporalUiUrl?: string;
}

/** The dependencies of the activities of a worker on this node. */
export function nodeDeps(paths: Paths, mlflow: MlflowClient, temporalUiUrl?: string): ActivityDeps {
  return { paths, mlflow, blobs: new BlobStore(mlflow.http, paths.cache), ...(temporalUiUrl ? { temporalUiUrl } : {}) };
}
