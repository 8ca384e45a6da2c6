import { randomUUID } from 'node:crypto';
import { MlflowClient } from '../../tracking/mlflow-client.ts';
import { testServices } from '../helpers/services.ts';

/** A client on the run's MLflow server, and a fresh experiment + run so that tests do not collide. */
export async function freshRun(label: string) {
  const mlflow = new MlflowClient(testServices().mlflowUri);
  const experimentId = await mlflow.getOrCreateExperiment(`test-${label}-${randomUUID()}`);
  const run = await mlflow.createRun({ experimentId, runName: label, startTime: Date.now() });
  return { mlflow, experimentId, runId: run.info.run_id };
}
