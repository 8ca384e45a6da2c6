import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { servicesDown, servicesUp } from '../../services/index.ts';
import { projectRoot } from '../../services/paths.ts';
import { testServices } from '../helpers/services.ts';

// The first "free" UI port handed to Temporal is one that another process has just taken.
const taken = vi.hoisted(() => ({ port: 0, handedOut: false }));
vi.mock('../../services/free-port.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../services/free-port.ts')>();
  return {
    ...real,
    freePorts: async (count: number) => {
      const ports = await real.freePorts(count);
      if (count === 2 && !taken.handedOut) {
        taken.handedOut = true;
        ports[1] = taken.port;
      }
      return ports;
    },
  };
});

describe('servicesUp: a free port taken before the server binds it', () => {
  const blocker = createServer();
  let stateDir: string;
  afterAll(async () => {
    blocker.close();
    if (stateDir) {
      await servicesDown(stateDir);
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('tries again on other ports', async () => {
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    taken.port = (blocker.address() as { port: number }).port;
    await mkdir(join(projectRoot, '.medsynth-test'), { recursive: true });
    stateDir = await mkdtemp(join(projectRoot, '.medsynth-test', 'port-retry-'));

    const env = { ...process.env, MLFLOW_TRACKING_URI: testServices().mlflowUri, TEMPORAL_ADDRESS: '' };
    const info = await servicesUp({ stateDir, env });
    expect(taken.handedOut).toBe(true);
    expect(info.local.temporal!.uiPort).not.toBe(taken.port);
    expect(await readFile(join(stateDir, 'temporal.log'), 'utf8')).toMatch(new RegExp(`${taken.port}.*address already in use`));
  });
});
