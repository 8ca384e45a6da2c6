// What the experiment workflow takes, returns and answers: imported by workflows and clients alike.
import { defineQuery } from '@temporalio/workflow';
import type { BlobRef } from '../artifacts/blob-store.ts';
import type { Experiment } from '../experiments/schema.ts';
import type { TrialOf } from './sweep-messages.ts';

export type { BlobRef } from '../artifacts/blob-store.ts';

export const stageNames = ['track', 'ingest', 'record', 'train', 'generate', 'evaluate', 'utility', 'report'] as const;
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
  /** set when the run is a trial of a sweep: its train/generate activities take the sweep's GPU slots */
  sweep?: TrialOf;
  /** an audit's replay: the run it re-executes (tag medsynth.replay_of) */
  replayOf?: string;
  /** replay --skip-train: the recorded weights, used instead of training (an auditor without a GPU) */
  reuseTraining?: TrainResult;
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
  /** hidden entries (dotfiles, __MACOSX) skipped, never candidates */
  hiddenSkipped: number;
  bySplit: Record<string, number>;
  byLabel: Record<string, number>;
  rejects: RejectSummary[];
  /** on the cpu node that ingested it */
  manifestParquet: string;
  rejectsCsv: string;
}

export interface RunRef {
  runId: string;
  mlflowExperimentId: string;
  mlflowRunId: string;
}

/** What a gpu activity needs to train: the training set as a blob of JSON lines (see activities/gpu-inputs.ts). */
export interface TrainingSet {
  data: BlobRef;
  images: number;
}

export interface TrainResult {
  /** a LoRA file, or a fine-tuned UNet folder as a tree blob; `name` is the file or folder name */
  weights: { blob: BlobRef; kind: 'lora' | 'unet'; name: string };
  /** validation images the trainer made, by file name */
  validation: Array<{ name: string; blob: BlobRef }>;
  steps: number;
  finalLoss: number | null;
  images: number;
  /** the checkpoint step this attempt resumed from, when it did */
  resumedFrom: number | null;
  /** the last checkpoint (a tree blob), from which a later train call may go on */
  checkpoint?: { tree: BlobRef; step: number } | null;
}

export interface GenerateResult {
  images: number;
  /** provenance.jsonl: one row per image, each with the image's blob */
  provenance: BlobRef;
}

/** protocol → its headline numbers, sample counts, what they mean and any warnings */
export type EvaluationSummary = Record<
  string,
  {
    metrics: Record<string, number>;
    counts: Record<string, number>;
    note: string;
    warnings: string[];
    /** the feature extractor that produced the numbers (its ONNX file's hash) */
    extractor?: { name: string; sha256: string };
  }
>;

/** The run's HTML page: where the cpu node that wrote it keeps it, and its MLflow artifact. */
export interface ReportResult {
  file: string;
  bytes: number;
  uri: string;
}

export interface ExperimentResult extends RunRef {
  dataset: DatasetSummary;
  train: TrainResult | null;
  generate: GenerateResult | null;
  evaluation: EvaluationSummary | null;
  report: ReportResult | null;
  /** a sweep trial stopped by successive halving: where, and with which score */
  pruned?: { step: number; score: number } | null;
}

export interface ExperimentProgress {
  stages: Record<StageName, StageState>;
  current: StageName | null;
  run: RunRef | null;
  dataset: DatasetSummary | null;
}

export const progressQuery = defineQuery<ExperimentProgress>('progress');
