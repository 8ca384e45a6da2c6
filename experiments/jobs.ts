// The contract between the TypeScript activities and the Python trainer: what `python -m
// medsynth_trainer train|generate --spec JOB.json` accepts. The JSON Schemas in
// trainer/medsynth_trainer/schemas/ are generated from these (npm run schemas) and checked by a test.
import { z } from 'zod';
import { baseModelSchema, generationSchema, methodSchema, utilitySchema } from './schema.ts';

export const deviceSchema = z.enum(['auto', 'cpu', 'cuda']).default('auto');

export const trainJobSchema = z.strictObject({
  kind: z.literal('train'),
  runId: z.string().min(1).describe('the experiment run this job belongs to'),
  baseModel: baseModelSchema,
  method: methodSchema,
  data: z.strictObject({
    file: z.string().min(1).describe('JSON lines, one {"path", "prompt"} per training image'),
    id: z
      .string()
      .min(1)
      .optional()
      .describe('identity of the training set wherever its file lies (the sha256 of its blob); resume checks use it instead of the path'),
  }),
  stopAt: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('stop after this step (a rung of successive halving): checkpoint and weights as at that step, the schedule still that of method.steps'),
  device: deviceSchema,
});

export const generateJobSchema = z.strictObject({
  kind: z.literal('generate'),
  runId: z.string().min(1).describe('written into every PNG as provenance'),
  baseModel: baseModelSchema,
  lora: z
    .strictObject({ path: z.string().min(1), scale: z.number().default(1) })
    .optional()
    .describe('LoRA weights (diffusers-format safetensors) to load into the pipeline'),
  unet: z.string().optional().describe('a fully fine-tuned UNet directory replacing the base model UNet'),
  generation: generationSchema.extend({ prompts: z.array(z.string().min(1)).min(1) }),
  shard: z
    .strictObject({ index: z.number().int().min(0), count: z.number().int().positive() })
    .default({ index: 0, count: 1 })
    .refine((s) => s.index < s.count, { message: 'shard index must be below the shard count' }),
  device: deviceSchema,
});

export const classifyJobSchema = z.strictObject({
  kind: z.literal('classify'),
  runId: z.string().min(1),
  data: z.strictObject({
    file: z.string().min(1).describe('JSON lines, one {"path", "label", "split": train|test, "source": real|synthetic} per image'),
  }),
  ...utilitySchema.shape,
  device: deviceSchema,
});

export type TrainJob = z.output<typeof trainJobSchema>;
export type ClassifyJob = z.output<typeof classifyJobSchema>;
export type GenerateJob = z.output<typeof generateJobSchema>;

/** Lines the trainer prints on stdout, one JSON object each. */
export type TrainerEvent =
  | { event: 'started'; job: 'train' | 'generate'; device: string; total: number; resumedFrom?: number; rng?: Record<string, unknown> }
  | { event: 'progress'; step: number; total: number; loss?: number; lr?: number; its?: number }
  | { event: 'checkpoint'; path: string; step: number; sha256: string }
  | { event: 'artifact'; path: string; sha256: string; kind: string; meta?: Record<string, unknown> }
  | { event: 'done'; [k: string]: unknown }
  | { event: 'error'; message: string; retryable: boolean };
