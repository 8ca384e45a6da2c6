import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { mlflowHealthy } from './health.ts';
import { logSize } from './log-tail.ts';
import { venvBin } from './paths.ts';
import { spawnDetached, stopProcessGroup } from './processes.ts';
import type { MlflowRecord } from './services-state.ts';
import { waitHealthy } from './wait-healthy.ts';

export function mlflowCommand(stateDir: string, port: number): string[] {
  return [
    venvBin('mlflow'), 'server',
    '--host', '127.0.0.1',
    '--port', String(port),
    '--backend-store-uri', `sqlite:///${join(stateDir, 'mlflow.db')}`,
    // New experiments get artifact_location mlflow-artifacts:/<id>, served from this folder.
    '--serve-artifacts',
    '--artifacts-destination', join(stateDir, 'mlflow-artifacts'),
    '--workers', '1',
  ];
}

/**
 * MLflow 3 starts a job runner with seven huey consumer processes (about 1 GB) for its GenAI
 * features, which tracking never uses; the user may still turn it back on.
 */
function mlflowEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false', ...env, PYTHONUNBUFFERED: '1' };
}

/** Starts the MLflow tracking server (SQLite + local artifact proxy) and waits until it answers. */
export async function startMlflow(stateDir: string, port: number, env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<MlflowRecord> {
  const command = mlflowCommand(stateDir, port);
  const logPath = join(stateDir, 'mlflow.log');
  await mkdir(join(stateDir, 'mlflow-artifacts'), { recursive: true });
  const startedAt = new Date().toISOString();
  const logOffset = await logSize(logPath);
  const pid = spawnDetached({ command: command[0]!, args: command.slice(1), cwd: stateDir, env: mlflowEnv(env), logPath });
  const uri = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy({ name: 'MLflow', pid, command, logPath, logOffset, timeoutMs, healthy: () => mlflowHealthy(uri) });
  } catch (error) {
    await stopProcessGroup(pid, 2_000);
    throw error;
  }
  return { pid, port, logPath, startedAt, command, uri };
}
