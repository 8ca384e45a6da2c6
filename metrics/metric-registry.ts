// Metrics by name. Each is a pure function of already-extracted features (extracted once per
// evaluation and shared by every metric that reads the same extractor output).
import { UserError } from '../errors.ts';
import type { FeatureMatrix } from './features/feature-matrix.ts';
import type { IscOptions } from './isc.ts';
import type { KidOptions } from './kid.ts';

export interface SetFeatures {
  paths: string[];
  features: Map<string, FeatureMatrix>;
}

export interface PromptPair {
  a: string;
  b: string;
  /** real reference images of the pair (paths); all real images when absent */
  real?: string[];
}

export interface MetricOptions {
  kid?: Partial<KidOptions>;
  isc?: Partial<IscOptions>;
  prdcK?: number;
  /** FID bootstrap resamples (0: none) */
  bootstrap?: number;
  seed?: number;
  /** label of each fake image (prompt id for medvqa-gi-2025) */
  fakeLabels?: Map<string, string>;
  pairs?: PromptPair[];
  /** medvqa-gi-2025: the organisers' pairing (half the prompts) or every pair */
  medvqa2025Mode?: 'official' | 'corrected';
  /** the extractor and output of the feature-space metrics (fd, kid-features, prdc-features) */
  featureSpace?: { extractor: string; output: string };
}

/** Metric.output of metrics that read the chosen extractor's feature output (options.featureSpace). */
export const FEATURE_OUTPUT = '<feature output>';

export interface MetricInput {
  real: SetFeatures;
  fake: SetFeatures;
  options: MetricOptions;
}

export interface MetricOutput {
  values: Record<string, number>;
  warnings?: string[];
  details?: Record<string, unknown>;
}

export interface Metric {
  name: string;
  /** the extractor output it reads */
  output: string;
  /** whether it also makes sense per category (on subsets of both sets) */
  perCategory: boolean;
  /** fewest images per set it can work with */
  minSamples: number;
  compute(input: MetricInput): Promise<MetricOutput>;
}

export class MetricRegistry {
  readonly #metrics = new Map<string, Metric>();

  register(metric: Metric): void {
    if (typeof metric.name !== 'string' || metric.name.length === 0 || /[\s/\\]/.test(metric.name)) {
      throw new UserError(`metric name ${JSON.stringify(metric.name)} must be non-empty, without whitespace or path separators`);
    }
    if (this.#metrics.has(metric.name)) throw new UserError(`metric "${metric.name}" is already registered`);
    if (typeof metric.compute !== 'function' || typeof metric.output !== 'string') {
      throw new UserError(`metric "${metric.name}" needs an output name and a compute function`);
    }
    this.#metrics.set(metric.name, metric);
  }

  get(name: string): Metric {
    const m = this.#metrics.get(name);
    if (!m) throw new UserError(`no metric "${name}" (registered: ${[...this.#metrics.keys()].join(', ')})`);
    return m;
  }

  names(): string[] {
    return [...this.#metrics.keys()];
  }
}
