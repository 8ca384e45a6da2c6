import type { RejectRow } from './types.ts';

/** Reason codes of RejectRow.reason. */
export const RejectReason = {
  emptyFile: 'empty-file',
  notAnImage: 'not-an-image',
  unsupportedFormat: 'unsupported-format',
  truncated: 'truncated',
  corrupt: 'corrupt',
  tooManyPixels: 'too-many-pixels',
  tooLarge: 'too-large',
  unreadable: 'unreadable',
  pathTraversal: 'path-traversal',
  pathEscape: 'path-escape',
  missingFile: 'missing-file',
  unsupportedExtension: 'unsupported-extension',
  duplicateEntry: 'duplicate-entry',
  csvWrongDelimiter: 'csv-wrong-delimiter',
  csvMissingColumns: 'csv-missing-columns',
  csvUnreadable: 'csv-unreadable',
  csvBadRow: 'csv-bad-row',
  badPrompt: 'bad-prompt',
  badMetadata: 'bad-metadata',
  unreadableParquet: 'unreadable-parquet',
  missingImageBytes: 'missing-image-bytes',
  missingImageId: 'missing-img-id',
} as const;

export type RejectReasonCode = (typeof RejectReason)[keyof typeof RejectReason];

export function reject(source: string, reason: RejectReasonCode, detail: string): RejectRow {
  return { source, reason, detail };
}

/** Deterministic order for the result: by source, then reason. */
export function compareRejects(a: RejectRow, b: RejectRow): number {
  return a.source < b.source ? -1 : a.source > b.source ? 1 : a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0;
}

export interface RejectSummary {
  reason: string;
  count: number;
  /** The first reject with this reason: "source: detail". */
  example: string;
}

/** One line per reason, most frequent first, for the CLI summary. */
export function summariseRejects(rejects: readonly RejectRow[]): RejectSummary[] {
  const byReason = new Map<string, RejectSummary>();
  for (const r of rejects) {
    const entry = byReason.get(r.reason);
    if (entry) entry.count += 1;
    else byReason.set(r.reason, { reason: r.reason, count: 1, example: `${r.source}: ${r.detail}` });
  }
  return [...byReason.values()].sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1));
}
