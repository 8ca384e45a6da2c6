// The medsynth command line. Pure wiring: each command's flags map 1:1 onto the options of a
// function in cli/commands/, and errors are caught once, here.
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { rootMessage, UserError } from '../errors.ts';
import { DEFAULT_FEATURES, PROTOCOLS } from '../metrics/protocols/protocols.ts';
import { REPORT_DEFAULTS } from '../reports/defaults.ts';
import { SANDBOX_DEFAULTS } from '../challenge/sandbox.ts';
import { DEFAULT_SAMPLE_LIMIT } from '../datasets/sample-defaults.ts';
import { redactSecrets } from '../secrets.ts';

// Commands are imported when they run, so `--help` does not load Temporal, DuckDB or sharp.
const commands = {
  demo: () => import('./commands/demo.ts').then((m) => m.demoCommand),
  run: () => import('./commands/run.ts').then((m) => m.runCommand),
  status: () => import('./commands/status.ts').then((m) => m.statusCommand),
  cancel: () => import('./commands/status.ts').then((m) => m.cancelCommand),
  worker: () => import('./commands/worker.ts').then((m) => m.workerCommand),
  services: () => import('./commands/services.ts').then((m) => m.servicesCommand),
  query: () => import('./commands/query.ts').then((m) => m.queryCommand),
  validate: () => import('./commands/validate.ts').then((m) => m.validateCommand),
  eval: () => import('./commands/eval.ts').then((m) => m.evalCommand),
  report: () => import('./commands/report.ts').then((m) => m.reportCommand),
  sweep: () => import('./commands/sweep.ts').then((m) => m.sweepCommand),
  leaderboard: () => import('./commands/sweep.ts').then((m) => m.leaderboardCommand),
  prompts: () => import('./commands/prompts.ts').then((m) => m.promptsCommand),
  challenge: () => import('./commands/challenge.ts').then((m) => m.challengeCommand),
  replay: () => import('./commands/replay.ts').then((m) => m.replayCommand),
};
function lazy<K extends keyof typeof commands>(name: K) {
  return async (...args: unknown[]) => {
    const command = (await commands[name]()) as (...a: unknown[]) => Promise<void>;
    // commander passes the Command object last; the command functions take arguments and options only
    await command(...args.slice(0, -1));
  };
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('expected a port number 1-65535');
  return n;
}
function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number >= 0');
  return n;
}
function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

export function buildProgram(): Command {
  const program = new Command('medsynth')
    .description(
      'Experiment orchestrator for text-to-image synthesis of GI endoscopy images:\n' +
        'Temporal workflows (ingest → fine-tune → generate → evaluate), DuckDB metrics, MLflow tracking.\n' +
        'State lives under MEDSYNTH_HOME (default ./.medsynth); TEMPORAL_ADDRESS and MLFLOW_TRACKING_URI\n' +
        'point at existing servers instead of local ones.',
    )
    .showHelpAfterError();

  program
    .command('demo')
    .description(
      'set up the local stack and run the example specs on the sample data, then say where to look. Without sample data ' +
        'under --data, fetch the first --sample-limit images of Kvasir-VQA from the Hugging Face hub (once, into ' +
        'MEDSYNTH_HOME/samples) and run experiments/examples/kvasir-vqa-sample.yaml on them',
    )
    .option('--data <dir>', 'folder holding kvasir-mini/ and/or medvqa-gi-2024-dev/', '../shared/data')
    .option('--sample-limit <n>', 'images in the Kvasir-VQA sample fetched when --data holds no sample folder', positive, DEFAULT_SAMPLE_LIMIT)
    .action(lazy('demo'));

  program
    .command('run')
    .description('validate a spec (YAML or JSON), start its experiment workflow and follow it with progress bars; a spec with a sweep: section starts its sweep')
    .argument('<spec>', 'experiment spec file')
    .option('--id <id>', 'workflow id of the run (default: <name>-<timestamp>-<random>)')
    .option('--worker', 'serve the cpu and gpu queues from this process while the run lasts', false)
    .option('--detach', 'return once the run has started instead of following it', false)
    .option('--data <path>', "override the spec's dataset.path")
    .option('--dry-run', 'print the resolved workflow input and exit', false)
    .action(lazy('run'));

  program
    .command('sweep')
    .description(
      'run every trial of the spec\'s sweep: section (grid or seeded random over dotted spec paths), each a child experiment\n' +
        'workflow with a deterministic id; at most sweep.maxParallel trials and sweep.gpuSlots train/generate activities at once.\n' +
        'MLflow nests the trials under one parent run; DuckDB keeps them in the sweeps and trials tables.',
    )
    .argument('<spec>', 'experiment spec file with a sweep: section')
    .option('--id <id>', 'sweep id, also its workflow id (default: <name>-<timestamp>-<random>); trial ids are <id>-t<index>-<hash>')
    .option('--worker', 'serve the cpu and gpu queues from this process while the sweep lasts', false)
    .option('--detach', 'return once the sweep has started (follow it with "medsynth status ID")', false)
    .option('--data <path>', "override the spec's dataset.path")
    .option('--dry-run', 'print the trials (index, id, overrides) and exit', false)
    .action(lazy('sweep'));

  program
    .command('prompts')
    .description(
      "search, per category, the prompts whose images come closest to the real ones (the spec's prompts: section): " +
        'a model run (ingest, train the method) generates k images per candidate prompt (templates x attributes from the ' +
        "dataset's prompts, plus yours), scored by KID against the category's real val images in the evaluation.features " +
        'space; successive halving spends prompts.budget images on the best 1/eta of each round. Prints the best prompts ' +
        'with bootstrap intervals; DuckDB keeps the candidates in the trials table, MLflow nests them under one parent run.',
    )
    .argument('<spec>', 'experiment spec file with a prompts: section')
    .option('--id <id>', 'search id, also its workflow id (default: <name>-prompts-<timestamp>-<random>); the model run is <id>-model')
    .option('--worker', 'serve the cpu and gpu queues from this process while the search lasts', false)
    .option('--detach', 'return once the search has started', false)
    .option('--data <path>', "override the spec's dataset.path")
    .option('--dry-run', 'print the search id and its resolved prompts: settings and exit', false)
    .action(lazy('prompts'));

  program
    .command('challenge')
    .description(
      'regenerate and score untrusted submissions: DIR holds one folder per team with team.yaml (baseModel, lora: a' +
        '.safetensors file, prompts: a text file, seeds, imagesPerPrompt, scheduler, steps, guidance) or images/ + prompts.csv' +
        '(columns file,prompt). Nothing submitted is run: weights are read only as safetensors whose header and tensor shapes' +
        'pass, every path stays inside its team folder, and the trainer that loads them runs under bubblewrap (no network,' +
        'inputs read-only, one output folder writable, time and memory limits). Prints the leaderboard and every rejection.',
    )
    .argument('<dir>', 'the folder of team folders')
    .requiredOption('--real <dir>', 'real images to score against (class folders: the first folder level is the category)')
    .option('--protocol <p[,p]>', 'protocols to score with; the first ranks the teams', 'features')
    .option('--base-model <id>', 'the model every LoRA is regenerated with (a team.yaml naming another is rejected)', 'stable-diffusion-v1-5/stable-diffusion-v1-5')
    .option('--revision <rev>', 'the base model revision teams must name')
    .option('--resolution <px>', 'generation resolution', positive, 512)
    .option('--gpu-slots <n>', 'team regenerations in flight at once', positive, 1)
    .option('--bootstrap <n>', 'FID/FD bootstrap resamples for the intervals (0: none)', (v) => Number.parseInt(v, 10), 200)
    .addOption(new Option('--medvqa2025-mode <mode>', 'medvqa-gi-2025: the organisers\' pairing loop or every pair').choices(['official', 'corrected']).default('official'))
    .option('--timeout <s>', 'wall-clock limit of one sandboxed regeneration, seconds', positive, SANDBOX_DEFAULTS.timeoutS)
    .option('--memory-gb <gb>', 'address-space limit of one sandboxed regeneration', Number, SANDBOX_DEFAULTS.memoryBytes / 1024 ** 3)
    .option('--id <id>', 'challenge id, also its workflow id (default: challenge-<folder>-<hash of its path>: a rerun of the same folder updates the same rows)')
    .option('--worker', 'serve the cpu and gpu queues from this process while the challenge lasts', false)
    .option('--detach', 'return once the challenge has started', false)
    .action(lazy('challenge'));

  program
    .command('replay')
    .description(
      "an auditor's replay of a finished run: re-hash its dataset against the manifest (a changed or missing file refuses, " +
        'each named), compare the git commit and lockfiles, replay its Temporal history against the current workflow code ' +
        '(naming the first divergent event), re-execute it as a new run tagged medsynth.replay_of and compare manifest, ' +
        'weights, images and metrics one by one. Writes audit.json and a page; exits 1 when anything differs beyond --tolerance.',
    )
    .argument('<run>', 'run id (the workflow id)')
    .option('--skip-train', 'reuse the recorded weights instead of training again (an auditor without a GPU)', false)
    .option('--tolerance <t>', 'largest difference still accepted: relative for metrics, absolute for tensors, 0..1 for pixels', Number, 0)
    .option('--id <id>', 'id of the replay run (default: <run>-replay-<time>)')
    .option('--worker', 'serve the cpu and gpu queues from this process while the replay lasts', false)
    .action(lazy('replay'));

  program
    .command('leaderboard')
    .description("rank a sweep's trials by a metric their runs recorded in DuckDB (default: the sweep's objective)")
    .argument('<sweep>', 'sweep id')
    .option('--metric <name>', 'a recorded metric name, e.g. eval.standard.frechet_inception_distance (lower is better unless it is IS, precision, recall, density, coverage, agreement, diversity or fidelity)')
    .option('--by-category', 'rank within each category, from the per-category metrics', false)
    .option('--out <file>', 'write the table to .parquet, .csv or .arrow instead of printing it')
    .option('--max-rows <n>', 'rows to print', positive, 50)
    .action(lazy('leaderboard'));

  program
    .command('status')
    .description('list recent experiment runs and sweeps, or show one in detail')
    .argument('[id]', 'workflow id of a run or a sweep')
    .option('--limit <n>', 'how many runs to list', positive, 20)
    .action(lazy('status'));

  program.command('cancel').description('cancel a running experiment').argument('<id>', 'workflow id').action(lazy('cancel'));

  program
    .command('worker')
    .description('run a worker that serves one task queue until interrupted')
    .addOption(new Option('--queue <queue>', 'which activities to serve').choices(['cpu', 'gpu']).default('cpu'))
    .option('--task-queue <name>', 'poll this task queue name instead of the standard one (for isolated deployments and tests)')
    .option(
      '--slots <n>',
      'activities this worker runs at once; gpu default 1 (one trainer per GPU: give a node with N GPUs --slots N, or run N workers), ' +
        'cpu default unlimited; also MEDSYNTH_WORKER_SLOTS',
      positive,
    )
    .action(lazy('worker'));

  program
    .command('services')
    .description('start, inspect or stop the local Temporal dev server and MLflow tracking server')
    .addArgument(new Argument('<action>', 'up | status | down').choices(['up', 'status', 'down']))
    .option('--temporal-port <port>', 'Temporal gRPC port (default: a free one)', port)
    .option('--temporal-ui-port <port>', 'Temporal web UI port (default: a free one)', port)
    .option('--mlflow-port <port>', 'MLflow port (default: a free one)', port)
    .option('--json', 'print the status as JSON', false)
    .action(lazy('services'));

  program
    .command('report')
    .description('write the HTML page of a run (spec, provenance, dataset, loss curves, image grids, metric tables) or of a sweep (leaderboard, heatmap): one file, no network needed to view it')
    .argument('<run>', 'run id or sweep id (the workflow id)')
    .option('--out <file>', 'where to write it (default MEDSYNTH_HOME/runs/<run>/report/index.html)')
    .option('--per-prompt <n>', `synthetic images shown per prompt (default ${REPORT_DEFAULTS.perPrompt})`, positive)
    .option('--per-category <n>', `real and synthetic images shown per category (default ${REPORT_DEFAULTS.perCategory})`, positive)
    .action(lazy('report'));

  program
    .command('query')
    .description('run SQL on the DuckDB store (tables: runs, params, metrics, datasets, images, rejects, prompt_sets, artifacts, sweeps, trials)')
    .argument('<sql>', 'a SQL query')
    .option('--out <file>', 'write the result to .parquet, .csv or .arrow instead of printing it')
    .option('--max-rows <n>', 'rows to print', positive, 50)
    .action(lazy('query'));

  program
    .command('eval')
    .description('score generated images against real ones: FID/KID/IS/PRDC, FD/KID/PRDC in a trained feature space, or the MEDVQA-GI 2024/2025 protocols')
    .addOption(new Option('--protocol <name>', 'evaluation protocol').choices(Object.keys(PROTOCOLS)).default('standard'))
    .option('--features <extractor>', `extractor of the features protocol (default ${DEFAULT_FEATURES})`)
    .requiredOption('--real <dir>', 'folder of real images (searched recursively)')
    .requiredOption('--fake <dir>', 'folder of generated images (searched recursively)')
    .option('--by-category', 'also score each category (first folder level, or --categories)', false)
    .option('--categories <file>', 'image labels: JSON {path: label} or CSV lines path,label')
    .option('--extractor-dir <dir>', 'folder holding inception-fid.onnx, efficientnet-lite0.onnx, keras-inception-v3.onnx, biomedclip.onnx (default MEDSYNTH_HOME/extractors)')
    .option('--cache-dir <dir>', 'feature cache (default MEDSYNTH_HOME/feature-cache)')
    .option('--no-cache', 'extract every image again and store nothing')
    .option('--batch-size <n>', 'images per model run (default 16)', positive)
    .option('--kid-subsets <n>', 'KID subsets (default 100)', positive)
    .option('--kid-subset-size <n>', 'KID subset size (default 1000)', positive)
    .option('--isc-splits <n>', 'Inception Score splits (default 10)', positive)
    .option('--prdc-k <n>', 'k of precision/recall/density/coverage (default 5)', positive)
    .option('--bootstrap <n>', 'FID bootstrap resamples for a 95% interval', positive)
    .option('--seed <n>', 'seed of KID subsets, IS shuffle and bootstrap (default 2020)', nonNegative)
    .option('--pairs <file>', 'medvqa-gi-2025 prompt pairs: JSON [{"a": prompt, "b": prompt, "real"?: [paths]}] (default: the sorted prompts paired in order)')
    .addOption(
      new Option('--medvqa-2024-order <order>', "medvqa-gi-2024: 'sorted' (every image below the folders), or 'listdir': one folder in os.listdir order, as the organisers' script read it (its IS depends on the order)")
        .choices(['sorted', 'listdir'])
        .default('sorted'),
    )
    .addOption(
      new Option('--medvqa-2025-mode <mode>', "medvqa-gi-2025: 'official' reproduces the organisers' loop (scores the first half of the pairs, with a warning); 'corrected' scores all")
        .choices(['official', 'corrected'])
        .default('official'),
    )
    .option('--out <file>', 'write the full result as JSON')
    .option('--dry-run', 'print the resolved evaluate() options and exit', false)
    .action(lazy('eval'));

  program
    .command('validate')
    .description('check experiment specs and list every invalid field; --json-schema prints the spec schema')
    .argument('[specs...]', 'spec files')
    .option('--json-schema', 'print the JSON Schema of a spec', false)
    .action(lazy('validate'));

  return program;
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof Error && err.name === 'WorkflowFailedError') {
      process.stderr.write(redactSecrets(`error: the run failed: ${rootMessage(err)}\n`));
    } else if (err instanceof UserError || (err instanceof Error && err.name === 'BadInput')) {
      process.stderr.write(redactSecrets(`error: ${err.message}\n`));
    } else {
      process.stderr.write(redactSecrets(`internal error (please report): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`));
    }
    process.exitCode = 1;
  }
}

