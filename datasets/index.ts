// Public entry point of dataset ingestion.
export { ingestDataset, defaultConcurrency, UNLABELLED } from './ingest.ts';
export type { IngestOptions } from './ingest.ts';
export { BadInputError } from './errors.ts';
export { summariseRejects, RejectReason } from './rejects.ts';
export type { RejectReasonCode, RejectSummary } from './rejects.ts';
export type { IngestProgress, IngestResult, ManifestRow, PromptSet, RejectRow, Split } from './types.ts';
