// Resolves spec.path and turns "not there" into a BadInputError that says what was expected.
import { stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import type { DatasetSpec } from '../experiments/schema.ts';
import { BadInputError } from './errors.ts';

export interface ResolvedPath {
  absolute: string;
  stats: Stats;
}

export async function resolveDatasetPath(spec: DatasetSpec, expected: string): Promise<ResolvedPath> {
  if (!spec.path) throw new BadInputError(`dataset.path is required for format ${spec.format}; expected ${expected}`);
  const absolute = path.resolve(spec.path);
  try {
    return { absolute, stats: await stat(absolute) };
  } catch {
    throw new BadInputError(`${absolute} does not exist; expected ${expected}`);
  }
}

export async function resolveDatasetFolder(spec: DatasetSpec, expected: string): Promise<string> {
  const { absolute, stats } = await resolveDatasetPath(spec, expected);
  if (!stats.isDirectory()) throw new BadInputError(`${absolute} is not a folder; expected ${expected}`);
  return absolute;
}

export function noImagesError(where: string, expected: string): BadInputError {
  return new BadInputError(`${where} contains no images; expected ${expected}`);
}
