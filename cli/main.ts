// The medsynth command line. Pure wiring: each command's flags map 1:1 onto the options of a
// function in cli/commands/, and errors are caught once, here.
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import { cancelCommand, statusCommand } from './commands/status.ts';
import { demoCommand } from './commands/demo.ts';
import { queryCommand } from './commands/query.ts';
import { runCommand } from './commands/run.ts';
import { servicesCommand } from './commands/services.ts';
import { validateCommand } from './commands/validate.ts';
import { workerCommand } from './commands/worker.ts';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('expected a port number 1-65535');
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
    .description('set up the local stack and run the example specs on the sample data, then say where to look')
    .option('--data <dir>', 'folder holding kvasir-mini/ and/or medvqa-gi-2024-dev/', '../shared/data')
    .action(demoCommand);

  program
    .command('run')
    .description('validate a spec (YAML or JSON), start its experiment workflow and follow it with progress bars')
    .argument('<spec>', 'experiment spec file')
    .option('--id <id>', 'workflow id of the run (default: <name>-<timestamp>-<random>)')
    .option('--worker', 'serve a cpu worker in this process while the run lasts', false)
    .option('--detach', 'return once the run has started instead of following it', false)
    .option('--data <path>', "override the spec's dataset.path")
    .option('--dry-run', 'print the resolved workflow input and exit', false)
    .action(runCommand);

  program
    .command('status')
    .description('list recent experiment runs, or show one run in detail')
    .argument('[id]', 'workflow id of a run')
    .option('--limit <n>', 'how many runs to list', positive, 20)
    .action(statusCommand);

  program.command('cancel').description('cancel a running experiment').argument('<id>', 'workflow id').action(cancelCommand);

  program
    .command('worker')
    .description('run a worker that serves one task queue until interrupted')
    .addOption(new Option('--queue <queue>', 'task queue to serve').choices(['cpu', 'gpu']).default('cpu'))
    .action(workerCommand);

  program
    .command('services')
    .description('start, inspect or stop the local Temporal dev server and MLflow tracking server')
    .addArgument(new Argument('<action>', 'up | status | down').choices(['up', 'status', 'down']))
    .option('--temporal-port <port>', 'Temporal gRPC port (default: a free one)', port)
    .option('--temporal-ui-port <port>', 'Temporal web UI port (default: a free one)', port)
    .option('--mlflow-port <port>', 'MLflow port (default: a free one)', port)
    .action(servicesCommand);

  program
    .command('query')
    .description('run SQL on the DuckDB store (tables: runs, params, metrics, datasets, images, rejects, prompt_sets, artifacts)')
    .argument('<sql>', 'a SQL query')
    .option('--out <file>', 'write the result to .parquet, .csv or .arrow instead of printing it')
    .option('--max-rows <n>', 'rows to print', positive, 50)
    .action(queryCommand);

  program
    .command('validate')
    .description('check experiment specs and list every invalid field; --json-schema prints the spec schema')
    .argument('[specs...]', 'spec files')
    .option('--json-schema', 'print the JSON Schema of a spec', false)
    .action(validateCommand);

  return program;
}

function rootCause(err: unknown): unknown {
  let e = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e;
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    const cause = rootCause(err);
    if (err instanceof WorkflowFailedError) {
      process.stderr.write(`error: the run failed: ${(cause as Error).message}\n`);
    } else if (err instanceof Error && err.name === 'BadInput') {
      process.stderr.write(`error: ${err.message}\n`);
    } else {
      process.stderr.write(`internal error (please report): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.exitCode = 1;
  }
}

