// Starts Temporal and MLflow once for the whole vitest run (unless MEDSYNTH_TEST_NO_SERVICES=1)
// and gives their addresses to tests through `inject` (see test/helpers/services.ts). Servers
// named by TEMPORAL_ADDRESS / MLFLOW_TRACKING_URI are used instead of local ones.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { servicesDown, servicesUp } from '../services/index.ts';
import { projectRoot } from '../services/paths.ts';
import { signalReaches } from '../services/processes.ts';
import './helpers/services.ts';

const testRoot = join(projectRoot, '.medsynth-test');

/** Servers left by a run that was killed before its teardown (the pid in the folder name is gone). */
async function stopLeftovers(): Promise<void> {
  const names = await readdir(testRoot).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(/^services-(\d+)$/.exec(name)?.[1]);
    if (!pid || signalReaches(pid)) continue;
    await servicesDown(join(testRoot, name));
    await rm(join(testRoot, name), { recursive: true, force: true });
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.MEDSYNTH_TEST_NO_SERVICES === '1') {
    project.provide('medsynthServices', undefined);
    return undefined;
  }
  await stopLeftovers();
  const stateDir = join(testRoot, `services-${process.pid}`);
  const { temporalAddress, mlflowUri, temporalUiUrl, mlflowUiUrl, external } = await servicesUp({ stateDir });
  project.provide('medsynthServices', { temporalAddress, mlflowUri, temporalUiUrl, mlflowUiUrl, external });
  return async () => {
    await servicesDown(stateDir);
    await rm(stateDir, { recursive: true, force: true });
  };
}
