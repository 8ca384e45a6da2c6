// medsynth services up|status|down: the local Temporal and MLflow servers.
import { servicesDown, servicesStatus, servicesUp } from '../../services/index.ts';
import { resolvePaths } from '../../settings.ts';

export interface ServicesUpOptions {
  temporalPort?: number;
  temporalUiPort?: number;
  mlflowPort?: number;
}

export async function servicesCommand(action: 'up' | 'status' | 'down', opts: ServicesUpOptions): Promise<void> {
  const stateDir = resolvePaths().services;
  if (action === 'up') await servicesUp({ stateDir, ...opts });
  if (action === 'down') {
    await servicesDown(stateDir);
    process.stdout.write('services stopped\n');
    return;
  }
  process.stdout.write(`${JSON.stringify(await servicesStatus(stateDir), null, 2)}\n`);
}
