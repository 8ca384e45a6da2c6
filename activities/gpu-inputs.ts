// cpu-queue activities that turn what only the control node can see (DuckDB, files named in the
// spec) into blobs that a gpu activity on any node can fetch.
import { readFile } from 'node:fs/promises';
import type { BlobRef } from '../artifacts/blob-store.ts';
import { UserError } from '../errors.ts';
import type { Experiment } from '../experiments/schema.ts';
import { withStore } from '../store/index.ts';
import type { DatasetSummary, TrainingSet } from '../workflows/messages.ts';
import type { ActivityDeps } from './deps.ts';
import { imageMediaType } from './ingest.ts';

/** One line of a training set: the image's blob, the path it was ingested from, and its prompt. */
export interface TrainingExample extends BlobRef {
  source: string;
  prompt: string;
}

export interface PrepareTrainingInput {
  dataset: DatasetSummary;
}

export function prepareTrainingActivity(deps: ActivityDeps) {
  return async function prepareTraining({ dataset }: PrepareTrainingInput): Promise<TrainingSet> {
    const rows = await withStore(
      deps.paths.store,
      async (store) =>
        (
          await store.query(
            `select sha256, bytes, format, path,
                    coalesce(prompts[1], 'an endoscopy image of ' || coalesce(label, 'the gastrointestinal tract'))
               from images where manifest_hash = ? and split = 'train' order by sha256`,
            [dataset.manifestHash],
          )
        ).rows,
      { readOnly: true },
    );
    if (rows.length === 0) throw new UserError(`dataset ${dataset.name} has no images in its train split`);
    const examples: TrainingExample[] = rows.map(([sha256, bytes, format, source, prompt]) => ({
      sha256: String(sha256),
      size: Number(bytes),
      mediaType: imageMediaType(String(format)),
      source: String(source),
      prompt: String(prompt),
    }));
    const data = await deps.blobs.putJsonLines(examples);
    return { data, images: examples.length };
  };
}

export interface PreparePromptsInput {
  generation: NonNullable<Experiment['generation']>;
}

/** The generation prompts as a JSON array blob: a prompts file is read here, where the spec's paths are. */
export function preparePromptsActivity(deps: ActivityDeps) {
  return async function preparePrompts({ generation }: PreparePromptsInput): Promise<BlobRef> {
    return deps.blobs.putJson(await promptList(generation));
  };
}

async function promptList(generation: PreparePromptsInput['generation']): Promise<string[]> {
  if (Array.isArray(generation.prompts)) return generation.prompts;
  const file = generation.prompts.file;
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UserError(`generation.prompts.file ${file}: cannot read (${err.code})`);
  });
  const prompts = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (prompts.length === 0) throw new UserError(`generation.prompts.file ${file} holds no prompts`);
  return prompts;
}
