// medsynth validate SPEC...: check specs without running anything; --json-schema for other tools.
import { z } from 'zod';
import { readSpecFile, specHash } from '../../experiments/load.ts';
import { expandSweep, sweepObjective } from '../../experiments/sweep.ts';
import { experimentSchema } from '../../experiments/schema.ts';
import { UserError } from '../../errors.ts';

export async function validateCommand(specs: string[], opts: { jsonSchema: boolean }): Promise<void> {
  if (opts.jsonSchema) {
    process.stdout.write(`${JSON.stringify(z.toJSONSchema(experimentSchema, { io: 'input' }), null, 2)}\n`);
    return;
  }
  let failed = 0;
  for (const file of specs) {
    try {
      const { raw, spec } = await readSpecFile(file);
      // a sweep is valid when every one of its trials is
      const sweep = spec.sweep ? `, sweep of ${expandSweep(raw, spec, 'validate').length} trials ranked by ${sweepObjective(spec).metric}` : '';
      process.stdout.write(`ok       ${file} (${spec.name}, spec hash ${specHash(spec).slice(0, 12)}${sweep})\n`);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      failed += 1;
      process.stderr.write(`invalid  ${err.message}\n`);
    }
  }
  if (failed > 0) throw new UserError(`${failed} of ${specs.length} specs are invalid`);
}
