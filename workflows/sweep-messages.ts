// What the sweep workflow takes, returns and answers, and the GPU-slot signals its trials (child
// experiment workflows) exchange with it: imported by workflows and clients alike.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Experiment } from '../experiments/schema.ts';
import type { Provenance, ReportResult } from './messages.ts';

export interface TrialInput {
  index: number;
  /** the trial's experiment workflow id, also its run id */
  id: string;
  overrides: Record<string, unknown>;
  spec: Experiment;
  specHash: string;
}

export interface Objective {
  /** a metric name as DuckDB records it, e.g. eval.features.fd_efficientnet_lite0 */
  metric: string;
  mode: 'min' | 'max';
}

export interface SweepInput {
  sweepId: string;
  /** the sweep's own spec (with its sweep: section), validated and resolved */
  spec: Experiment;
  specHash: string;
  provenance: Provenance;
  trials: TrialInput[];
  objective: Objective;
  /** the queue of the trials' train/generate activities (tests use a private one) */
  gpuTaskQueue?: string;
}

export type TrialStatus = 'PENDING' | 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED' | 'SKIPPED' | 'PRUNED';

export interface TrialState {
  index: number;
  id: string;
  overrides: Record<string, unknown>;
  status: TrialStatus;
  /** the objective's value when the trial finished with it */
  objective: number | null;
  error: string | null;
  /** successive halving: its score (KID) at each rung it reached, by training step */
  rungs: Array<{ step: number; score: number }>;
  /** the rung step at which it was stopped, when it was */
  prunedAt: number | null;
}

export interface SweepRef {
  sweepId: string;
  mlflowExperimentId: string;
  mlflowRunId: string;
}

export interface SweepProgress {
  trials: TrialState[];
  gpu: { slots: number; held: string[]; waiting: number };
}

export interface SweepResult extends SweepRef {
  status: 'FINISHED' | 'FAILED';
  trials: TrialState[];
  objective: Objective;
  best: TrialState | null;
  report: ReportResult | null;
}

/** What a trial's experiment workflow knows of the sweep it belongs to. */
export interface TrialOf {
  sweepId: string;
  mlflowRunId: string;
  trialIndex: number;
  overrides: Record<string, unknown>;
  /** successive halving: train to each rung step, score, and ask the sweep whether to go on */
  asha?: { rungs: number[]; images: number };
}

export const sweepProgressQuery = defineQuery<SweepProgress>('sweepProgress');
/** trial → sweep: it wants to run a gpu activity */
export const acquireGpuSlot = defineSignal<[{ request: string; trial: string }]>('acquireGpuSlot');
/** trial → sweep: its gpu activity ended */
export const releaseGpuSlot = defineSignal<[{ request: string }]>('releaseGpuSlot');
/** sweep → trial: the slot is its own until it releases it */
export const gpuSlotGranted = defineSignal<[{ request: string }]>('gpuSlotGranted');
/** trial → sweep: its score at a rung (lower is better: KID) */
export const rungReached = defineSignal<[{ trial: string; rung: number; step: number; score: number }]>('rungReached');
/** sweep → trial: go on past the rung, or stop there (PRUNED) */
export const rungDecision = defineSignal<[{ rung: number; promote: boolean }]>('rungDecision');
