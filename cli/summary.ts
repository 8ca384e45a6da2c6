// What a user reads when an experiment ends: counts, rejects, and where to look next.
import { blobUri } from '../artifacts/blob-store.ts';
import type { ExperimentResult } from '../workflows/messages.ts';
import type { Stack } from './context.ts';

export function formatResult(result: ExperimentResult, stack: Stack): string {
  const d = result.dataset;
  const lines = [
    `dataset ${d.name} (${d.format}) version ${d.manifestHash.slice(0, 16)}`,
    `  ${d.images} images from ${d.candidates} candidates; ${d.duplicatesMerged} exact duplicates merged; ${d.rejected} rejected${d.hiddenSkipped ? `; ${d.hiddenSkipped} hidden entries (dotfiles, __MACOSX) skipped` : ''}`,
    `  splits: ${Object.entries(d.bySplit).map(([s, n]) => `${s} ${n}`).join(', ')}`,
    `  labels: ${Object.entries(d.byLabel).map(([l, n]) => `${l} ${n}`).join(', ') || '(none)'}`,
  ];
  if (d.rejects.length > 0) {
    lines.push('  rejects:');
    for (const r of d.rejects) lines.push(`    ${String(r.count).padStart(5)}  ${r.reason.padEnd(22)} e.g. ${r.example}`);
    lines.push(`  every reject with its reason: ${d.rejectsCsv}`);
  }
  lines.push(`  manifest: ${d.manifestParquet}`);
  if (result.train) {
    const t = result.train;
    lines.push(
      `trained ${t.weights.kind} for ${t.steps} steps on ${t.images} images, final loss ${t.finalLoss?.toFixed(4) ?? 'n/a'}` +
        (t.resumedFrom ? ` (resumed from step ${t.resumedFrom})` : ''),
      `  weights: ${t.weights.name} at ${blobUri(t.weights.blob.sha256)}`,
    );
  }
  if (result.generate) lines.push(`generated ${result.generate.images} images; provenance: ${blobUri(result.generate.provenance.sha256)}`);
  for (const [protocol, e] of Object.entries(result.evaluation ?? {})) {
    const numbers = Object.entries(e.metrics).map(([k, v]) => `${k} ${Number(v.toPrecision(5))}`).join(', ');
    const by = e.extractor ? `, extractor ${e.extractor.name} ${e.extractor.sha256.slice(0, 12)}` : '';
    lines.push(`evaluation ${protocol} (real ${e.counts.real}, fake ${e.counts.fake}${by}): ${numbers}`);
    if (e.note) lines.push(`  ${e.note}`);
    for (const w of e.warnings) lines.push(`  warning: ${w}`);
  }
  if (result.report) lines.push(`report: ${result.report.file} (${(result.report.bytes / 1e6).toFixed(1)} MB; in MLflow at ${result.report.uri})`);
  lines.push(
    `MLflow run: ${stack.mlflowUiUrl}/#/experiments/${result.mlflowExperimentId}/runs/${result.mlflowRunId}`,
    ...(stack.temporalUiUrl ? [`Temporal:   ${stack.temporalUiUrl}/namespaces/default/workflows/${result.runId}`] : []),
    `DuckDB:     medsynth query "select split, count(*) from images where manifest_hash = '${d.manifestHash}' group by split"`,
  );
  return lines.join('\n');
}
