// medsynth services up|status|down: the local Temporal and MLflow servers.
import { servicesDown, servicesStatus, servicesUp } from '../../services/index.ts';
import { resolvePaths } from '../../settings.ts';

export interface ServicesUpOptions {
  temporalPort?: number;
  temporalUiPort?: number;
  mlflowPort?: number;
}

export async function servicesCommand(action: 'up' | 'status' | 'down', opts: ServicesUpOptions & { json: boolean }): Promise<void> {
  const stateDir = resolvePaths().services;
  const { json, ...ports } = opts;
  if (action === 'up') await servicesUp({ stateDir, ...ports });
  if (action === 'down') {
    await servicesDown(stateDir);
    process.stdout.write('services stopped\n');
    return;
  }
  const status = await servicesStatus(stateDir);
  if (json) {
    process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return;
  }
  for (const [name, s] of [['temporal', status.temporal], ['mlflow', status.mlflow]] as const) {
    const where = [s.endpoint, s.pid ? `pid ${s.pid}` : '', s.logPath ? `log ${s.logPath}` : ''].filter(Boolean).join('  ');
    process.stdout.write(`${name.padEnd(9)} ${s.state.padEnd(10)} ${where}\n`);
  }
}
