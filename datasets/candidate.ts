// What an adapter hands to the ingestion pipeline: images to read, with what the layout says
// about them. Adapters only list; reading, decoding and validating happen in the pipeline.
import { readFile } from 'node:fs/promises';
import type { PromptSet, RejectRow } from './types.ts';
import type { RejectReasonCode } from './rejects.ts';

export interface CandidateFacts {
  label: string | null;
  labels: string[];
  prompts: string[];
  extra: string | null;
}

export interface Candidate extends CandidateFacts {
  /** Where the image came from: a file path, "archive.zip!entry", "file.parquet#img_id". */
  source: string;
  /** The bytes live inside another file, so a readable copy goes to the blob store. */
  embedded: boolean;
  read(): Promise<Buffer>;
}

export interface Listing {
  /** The dataset location as reported in IngestResult.source. */
  source: string;
  /** Default display name when the spec has none. */
  name: string;
  /** How many candidates `candidates` yields. */
  total: number;
  candidates: Iterable<Candidate> | AsyncIterable<Candidate>;
  /** File-level rejects found while listing (bad CSV rows, unsafe archive entries, ...). */
  rejects: RejectRow[];
  promptSets: PromptSet[];
  /** hidden entries (dotfiles, __MACOSX) skipped while listing */
  hidden?: number;
  /** Releases open archives / database handles; called after the last candidate was read. */
  close(): Promise<void>;
}

/** Thrown by Candidate.read() when the layout already knows why the image is unusable. */
export class CandidateRejected extends Error {
  constructor(
    readonly reason: RejectReasonCode,
    detail: string,
  ) {
    super(detail);
  }
}

export const noFacts = (): CandidateFacts => ({ label: null, labels: [], prompts: [], extra: null });

export function fileCandidate(filePath: string, facts: CandidateFacts): Candidate {
  return { source: filePath, embedded: false, read: () => readFile(filePath), ...facts };
}

/** A label alone: the class folder layouts. */
export function labelFacts(label: string | null): CandidateFacts {
  return { ...noFacts(), label, labels: label === null ? [] : [label] };
}
