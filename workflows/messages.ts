// What the experiment workflow takes, returns and answers: imported by workflows and clients alike.
import { defineQuery } from '@temporalio/workflow';
import type { Experiment } from '../experiments/schema.ts';

export const stageNames = ['track', 'ingest', 'record', 'train', 'generate', 'evaluate'] as const;
export type StageName = (typeof stageNames)[number];
export type StageState = 'pending' | 'running' | 'done' | 'skipped' | 'failed' | 'cancelled';

export interface Provenance {
  gitCommit: string | null;
  /** file name → sha256 of the lockfiles that pin the code's dependencies */
  lockfileHashes: Record<string, string>;
  specPath: string | null;
  medsynthVersion: string;
}

export interface ExperimentInput {
  /** Already validated and resolved (absolute paths) by the client. */
  spec: Experiment;
  specHash: string;
  provenance: Provenance;
  /** The queue of train/generate activities; tests use a private one. Default: taskQueues.gpu. */
  gpuTaskQueue?: string;
}

export interface RejectSummary {
  reason: string;
  count: number;
  example: string;
}

export interface DatasetSummary {
  manifestHash: string;
  name: string;
  format: string;
  source: string;
  images: number;
  candidates: number;
  duplicatesMerged: number;
  rejected: number;
  bySplit: Record<string, number>;
  byLabel: Record<string, number>;
  rejects: RejectSummary[];
  manifestParquet: string;
  rejectsCsv: string;
}

export interface RunRef {
  runId: string;
  mlflowExperimentId: string;
  mlflowRunId: string;
}

export interface TrainResult {
  /** LoRA file in the artifact store, or the fine-tuned UNet folder */
  weights: { path: string; sha256: string; kind: string };
  steps: number;
  finalLoss: number | null;
  images: number;
  /** the checkpoint step this attempt resumed from, when it did */
  resumedFrom: number | null;
}

export interface GenerateResult {
  images: number;
  dir: string;
  provenance: string;
}

/** protocol → its headline numbers, sample counts, what they mean and any warnings */
export type EvaluationSummary = Record<
  string,
  { metrics: Record<string, number>; counts: Record<string, number>; note: string; warnings: string[] }
>;

export interface ExperimentResult extends RunRef {
  dataset: DatasetSummary;
  train: TrainResult | null;
  generate: GenerateResult | null;
  evaluation: EvaluationSummary | null;
}

export interface ExperimentProgress {
  stages: Record<StageName, StageState>;
  current: StageName | null;
  run: RunRef | null;
  dataset: DatasetSummary | null;
}

export const progressQuery = defineQuery<ExperimentProgress>('progress');
