// What the prompt-search workflow takes, returns and answers: imported by workflows and clients alike.
import { defineQuery } from '@temporalio/workflow';
import type { Experiment } from '../experiments/schema.ts';
import { inFeatureSpace } from '../metrics/keys.ts';
import type { Candidate } from '../prompts/candidates.ts';
import type { BlobRef, DatasetSummary, Provenance, ReportResult } from './messages.ts';
import type { SweepRef } from './sweep-messages.ts';

export interface PromptSearchInput {
  searchId: string;
  /** validated and resolved, with its prompts: section */
  spec: Experiment;
  specHash: string;
  /** the spec without generation/evaluation/prompts: the child run that ingests and trains the model */
  model: { spec: Experiment; specHash: string };
  provenance: Provenance;
  /** the queue of train/generate activities (tests use a private one) */
  gpuTaskQueue?: string;
}

/** One category's candidates, as startPromptSearch lists them. */
export interface CategoryPlan {
  category: string;
  realImages: number;
  /** generated images this category may spend */
  budget: number;
  /** indexes into the search's candidates */
  candidates: number[];
}

export interface CandidateRound {
  /** images of the candidate it was scored on */
  images: number;
  kid: number;
  fd: number;
  interval: { low: number; high: number } | null;
}

export interface CandidateState extends Candidate {
  index: number;
  /** also its run id in DuckDB and its nested MLflow run's medsynth.run_id */
  id: string;
  category: string;
  mlflowRunId: string;
  status: 'PENDING' | 'RUNNING' | 'FINISHED' | 'PRUNED';
  rounds: CandidateRound[];
  /** images it had when halving stopped it */
  prunedAt: number | null;
}

export interface PromptSearchStart {
  search: SweepRef;
  candidates: CandidateState[];
  categories: CategoryPlan[];
  /** categories left out, each with its reason (also printed as warnings) */
  skipped: Array<{ category: string; reason: string }>;
  warnings: string[];
  /** the extractor whose features score the images */
  features: string;
}

export interface ScoredCandidate {
  index: number;
  round: CandidateRound;
}

export interface PromptSearchProgress {
  stage: 'model' | 'candidates' | 'generate' | 'score' | 'report' | 'done';
  round: number;
  rounds: number;
  generated: number;
  budget: number;
  candidates: CandidateState[];
}

export interface CategoryBest {
  category: string;
  realImages: number;
  /** best first: the last round's candidates by KID, then those stopped earlier */
  best: CandidateState[];
}

export interface PromptSearchResult extends SweepRef {
  /** the run whose model (base + trained weights) generated every image */
  modelRunId: string;
  dataset: DatasetSummary;
  /** the score: KID in this extractor's features against the category's real val images */
  features: string;
  categories: CategoryBest[];
  skipped: Array<{ category: string; reason: string }>;
  warnings: string[];
  generated: number;
  budget: number;
  /** the provenance blobs of every round's images */
  images: BlobRef[];
  report: ReportResult | null;
}

export const promptSearchProgressQuery = defineQuery<PromptSearchProgress>('promptSearchProgress');

/** The score's names, as DuckDB and MLflow record them (prompt.<key>, step = the candidate's images, category set). */
export function promptMetricKeys(features: string) {
  const kid = `prompt.${inFeatureSpace('kid', features)}`;
  return { kid, low: `${kid}_ci_low`, high: `${kid}_ci_high`, fd: `prompt.${inFeatureSpace('fd', features)}` };
}

/** The artifact kind, in DuckDB, of a round's provenance blob (the report reads the images back from it). */
export const PROMPT_IMAGES = 'prompt-images';
