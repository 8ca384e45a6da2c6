import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { stateFilePath } from './paths.ts';

const localService = {
  pid: z.number().int().positive(),
  port: z.number().int().positive(),
  logPath: z.string(),
  startedAt: z.string(),
  command: z.array(z.string()),
};

export const temporalRecordSchema = z.object({
  ...localService,
  address: z.string(),
  uiPort: z.number().int().positive(),
  uiUrl: z.string(),
});
export type TemporalRecord = z.infer<typeof temporalRecordSchema>;

export const mlflowRecordSchema = z.object({ ...localService, uri: z.string() });
export type MlflowRecord = z.infer<typeof mlflowRecordSchema>;

/** `<stateDir>/services.json`: the locally started servers. External ones are never recorded. */
export const servicesStateSchema = z.object({
  temporal: temporalRecordSchema.optional(),
  mlflow: mlflowRecordSchema.optional(),
});
export type ServicesState = z.infer<typeof servicesStateSchema>;

export async function readServicesState(stateDir: string): Promise<ServicesState> {
  let text;
  try {
    text = await readFile(stateFilePath(stateDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  const parsed = servicesStateSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new Error(`${stateFilePath(stateDir)} is not a services record:\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/** Writes atomically; an empty state removes the file. */
export async function writeServicesState(stateDir: string, state: ServicesState): Promise<void> {
  const path = stateFilePath(stateDir);
  if (!state.temporal && !state.mlflow) {
    await rm(path, { force: true });
    return;
  }
  await mkdir(stateDir, { recursive: true });
  await writeFile(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}
