// A spec's sweep: the trials it stands for, each one a full spec validated by the same schema.
// Grid: the cartesian product of the axes, in the order the axes are written (the last axis
// varies fastest). Random: `samples` draws, one value per axis each, from numpy's
// RandomState(seed), so the same seed gives the same trials. A trial's id is the sweep id, its
// index and a hash of its overrides: deterministic, so a restarted sweep never starts a trial twice.
// Overrides apply to the spec as written (before defaults), so an axis may switch method.kind.
import { createHash } from 'node:crypto';
import { UserError } from '../errors.ts';
import { betterIs } from '../metrics/keys.ts';
import { headlineKey } from '../metrics/protocols/protocols.ts';
import { NumpyRandomState } from '../metrics/random/numpy-random-state.ts';
import type { Objective } from '../workflows/sweep-messages.ts';
import { canonicalJson, parseSpec, resolveSpecPaths, SpecError, specHash } from './load.ts';
import type { Experiment } from './schema.ts';

export type Overrides = Record<string, unknown>;

export interface Trial {
  index: number;
  /** the trial's experiment workflow id (and run id) */
  id: string;
  overrides: Overrides;
  spec: Experiment;
  specHash: string;
}

/** Axes that would make a trial something other than a run of this sweep. */
const FORBIDDEN_AXES = [/^name$/, /^sweep(\.|$)/];

function product(axes: Array<[string, unknown[]]>): Overrides[] {
  let combos: Overrides[] = [{}];
  for (const [key, values] of axes) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  return combos;
}

function sampled(axes: Array<[string, unknown[]]>, samples: number, seed: number): Overrides[] {
  const rng = new NumpyRandomState(seed);
  return Array.from({ length: samples }, () =>
    Object.fromEntries(axes.map(([key, values]) => [key, values[values.length === 1 ? 0 : rng.interval(values.length - 1)]])),
  );
}

/** `spec` with the value at each dotted path replaced (sections on the way are created). */
export function applyOverrides(spec: Record<string, unknown>, overrides: Overrides): Record<string, unknown> {
  const out = structuredClone(spec);
  for (const [dotted, value] of Object.entries(overrides)) {
    const keys = dotted.split('.');
    let node: Record<string, unknown> = out;
    for (const key of keys.slice(0, -1)) {
      const next = node[key];
      if (next !== undefined && (typeof next !== 'object' || next === null || Array.isArray(next))) {
        throw new UserError(`sweep axis ${dotted}: ${key} is a value, not a section of the spec`);
      }
      node = (node[key] ??= {}) as Record<string, unknown>;
    }
    node[keys.at(-1)!] = value;
  }
  return out;
}

export const overridesHash = (overrides: Overrides): string =>
  createHash('sha256').update(canonicalJson(overrides)).digest('hex').slice(0, 8);

/** Successive halving scores trials by training to each rung and generating: both must happen. */
function checkRungs(rungs: readonly number[], spec: Experiment): void {
  if (!spec.method) throw new UserError('sweep.asha: needs a method: section (trials train to each rung)');
  if (!spec.generation) throw new UserError('sweep.asha: needs a generation: section (its prompts score each rung)');
  if (!spec.evaluation) throw new UserError('sweep.asha: needs an evaluation: section (its features extractor scores each rung)');
  const over = rungs.filter((r) => r >= spec.method!.steps);
  if (over.length) throw new UserError(`sweep.asha.rungs: ${over.join(', ')} not below method.steps ${spec.method.steps}`);
}

/**
 * The trials of a spec with a `sweep:` section. `raw` is the spec as written (the YAML/JSON
 * object), `spec` its validated form. Every invalid trial is named at once, with its overrides.
 */
export function expandSweep(raw: Record<string, unknown>, spec: Experiment, sweepId: string, cwd = process.cwd()): Trial[] {
  const sweep = spec.sweep;
  if (!sweep) throw new UserError(`spec ${spec.name} has no sweep: section`);
  const axes = Object.entries(sweep.axes);
  const forbidden = axes.map(([key]) => key).filter((key) => FORBIDDEN_AXES.some((re) => re.test(key)));
  if (forbidden.length) throw new UserError(`sweep of ${spec.name}: axes ${forbidden.join(', ')} cannot be swept (a trial keeps the sweep's name and has no sweep of its own)`);
  const combos = sweep.method === 'random' ? sampled(axes, sweep.samples!, sweep.seed) : product(axes);
  const { sweep: _sweep, ...base } = raw;
  const problems = new Map<string, number[]>();
  const trials: Trial[] = [];
  combos.forEach((overrides, index) => {
    try {
      const trialSpec = resolveSpecPaths(parseSpec(applyOverrides(base, overrides), `trial ${index}`), cwd);
      if (sweep.asha) checkRungs(sweep.asha.rungs, trialSpec);
      trials.push({ index, id: `${sweepId}-t${index}-${overridesHash(overrides)}`, overrides, spec: trialSpec, specHash: specHash(trialSpec) });
    } catch (err) {
      // the same problem in many trials is said once, with the trials it hits
      for (const problem of err instanceof SpecError ? err.problems : [(err as Error).message]) {
        problems.set(problem, [...(problems.get(problem) ?? []), index]);
      }
    }
  });
  if (problems.size) {
    const lines = [...problems].map(([problem, indices]) => `  - ${problem} (trial${indices.length > 1 ? 's' : ''} ${indices.join(', ')}, e.g. ${JSON.stringify(combos[indices[0]!])})`);
    throw new UserError(`the sweep of ${spec.name} has invalid trials:\n${lines.join('\n')}`);
  }
  return trials;
}

/**
 * What ranks a sweep's trials: its `objective`, else the headline metric of the first evaluation
 * protocol (standard: FID); min or max as the metric means unless the spec says.
 */
export function sweepObjective(spec: Experiment): Objective {
  const given = spec.sweep?.objective;
  const evaluation = spec.evaluation;
  const metric = given?.metric ?? (evaluation ? `eval.${evaluation.protocols[0]}.${headlineKey(evaluation.protocols[0]!, evaluation.features)}` : null);
  if (!metric) throw new UserError(`sweep of ${spec.name}: nothing ranks the trials; add an evaluation: section or sweep.objective.metric`);
  return { metric, mode: given?.mode ?? betterIs(metric) };
}
