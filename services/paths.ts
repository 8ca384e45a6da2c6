import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/** Executables installed by scripts/setup.sh into the project's venv. */
export const venvBin = (name: 'temporal' | 'mlflow'): string => join(projectRoot, '.venv', 'bin', name);

export const stateFilePath = (stateDir: string): string => join(stateDir, 'services.json');
export const lockFilePath = (stateDir: string): string => join(stateDir, 'services.lock');
