// medsynth report RUN|SWEEP: write the run's (or sweep's) self-contained HTML page from DuckDB, MLflow and the blob
// store (the experiment workflow's report stage writes the same page when a run ends).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { nodeDeps } from '../../activities/deps.ts';
import { UserError } from '../../errors.ts';
import { writeRunReport } from '../../reports/run-report.ts';
import { writeChallengeReport } from '../../reports/challenge-report.ts';
import { writePromptReport } from '../../reports/prompt-report.ts';
import { writeSweepReport } from '../../reports/sweep-report.ts';
import { withStore } from '../../store/index.ts';
import { MlflowClient } from '../../tracking/mlflow-client.ts';
import { stack as connectStack } from '../context.ts';

export interface ReportOptions {
  out?: string;
  perPrompt?: number;
  perCategory?: number;
}

export async function reportCommand(runId: string, opts: ReportOptions): Promise<void> {
  const stack = await connectStack({ start: false });
  if (!existsSync(stack.paths.store)) throw new UserError(`no store at ${stack.paths.store} yet: run an experiment first ("medsynth run SPEC")`);
  const deps = nodeDeps(stack.paths, new MlflowClient(stack.mlflowUri), stack.temporalUiUrl);
  const file = path.resolve(opts.out ?? path.join(stack.paths.runs, runId, 'report', 'index.html'));
  const method = await withStore(stack.paths.store, async (store) => (await store.getSweep(runId))?.method ?? null, { readOnly: true });
  const written = method === 'prompts'
    ? await writePromptReport(deps, runId, file)
    : method === 'challenge'
    ? await writeChallengeReport(deps, runId, file)
    : method
    ? await writeSweepReport(deps, runId, file)
    : await writeRunReport(deps, runId, file, {
    ...(opts.perPrompt ? { perPrompt: opts.perPrompt } : {}),
    ...(opts.perCategory ? { perCategory: opts.perCategory } : {}),
  });
  process.stdout.write(`wrote ${written.file} (${(written.bytes / 1e6).toFixed(1)} MB); open it in a browser: file://${written.file}\n`);
}
