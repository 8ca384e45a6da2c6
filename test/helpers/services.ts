import { inject } from 'vitest';
import type { ServiceEndpoints } from '../../services/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** set by test/global-setup.ts; undefined when MEDSYNTH_TEST_NO_SERVICES=1 */
    medsynthServices: ServiceEndpoints | undefined;
  }
}

/** Where the servers started (or named by env) for this test run are. */
export function testServices(): ServiceEndpoints {
  const services = inject('medsynthServices');
  if (!services) {
    throw new Error(
      'Temporal and MLflow were not started for this run (MEDSYNTH_TEST_NO_SERVICES=1, or vitest ran without test/global-setup.ts). ' +
        'Unset MEDSYNTH_TEST_NO_SERVICES, or set TEMPORAL_ADDRESS and MLFLOW_TRACKING_URI to running servers.',
    );
  }
  return services;
}
