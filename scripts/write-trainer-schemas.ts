// Writes the JSON Schemas of the trainer's job files from the zod schemas (one source of truth).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { classifyJobSchema, generateJobSchema, trainJobSchema } from '../experiments/jobs.ts';

export const schemaDir = path.resolve(import.meta.dirname, '../trainer/medsynth_trainer/schemas');

export function trainerSchemas(): Record<string, unknown> {
  return {
    'train-job.schema.json': z.toJSONSchema(trainJobSchema, { io: 'input' }),
    'generate-job.schema.json': z.toJSONSchema(generateJobSchema, { io: 'input' }),
    'classify-job.schema.json': z.toJSONSchema(classifyJobSchema, { io: 'input' }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  mkdirSync(schemaDir, { recursive: true });
  for (const [file, schema] of Object.entries(trainerSchemas())) {
    writeFileSync(path.join(schemaDir, file), `${JSON.stringify(schema, null, 2)}\n`);
  }
  console.log(`wrote ${schemaDir}`);
}
