// The report stage (cpu queue): the run's HTML page, written on this node, logged to MLflow and
// recorded in DuckDB.
import path from 'node:path';
import { writeRunReport } from '../reports/run-report.ts';
import type { ReportResult, RunRef } from '../workflows/messages.ts';
import type { ActivityDeps } from './deps.ts';
import { logRunArtifact } from './run-records.ts';

export const reportArtifactPath = 'report/index.html';

export function reportActivity(deps: ActivityDeps) {
  return async function report({ run }: { run: RunRef }): Promise<ReportResult> {
    const file = path.join(deps.paths.runs, run.runId, 'report', 'index.html');
    const written = await writeRunReport(deps, run.runId, file);
    await logRunArtifact(deps, run, file, reportArtifactPath, 'report');
    return { file: written.file, bytes: written.bytes, uri: `runs:/${run.mlflowRunId}/${reportArtifactPath}` };
  };
}
