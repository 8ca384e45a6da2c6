import { join } from 'node:path';
import { namespace } from '../temporal.config.ts';
import { temporalHealthy } from './health.ts';
import { logSize } from './log-tail.ts';
import { venvBin } from './paths.ts';
import { spawnDetached, stopProcessGroup } from './processes.ts';
import type { TemporalRecord } from './services-state.ts';
import { waitHealthy } from './wait-healthy.ts';

export interface TemporalPorts {
  port: number;
  uiPort: number;
}

export function temporalCommand(stateDir: string, { port, uiPort }: TemporalPorts): string[] {
  return [
    venvBin('temporal'), 'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--ui-port', String(uiPort),
    '--db-filename', join(stateDir, 'temporal.db'),
    '--namespace', namespace,
    '--log-level', 'warn',
  ];
}

/** Starts the Temporal dev server (SQLite file in stateDir) and waits until it serves the namespace. */
export async function startTemporal(stateDir: string, ports: TemporalPorts, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<TemporalRecord> {
  const command = temporalCommand(stateDir, ports);
  const logPath = join(stateDir, 'temporal.log');
  const startedAt = new Date().toISOString();
  const logOffset = await logSize(logPath);
  const pid = spawnDetached({ command: command[0]!, args: command.slice(1), cwd: stateDir, env, logPath });
  const address = `127.0.0.1:${ports.port}`;
  try {
    await waitHealthy({ name: 'Temporal', pid, command, logPath, logOffset, timeoutMs, healthy: () => temporalHealthy(address) });
  } catch (error) {
    await stopProcessGroup(pid, 2_000);
    throw error;
  }
  return { pid, port: ports.port, logPath, startedAt, command, address, uiPort: ports.uiPort, uiUrl: `http://127.0.0.1:${ports.uiPort}` };
}
