// metadata.jsonl in the Hugging Face imagefolder convention: one JSON object per line with
// file_name (relative to the metadata file) and optional label, labels, text, prompts; every other
// field is kept as the row's extra JSON.
import { RejectReason, reject } from '../rejects.ts';
import type { RejectRow } from '../types.ts';
import type { CandidateFacts } from '../candidate.ts';

export interface MetadataEntry {
  fileName: string;
  /** "metadata.jsonl:<line>" */
  where: string;
  facts: CandidateFacts;
}

const KNOWN_FIELDS = new Set(['file_name', 'label', 'labels', 'text', 'prompts']);

export function parseMetadataLines(text: string, sourcePath: string): { entries: MetadataEntry[]; rejects: RejectRow[] } {
  const entries: MetadataEntry[] = [];
  const rejects: RejectRow[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${sourcePath}:${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      rejects.push(reject(where, RejectReason.badMetadata, `not valid JSON (${(error as Error).message})`));
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      rejects.push(reject(where, RejectReason.badMetadata, 'each line must be a JSON object'));
      return;
    }
    const record = value as Record<string, unknown>;
    if (typeof record.file_name !== 'string' || record.file_name === '') {
      rejects.push(reject(where, RejectReason.badMetadata, 'the line has no file_name string'));
      return;
    }
    entries.push({ fileName: record.file_name, where, facts: factsOf(record) });
  });
  return { entries, rejects };
}

function factsOf(record: Record<string, unknown>): CandidateFacts {
  const label = typeof record.label === 'string' || typeof record.label === 'number' ? String(record.label) : null;
  const labels = stringsOf(record.labels);
  const prompts = [...new Set([...(typeof record.text === 'string' && record.text !== '' ? [record.text] : []), ...stringsOf(record.prompts)])];
  const rest = Object.entries(record).filter(([key]) => !KNOWN_FIELDS.has(key));
  return { label, labels: [...new Set(labels)], prompts, extra: rest.length === 0 ? null : JSON.stringify(Object.fromEntries(rest)) };
}

function stringsOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((v) => typeof v === 'string' || typeof v === 'number').map(String);
}
