// Every activity, built from injected dependencies (createActivities) so tests can point them at
// their own servers and folders. Workflows import only the type.
import type { ActivityDeps } from './deps.ts';
import { finishRunActivity } from './finish-run.ts';
import { ingestActivity } from './ingest.ts';
import { recordDatasetActivity } from './record-dataset.ts';
import { generateActivity } from './generate.ts';
import { startRunActivity } from './start-run.ts';
import { trainActivity } from './train.ts';

export function createActivities(deps: ActivityDeps) {
  return {
    startRun: startRunActivity(deps),
    ingest: ingestActivity(deps),
    recordDataset: recordDatasetActivity(deps),
    finishRun: finishRunActivity(deps),
    train: trainActivity(deps),
    generate: generateActivity(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps.ts';
