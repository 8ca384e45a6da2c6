import { spawn } from 'node:child_process';
import { access, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servicesDown, servicesStatus, servicesUp } from '../../services/index.ts';
import { projectRoot, stateFilePath } from '../../services/paths.ts';
import { temporalCommand } from '../../services/temporal-server.ts';
import { writeServicesState } from '../../services/services-state.ts';
import { testServices } from '../helpers/services.ts';

const exists = (path: string) => access(path).then(() => true, () => false);

describe('services: failures and stale state', () => {
  let stateDir: string;
  beforeAll(async () => {
    await mkdir(join(projectRoot, '.medsynth-test'), { recursive: true });
    stateDir = await mkdtemp(join(projectRoot, '.medsynth-test', 'failures-'));
  });
  afterAll(async () => {
    await servicesDown(stateDir);
    await rm(stateDir, { recursive: true, force: true });
  });

  it('a server that cannot start fails with its log, and nothing is left running or recorded', async () => {
    await mkdir(join(stateDir, 'temporal.db')); // SQLite cannot open a directory
    try {
      const env = { ...process.env, MLFLOW_TRACKING_URI: testServices().mlflowUri, TEMPORAL_ADDRESS: '' };
      const error = (await servicesUp({ stateDir, env }).then(() => undefined, (e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(Error);
      expect(error.message).toMatch(/Temporal \(pid \d+\) exited during startup/);
      expect(error.message).toMatch(/unable to open database file/);
      expect(error.message).toContain(join(stateDir, 'temporal.log'));
      expect(await exists(stateFilePath(stateDir))).toBe(false);
      expect((await servicesStatus(stateDir, env)).temporal.state).toBe('stopped');
    } finally {
      await rm(join(stateDir, 'temporal.db'), { recursive: true });
    }
  });

  it('a configured port that is taken fails at once, starting nothing', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const busyPort = (blocker.address() as { port: number }).port;
    try {
      const env = { ...process.env, TEMPORAL_ADDRESS: testServices().temporalAddress, MLFLOW_TRACKING_URI: '' };
      await expect(servicesUp({ stateDir, mlflowPort: busyPort, env })).rejects.toThrow(`MLflow port ${busyPort} is already in use`);
      expect(await exists(stateFilePath(stateDir))).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('a services.json whose pid now belongs to another process: stopped, and down leaves that process alone', async () => {
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore', detached: true });
    try {
      await writeServicesState(stateDir, {
        temporal: {
          pid: stranger.pid!,
          port: 1,
          uiPort: 2,
          address: '127.0.0.1:1',
          uiUrl: 'http://127.0.0.1:2',
          logPath: join(stateDir, 'temporal.log'),
          startedAt: new Date().toISOString(),
          command: temporalCommand(stateDir, { port: 1, uiPort: 2 }),
        },
      });
      const status = await servicesStatus(stateDir, { MLFLOW_TRACKING_URI: testServices().mlflowUri });
      expect(status.temporal.state).toBe('stopped');
      await servicesDown(stateDir);
      expect(() => process.kill(stranger.pid!, 0)).not.toThrow();
      expect(await exists(stateFilePath(stateDir))).toBe(false);
    } finally {
      stranger.kill('SIGKILL');
    }
  });
});
