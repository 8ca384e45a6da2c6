// evaluate(): images in, numbers out. Lists both sets, extracts the protocol's features once
// (from the cache where it has them), runs every metric of the protocol on them, overall and
// per category, and returns the numbers with sample counts and warnings.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { resolvePaths } from '../settings.ts';
import { defaultMetrics } from './builtin-metrics.ts';
import { defaultRegistry } from './extractors/builtin.ts';
import type { ExtractorRegistry, ExtractorSpec } from './extractors/registry.ts';
import { openExtractor } from './extractors/session.ts';
import { extractFeatures, type ExtractedFeatures, type ExtractOptions, type ExtractProgress, type FailedImage } from './features/extract.ts';
import { folderCategories, listImages, type ListOrder } from './images/list-images.ts';
import type { IscOptions } from './isc.ts';
import type { KidOptions } from './kid.ts';
import type { MetricInput, MetricRegistry, PromptPair, SetFeatures } from './metric-registry.ts';
import { getProtocol, MEDVQA_GI_2024 } from './protocols/protocols.ts';

export interface EvaluateOptions {
  protocol: string;
  /** a folder (searched recursively) or a list of image files */
  real: string | string[];
  fake: string | string[];
  /** also compute each metric per category */
  byCategory?: boolean;
  /** label of each image path; default: the first folder level below `real` / `fake` */
  categories?: Map<string, string>;
  /** folder holding the built-in extractors' ONNX files (default MEDSYNTH_HOME/extractors) */
  extractorDir?: string;
  /** extractors to use instead of the built-in ones (e.g. a user's ONNX under the protocol's name) */
  extractors?: ExtractorRegistry;
  /** feature cache folder (default MEDSYNTH_HOME/feature-cache); false: no cache */
  cacheDir?: string | false;
  batchSize?: number;
  kid?: Partial<KidOptions>;
  isc?: Partial<IscOptions>;
  prdcK?: number;
  /** FID bootstrap resamples for a 95% interval (0: none) */
  bootstrap?: number;
  seed?: number;
  /** medvqa-gi-2024: read each folder in sorted order (default) or, as the organisers' script did, one folder in os.listdir order ('listdir': its IS depends on the order) */
  medvqa2024Order?: ListOrder;
  /** medvqa-gi-2025: 'official' (the organisers' pairing loop, half the prompts; default) or 'corrected' (all pairs) */
  medvqa2025Mode?: 'official' | 'corrected';
  /** the extractor of the features protocol (default efficientnet-lite0) */
  features?: string;
  /** medvqa-gi-2025 prompt pairs; prompts are the fake images' categories */
  pairs?: PromptPair[];
  metrics?: MetricRegistry;
  onProgress?: (p: ExtractProgress) => void;
}

export interface CategoryResult {
  counts: { real: number; fake: number };
  metrics: Record<string, number>;
  warnings: string[];
}

export interface EvaluationResult {
  protocol: string;
  note: string;
  extractor: { name: string; file: string; sha256: string; device: string };
  counts: { real: number; fake: number; failed: number; cached: number; extracted: number };
  metrics: Record<string, number>;
  categories?: Record<string, CategoryResult>;
  details: Record<string, unknown>;
  warnings: string[];
  failed: FailedImage[];
}

/** The exporter writes <file>.json beside each ONNX file; it says whether the weights are real. */
async function exportedWeights(onnxFile: string): Promise<string | null> {
  try {
    return (JSON.parse(await readFile(`${onnxFile}.json`, 'utf8')) as { weights?: string }).weights ?? null;
  } catch {
    return null;
  }
}

/** A metric skipped for want of images is a warning that says how many it needs, never a NaN. */
function tooFewImages(metric: { name: string; minSamples: number }, real: number, fake: number): string | null {
  return Math.min(real, fake) < metric.minSamples ? `${metric.name}: ${real} real and ${fake} fake images; needs ${metric.minSamples} of each` : null;
}

/** How many of `fake` have the content of some image of `real`. */
function overlap(real: string[], fake: string[]): number {
  const realShas = new Set(real);
  return fake.filter((sha) => realShas.has(sha)).length;
}

function checkCount(set: string, n: number, failed: number): void {
  if (n === 0) throw new UserError(`${set}: no readable images${failed ? ` (${failed} unreadable)` : ''}`);
  if (n === 1) throw new UserError(`${set}: only 1 readable image; statistics need at least 2`);
}

function subset(set: SetFeatures, keep: (p: string) => boolean): SetFeatures {
  const idx = set.paths.flatMap((p, i) => (keep(p) ? [i] : []));
  return { paths: idx.map((i) => set.paths[i]!), features: new Map([...set.features].map(([k, m]) => [k, m.select(idx)])) };
}

function assertFinite(values: Record<string, number>, where: string): void {
  for (const [k, v] of Object.entries(values)) {
    if (!Number.isFinite(v)) throw new Error(`${where}: ${k} came out ${v}`);
  }
}

/**
 * Features of a real and a fake image set in one extractor (from the cache where it has them), the
 * extractor's identity, and a warning when its weights are random.
 */
export async function extractSets(
  spec: ExtractorSpec,
  sets: { real: string[]; fake: string[] },
  common: Omit<ExtractOptions, 'set'>,
): Promise<{ real: ExtractedFeatures; fake: ExtractedFeatures; extractor: EvaluationResult['extractor']; warnings: string[] }> {
  const extractor = await openExtractor(spec);
  let real: ExtractedFeatures;
  let fake: ExtractedFeatures;
  try {
    real = await extractFeatures(extractor, sets.real, { ...common, set: 'real' });
    fake = await extractFeatures(extractor, sets.fake, { ...common, set: 'fake' });
  } finally {
    await extractor.session.release();
  }
  const warnings: string[] = [];
  if ((await exportedWeights(extractor.spec.onnx)) === 'random') {
    warnings.push(
      `${extractor.spec.name} has random weights (${extractor.spec.onnx}): these numbers exercise the pipeline only and compare with nothing published`,
    );
  }
  return { real, fake, warnings, extractor: { name: extractor.spec.name, file: extractor.spec.onnx, sha256: extractor.sha256, device: extractor.device } };
}

export async function evaluate(opts: EvaluateOptions): Promise<EvaluationResult> {
  const protocol = getProtocol(opts.protocol);
  const home = resolvePaths().home;
  const registry = opts.extractors ?? defaultRegistry(opts.extractorDir ?? path.join(home, 'extractors'));
  const metrics = opts.metrics ?? defaultMetrics();
  const protocolMetrics = protocol.metrics.map((m) => metrics.get(m));
  const cacheDir = opts.cacheDir === false ? undefined : (opts.cacheDir ?? path.join(home, 'feature-cache'));

  const order = protocol.name === MEDVQA_GI_2024 ? (opts.medvqa2024Order ?? 'sorted') : 'sorted';
  const realSet = await listImages(opts.real, 'real', protocol.fileFilter, order);
  const fakeSet = await listImages(opts.fake, 'fake', protocol.fileFilter, order);
  checkCount('real', realSet.paths.length, 0);
  checkCount('fake', fakeSet.paths.length, 0);

  const spec = registry.get(protocol.featureSpace ? (opts.features ?? protocol.extractor) : protocol.extractor);
  if (protocol.featureSpace && !spec.featureOutput) {
    throw new UserError(`features: extractor "${spec.name}" names no feature output (featureOutput in its spec), so it cannot serve the ${protocol.name} protocol`);
  }
  const featureSpace = spec.featureOutput ? { extractor: spec.name, output: spec.featureOutput } : undefined;
  const { real, fake, extractor, warnings } = await extractSets(spec, { real: realSet.paths, fake: fakeSet.paths }, { protocol: protocol.name, cacheDir, batchSize: opts.batchSize, onProgress: opts.onProgress });
  checkCount('real', real.paths.length, real.failed.length);
  checkCount('fake', fake.paths.length, fake.failed.length);

  const failed = [...real.failed, ...fake.failed];
  if (failed.length > 0) {
    warnings.push(`${failed.length} unreadable image(s) left out: ${failed.map((f) => `${f.path} (${f.reason})`).join('; ')}`);
  }
  const shared = overlap(real.shas, fake.shas);
  if (shared > 0) {
    warnings.push(
      `${shared} of ${fake.paths.length} fake image(s) have the same bytes (sha256) as real ones: the sets overlap: KID's unbiased estimate assumes independent sets (identical sets give a negative value, not ~0), and FD and precision flatter the generator`,
    );
  }
  const labels = opts.categories ?? new Map([...folderCategories(realSet), ...folderCategories(fakeSet)]);
  const input: MetricInput = {
    real,
    fake,
    options: { kid: opts.kid, isc: opts.isc, prdcK: opts.prdcK, bootstrap: opts.bootstrap, seed: opts.seed, fakeLabels: labels, pairs: opts.pairs, featureSpace, medvqa2025Mode: opts.medvqa2025Mode },
  };

  const values: Record<string, number> = {};
  const details: Record<string, unknown> = {};
  for (const metric of protocolMetrics) {
    const skip = tooFewImages(metric, real.paths.length, fake.paths.length);
    if (skip) {
      warnings.push(skip);
      continue;
    }
    const out = await metric.compute(input);
    assertFinite(out.values, metric.name);
    Object.assign(values, out.values);
    Object.assign(details, out.details);
    warnings.push(...(out.warnings ?? []));
  }

  let categories: Record<string, CategoryResult> | undefined;
  if (opts.byCategory) {
    categories = {};
    const names = [...new Set([...real.paths, ...fake.paths].map((p) => labels.get(p)).filter((l) => l !== undefined))].sort();
    for (const name of names) {
      const inCategory = (p: string) => labels.get(p) === name;
      const sub = { ...input, real: subset(real, inCategory), fake: subset(fake, inCategory) };
      const result: CategoryResult = { counts: { real: sub.real.paths.length, fake: sub.fake.paths.length }, metrics: {}, warnings: [] };
      for (const metric of protocolMetrics.filter((m) => m.perCategory)) {
        const skip = tooFewImages(metric, result.counts.real, result.counts.fake);
        if (skip) {
          result.warnings.push(skip);
          continue;
        }
        try {
          const out = await metric.compute(sub);
          assertFinite(out.values, `${metric.name} (${name})`);
          Object.assign(result.metrics, out.values);
          result.warnings.push(...(out.warnings ?? []));
        } catch (err) {
          result.warnings.push(`${metric.name}: ${(err as Error).message}`);
        }
      }
      categories[name] = result;
    }
  }

  return {
    protocol: protocol.name,
    note: protocol.note,
    extractor,
    counts: {
      real: real.paths.length,
      fake: fake.paths.length,
      failed: failed.length,
      cached: real.cached + fake.cached,
      extracted: real.extracted + fake.extracted,
    },
    metrics: values,
    ...(categories ? { categories } : {}),
    details,
    warnings,
    failed,
  };
}
