// What the challenge workflow takes and returns: imported by workflows and clients alike.
import type { BlobRef, EvaluationSummary, Provenance, ReportResult } from './messages.ts';
import type { SweepRef } from './sweep-messages.ts';

export interface ChallengeInput {
  challengeId: string;
  /** the folder of team folders, on the cpu node that reads it */
  dir: string;
  /** real images to score against (class folders: the first folder level is the category) */
  real: string;
  protocols: string[];
  medvqa2025Mode: 'official' | 'corrected';
  /** FID/FD bootstrap resamples for the intervals (0: none) */
  bootstrap: number;
  /** the model every team's LoRA is regenerated with; a team.yaml naming another is rejected */
  baseModel: { id: string; revision?: string; resolution: number };
  /** team regenerations in flight at once (each holds one GPU) */
  gpuSlots: number;
  /** the jail of each regeneration */
  sandbox: { timeoutS: number; memoryBytes: number };
  provenance: Provenance;
  gpuTaskQueue?: string;
}

export type TeamStatus = 'PENDING' | 'RUNNING' | 'SCORED' | 'REJECTED';

export interface TeamState {
  index: number;
  team: string;
  /** the team's run id (DuckDB metrics) and its nested MLflow run */
  id: string;
  mlflowRunId: string;
  kind: 'lora' | 'images' | 'unknown';
  status: TeamStatus;
  reasons: string[];
  /** a lora team: its weights, prompts (JSON array blob) and generation settings */
  lora?: { blob: BlobRef; prompts: BlobRef; seeds: number[]; imagesPerPrompt: number; scheduler: string; steps: number; guidance: number };
  /** an images team (or a regenerated one): provenance rows {prompt, seed, blob} as JSON lines */
  images?: BlobRef;
  evaluation: EvaluationSummary | null;
}

export interface ChallengeStart {
  challenge: SweepRef;
  teams: TeamState[];
  /** the origin of every metric timestamp: the first start's, so a rerun logs the same points */
  at: number;
  hidden: number;
}

export interface LeaderboardEntry {
  rank: number;
  team: string;
  value: number;
  low: number | null;
  high: number | null;
  /** teams whose intervals overlap this one's: their order is not established */
  tiedWith: string[];
}

export interface ChallengeResult extends SweepRef {
  metric: string;
  mode: 'min' | 'max';
  leaderboard: LeaderboardEntry[];
  teams: TeamState[];
  report: ReportResult | null;
}
