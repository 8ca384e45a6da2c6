// What activities need from the outside world, injected by the worker (and by tests).
import type { MlflowClient } from '../tracking/mlflow-client.ts';
import type { Paths } from '../settings.ts';

export interface ActivityDeps {
  paths: Paths;
  mlflow: MlflowClient;
}
