// medsynth eval --protocol P --real DIR --fake DIR [...]: score generated images against real
// ones. Flags map 1:1 onto evaluate()'s options; resolveEvalOptions is the pure part (flags to
// options), evalCommand runs it with a progress bar and prints / writes the result.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { UserError } from '../../errors.ts';
import { evaluate, type EvaluateOptions, type EvaluationResult } from '../../metrics/index.ts';
import type { PromptPair } from '../../metrics/metric-registry.ts';

export interface EvalFlags {
  protocol: string;
  real: string;
  fake: string;
  byCategory?: boolean;
  /** JSON object {path: label} or CSV lines "path,label" */
  categories?: string;
  extractorDir?: string;
  cacheDir?: string;
  /** commander's --no-cache */
  cache?: boolean;
  batchSize?: number;
  kidSubsets?: number;
  kidSubsetSize?: number;
  iscSplits?: number;
  prdcK?: number;
  bootstrap?: number;
  seed?: number;
  /** JSON file: [{a, b, real?: [paths]}] */
  pairs?: string;
  /** medvqa-gi-2024 file order */
  medvqa2024Order?: 'sorted' | 'listdir';
  /** medvqa-gi-2025 pairing */
  medvqa2025Mode?: 'official' | 'corrected';
  /** extractor of the features protocol */
  features?: string;
  out?: string;
  dryRun?: boolean;
}

async function readCategories(file: string): Promise<Map<string, string>> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new UserError(`--categories: cannot read ${file}`);
  });
  const base = path.dirname(path.resolve(file));
  const entries: [string, string][] = file.endsWith('.json')
    ? Object.entries(JSON.parse(text) as Record<string, string>)
    : text
        .split(/\r?\n/)
        .filter((l) => l.trim())
        .map((l) => {
          const i = l.lastIndexOf(',');
          if (i < 0) throw new UserError(`--categories ${file}: line "${l}" is not "path,label"`);
          return [l.slice(0, i), l.slice(i + 1).trim()];
        });
  return new Map(entries.map(([p, label]) => [path.resolve(base, p), label]));
}

async function readPairs(file: string): Promise<PromptPair[]> {
  const pairs = JSON.parse(await readFile(file, 'utf8')) as PromptPair[];
  if (!Array.isArray(pairs) || pairs.some((p) => typeof p?.a !== 'string' || typeof p?.b !== 'string')) {
    throw new UserError(`--pairs ${file}: expected a JSON array of {"a": prompt, "b": prompt, "real"?: [paths]}`);
  }
  const base = path.dirname(path.resolve(file));
  return pairs.map((p) => ({ ...p, real: p.real?.map((r) => path.resolve(base, r)) }));
}

/** Flags -> evaluate() options (reads the --categories and --pairs files). */
export async function resolveEvalOptions(flags: EvalFlags): Promise<EvaluateOptions> {
  const kid = { subsets: flags.kidSubsets, subsetSize: flags.kidSubsetSize };
  return {
    protocol: flags.protocol,
    real: flags.real,
    fake: flags.fake,
    byCategory: flags.byCategory ?? false,
    ...(flags.categories ? { categories: await readCategories(flags.categories) } : {}),
    ...(flags.extractorDir ? { extractorDir: flags.extractorDir } : {}),
    ...(flags.cache === false ? { cacheDir: false as const } : flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
    ...(flags.batchSize ? { batchSize: flags.batchSize } : {}),
    kid: Object.fromEntries(Object.entries(kid).filter(([, v]) => v !== undefined)),
    ...(flags.iscSplits ? { isc: { splits: flags.iscSplits } } : {}),
    ...(flags.prdcK ? { prdcK: flags.prdcK } : {}),
    ...(flags.bootstrap ? { bootstrap: flags.bootstrap } : {}),
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
    ...(flags.pairs ? { pairs: await readPairs(flags.pairs) } : {}),
    ...(flags.features ? { features: flags.features } : {}),
    ...(flags.medvqa2025Mode ? { medvqa2025Mode: flags.medvqa2025Mode } : {}),
    ...(flags.medvqa2024Order ? { medvqa2024Order: flags.medvqa2024Order } : {}),
  };
}

export function formatEvaluation(r: EvaluationResult): string {
  const lines = [
    `protocol ${r.protocol}: ${r.note}`,
    `extractor ${r.extractor.name} (${r.extractor.device}, sha256 ${r.extractor.sha256.slice(0, 12)})`,
    `images: ${r.counts.real} real, ${r.counts.fake} fake (${r.counts.failed} unreadable, ${r.counts.cached} from cache)`,
    ...Object.entries(r.metrics).map(([k, v]) => `  ${k.padEnd(40)} ${v.toPrecision(7)}`),
  ];
  for (const [name, c] of Object.entries(r.categories ?? {})) {
    lines.push(`category ${name} (${c.counts.real} real, ${c.counts.fake} fake)`);
    for (const [k, v] of Object.entries(c.metrics)) lines.push(`  ${k.padEnd(40)} ${v.toPrecision(7)}`);
    for (const w of c.warnings) lines.push(`  warning: ${w}`);
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

export async function evalCommand(flags: EvalFlags): Promise<void> {
  const options = await resolveEvalOptions(flags);
  if (flags.dryRun) {
    const printable = { ...options, categories: options.categories ? Object.fromEntries(options.categories) : undefined };
    process.stdout.write(`${JSON.stringify(printable, null, 2)}\n`);
    return;
  }
  const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: ' {set} [{bar}] {value}/{total} images', hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
  let current = '';
  const result = await evaluate({
    ...options,
    onProgress: (p) => {
      if (!bar) return;
      if (p.set !== current) {
        if (current) bar.stop();
        current = p.set;
        bar.start(p.total, p.done, { set: p.set });
      }
      bar.update(p.done, { set: p.set });
    },
  });
  bar?.stop();
  process.stdout.write(`${formatEvaluation(result)}\n`);
  if (flags.out) {
    await writeFile(flags.out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`wrote ${flags.out}\n`);
  }
}
