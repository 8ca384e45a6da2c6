// The metrics medsynth's protocols use, each a few lines over the functions that compute it.
import { fidBootstrap } from './fid-bootstrap.ts';
import { fidOfFeatures, smallSampleWarning } from './fid.ts';
import { inceptionScore } from './isc.ts';
import * as K from './keys.ts';
import { kid } from './kid.ts';
import { medvqa2024InceptionScore } from './medvqa2024-is.ts';
import { consecutivePairs, l2Normalised, officialPairCount, scorePair } from './medvqa2025.ts';
import { FEATURE_OUTPUT, MetricRegistry, type Metric, type MetricInput, type MetricOutput } from './metric-registry.ts';
import { prdc } from './prdc.ts';
import type { FeatureMatrix } from './features/feature-matrix.ts';

const get = (input: MetricInput, set: 'real' | 'fake', output: string): FeatureMatrix => {
  const m = input[set].features.get(output);
  if (!m) throw new Error(`no "${output}" features for the ${set} set`);
  return m;
};

/** Fréchet distance of two feature sets (with a bootstrap interval when asked), under result keys `keys`. */
async function frechet(input: MetricInput, real: FeatureMatrix, fake: FeatureMatrix, label: string, keys: { value: string; low: string; high: string }) {
  const { value, warnings } = await fidOfFeatures(real, fake);
  const small = smallSampleWarning(label, real.rows, fake.rows, real.dim, ', or use KID (unbiased)');
  const values: Record<string, number> = { [keys.value]: value };
  if (input.options.bootstrap) {
    const ci = await fidBootstrap(real, fake, input.options.bootstrap, input.options.seed);
    values[keys.low] = ci.low;
    values[keys.high] = ci.high;
  }
  return { values, warnings: small ? [...warnings, small] : warnings };
}

async function kidValues(input: MetricInput, real: FeatureMatrix, fake: FeatureMatrix, keys: { mean: string; std: string }): Promise<MetricOutput> {
  // torch-fidelity's argument order (input1 generated, input2 real): its subsets of the generated
  // set are drawn first, so the same seed picks the same subsets here
  const r = await kid(fake, real, { seed: input.options.seed, ...input.options.kid });
  return { values: { [keys.mean]: r.mean, [keys.std]: r.std }, warnings: r.warnings, details: { kidSubsetSize: r.subsetSize } };
}

async function prdcValues(input: MetricInput, real: FeatureMatrix, fake: FeatureMatrix, key: (k: string) => string): Promise<MetricOutput> {
  const r = await prdc(real, fake, input.options.prdcK ?? 5);
  return {
    values: { [key(K.KEY_PRECISION)]: r.precision, [key(K.KEY_RECALL)]: r.recall, [key(K.KEY_DENSITY)]: r.density, [key(K.KEY_COVERAGE)]: r.coverage },
  };
}

export const fidMetric: Metric = {
  name: 'fid',
  output: 'pool3',
  perCategory: true,
  minSamples: 2,
  compute: (input) =>
    frechet(input, get(input, 'real', 'pool3'), get(input, 'fake', 'pool3'), 'FID', { value: K.KEY_FID, low: K.KEY_FID_CI_LOW, high: K.KEY_FID_CI_HIGH }),
};

export const kidMetric: Metric = {
  name: 'kid',
  output: 'pool3',
  perCategory: true,
  minSamples: 2,
  compute: (input) => kidValues(input, get(input, 'real', 'pool3'), get(input, 'fake', 'pool3'), { mean: K.KEY_KID_MEAN, std: K.KEY_KID_STD }),
};

export const iscMetric: Metric = {
  name: 'isc',
  output: 'logits_unbiased',
  perCategory: true,
  minSamples: 10,
  async compute(input) {
    const r = inceptionScore(get(input, 'fake', 'logits_unbiased'), { seed: input.options.seed, ...input.options.isc });
    return { values: { [K.KEY_ISC_MEAN]: r.mean, [K.KEY_ISC_STD]: r.std } };
  },
};

export const prdcMetric: Metric = {
  name: 'prdc',
  output: 'pool3',
  perCategory: true,
  minSamples: 6,
  compute: (input) => prdcValues(input, get(input, 'real', 'pool3'), get(input, 'fake', 'pool3'), (k) => k),
};

/** The `features` protocol's extractor and output, which the metrics below read. */
function space(input: MetricInput, set: 'real' | 'fake'): FeatureMatrix {
  const f = input.options.featureSpace;
  if (!f) throw new Error('feature-space metrics need options.featureSpace (the features protocol sets it)');
  return get(input, set, f.output);
}
const extractorOf = (input: MetricInput) => input.options.featureSpace!.extractor;

/** Fréchet distance in any registered feature space, `fd_<extractor>`: never called FID unless it is. */
export const fdMetric: Metric = {
  name: 'fd',
  output: FEATURE_OUTPUT,
  perCategory: true,
  minSamples: 2,
  compute(input) {
    const x = extractorOf(input);
    const key = K.inFeatureSpace(K.KEY_FD, x);
    return frechet(input, space(input, 'real'), space(input, 'fake'), `FD (${x})`, { value: key, low: `${key}_ci_low`, high: `${key}_ci_high` });
  },
};

export const kidFeaturesMetric: Metric = {
  name: 'kid-features',
  output: FEATURE_OUTPUT,
  perCategory: true,
  minSamples: 2,
  compute(input) {
    const x = extractorOf(input);
    return kidValues(input, space(input, 'real'), space(input, 'fake'), K.featureKidKeys(x));
  },
};

export const prdcFeaturesMetric: Metric = {
  name: 'prdc-features',
  output: FEATURE_OUTPUT,
  perCategory: true,
  minSamples: 6,
  compute: (input) => prdcValues(input, space(input, 'real'), space(input, 'fake'), (k) => K.inFeatureSpace(k, extractorOf(input))),
};

export const medvqa2024FidMetric: Metric = {
  name: 'medvqa-gi-2024-fid',
  output: 'probs',
  perCategory: true,
  minSamples: 2,
  async compute(input) {
    const real = get(input, 'real', 'probs');
    const fake = get(input, 'fake', 'probs');
    const { value, warnings } = await fidOfFeatures(real, fake);
    const small = smallSampleWarning('MEDVQA-GI 2024 FID', real.rows, fake.rows, real.dim);
    return { values: { [K.KEY_MEDVQA2024_FID]: value }, warnings: small ? [...warnings, small] : warnings };
  },
};

export const medvqa2024IsMetric: Metric = {
  name: 'medvqa-gi-2024-is',
  output: 'probs',
  perCategory: true,
  minSamples: 10,
  async compute(input) {
    const r = medvqa2024InceptionScore(get(input, 'fake', 'probs'));
    return {
      values: { [K.KEY_MEDVQA2024_IS_MEAN]: r.mean, [K.KEY_MEDVQA2024_IS_STD]: r.std, [K.KEY_MEDVQA2024_IS_MEDIAN]: r.median },
      details: { medvqa2024IsScores: r.scores },
    };
  },
};

function rowsWhere(set: MetricInput['real'], matrix: FeatureMatrix, keep: (path: string) => boolean): FeatureMatrix {
  return matrix.select(set.paths.flatMap((p, i) => (keep(p) ? [i] : [])));
}

function concat(parts: FeatureMatrix[]): FeatureMatrix {
  const out = parts[0]!.select([]);
  for (const m of parts) for (let i = 0; i < m.rows; i++) out.push(m.row(i));
  return out;
}

/** MEDVQA-GI 2025 (see medvqa2025.ts): FBD, fidelity, agreement and diversity over prompt pairs. */
export const medvqa2025Metric: Metric = {
  name: 'medvqa-gi-2025',
  output: 'cls',
  perCategory: false,
  minSamples: 2,
  async compute(input): Promise<MetricOutput> {
    const labels = input.options.fakeLabels;
    if (!labels) throw new Error('medvqa-gi-2025 needs the prompt of each generated image (categories, or prompt folders)');
    const fake = l2Normalised(get(input, 'fake', 'cls'));
    const real = l2Normalised(get(input, 'real', 'cls'));
    const ofPrompt = (prompt: string) => rowsWhere(input.fake, fake, (p) => labels.get(p) === prompt);
    const prompts = [...new Set(input.fake.paths.map((p) => labels.get(p)).filter((l) => l !== undefined))].sort((x, y) =>
      x.localeCompare(y, 'en', { numeric: true }),
    );
    const mode = input.options.medvqa2025Mode ?? 'official';
    const warnings: string[] = [];
    const all = input.options.pairs ?? consecutivePairs(prompts);
    if (!input.options.pairs && prompts.length % 2 === 1) warnings.push(`${prompts.length} prompts: the last one ("${prompts.at(-1)}") has no pair and is not scored`);
    const kept = mode === 'official' ? all.slice(0, officialPairCount(all.length)) : all;
    if (kept.length < all.length) {
      warnings.push(
        `official mode: the organisers' loop range(0, len(prompts)//2, 2) scores ${kept.length} of ${all.length} prompt pairs; ` +
          `unscored: ${all.slice(kept.length).map((p) => `(${p.a}, ${p.b})`).join(', ')}. Mode corrected scores all of them`,
      );
    }
    const scores = [];
    const generated: FeatureMatrix[] = [];
    const references: FeatureMatrix[] = [];
    for (const pair of kept) {
      const a = ofPrompt(pair.a);
      const b = ofPrompt(pair.b);
      const refs = pair.real ? new Set(pair.real) : undefined;
      const pairReal = refs ? rowsWhere(input.real, real, (p) => refs.has(p)) : real;
      if (a.rows < 2 || b.rows < 2 || pairReal.rows < 2) {
        warnings.push(`pair (${pair.a}, ${pair.b}): ${a.rows}, ${b.rows} and ${pairReal.rows} real images; at least 2 of each needed, skipped`);
        continue;
      }
      scores.push(await scorePair(pair, a, b, pairReal));
      generated.push(a, b);
      references.push(pairReal);
    }
    if (scores.length === 0) return { values: {}, warnings: [...warnings, 'no prompt pair could be scored'], details: { mode, pairs: [] } };
    const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
    const fbd = await fidOfFeatures(concat(generated), concat(references));
    return {
      values: {
        [K.KEY_FIDELITY]: mean(scores.map((p) => p.fidelity)),
        [K.KEY_AGREEMENT]: mean(scores.map((p) => p.agreement)),
        [K.KEY_DIVERSITY]: mean(scores.flatMap((p) => [p.diversity.a, p.diversity.b])),
        [K.KEY_FBD]: fbd.value,
      },
      warnings: [...warnings, ...fbd.warnings],
      details: { mode, pairs: scores, scoredPairs: scores.length, pairsInAll: all.length },
    };
  },
};

export function defaultMetrics(): MetricRegistry {
  const registry = new MetricRegistry();
  for (const m of [fidMetric, kidMetric, iscMetric, prdcMetric, fdMetric, kidFeaturesMetric, prdcFeaturesMetric, medvqa2024FidMetric, medvqa2024IsMetric, medvqa2025Metric]) {
    registry.register(m);
  }
  return registry;
}
