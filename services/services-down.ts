import { resolve } from 'node:path';
import { isOurProcess, stopProcessGroup } from './processes.ts';
import { readServicesState, writeServicesState } from './services-state.ts';
import { withStateLock } from './state-lock.ts';

/** Stops the servers recorded in `<stateDir>/services.json` and removes it. External servers are left alone. */
export async function servicesDown(stateDir: string, graceMs = 10_000): Promise<void> {
  const dir = resolve(stateDir);
  await withStateLock(dir, async () => {
    const state = await readServicesState(dir);
    await Promise.all(
      [state.temporal, state.mlflow].map(async (record) => {
        if (record && (await isOurProcess(record.pid, record.command))) await stopProcessGroup(record.pid, graceMs);
      }),
    );
    await writeServicesState(dir, {});
  });
}
