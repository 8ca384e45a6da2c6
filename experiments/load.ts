// Reading a spec file: YAML or JSON in, a resolved Experiment out, or a SpecError that lists
// every offending field path with what was expected.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { UserError } from '../errors.ts';
import { experimentSchema, type Experiment } from './schema.ts';

export class SpecError extends UserError {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: invalid experiment spec\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const at = issue.path.map(String).join('.') || '(top level)';
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => `${at === '(top level)' ? k : `${at}.${k}`}: unknown key`).join('\n  - ');
    }
    return `${at}: ${issue.message}`;
  });
}

/** Validates an already-parsed object; `source` names it in errors. */
export function parseSpec(raw: unknown, source = 'spec'): Experiment {
  const result = experimentSchema.safeParse(raw);
  if (!result.success) throw new SpecError(source, describeIssues(result.error.issues));
  return result.data;
}

export async function loadSpecFile(file: string): Promise<Experiment> {
  return (await readSpecFile(file)).spec;
}

/** The spec as written (`raw`, which sweeps apply their overrides to) and validated. */
export async function readSpecFile(file: string): Promise<{ raw: Record<string, unknown>; spec: Experiment }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UserError(`${file}: cannot read spec (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let raw: unknown;
  try {
    raw = YAML.parse(text, { prettyErrors: true });
  } catch (err) {
    // the yaml package's first line ends in ":" before the excerpt it prints on the next lines
    throw new SpecError(file, [`not valid YAML or JSON: ${(err as Error).message.split('\n')[0]!.replace(/:\s*$/, '')}`]);
  }
  const spec = parseSpec(raw, file);
  return { raw: raw as Record<string, unknown>, spec };
}

/** Makes the spec's local paths absolute so a worker with another working directory reads the same files. */
export function resolveSpecPaths(spec: Experiment, cwd = process.cwd()): Experiment {
  const abs = (p: string | undefined) => (p === undefined ? p : path.resolve(cwd, p));
  const generation =
    spec.generation && !Array.isArray(spec.generation.prompts)
      ? { ...spec.generation, prompts: { file: abs(spec.generation.prompts.file)! } }
      : spec.generation;
  return {
    ...spec,
    dataset: { ...spec.dataset, path: abs(spec.dataset.path), testPrompts: abs(spec.dataset.testPrompts) },
    generation,
  };
}

/** JSON with object keys sorted at every depth: equal specs give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export function specHash(spec: Experiment): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}
