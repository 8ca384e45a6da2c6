// medsynth query "SQL": read the DuckDB store; print a table or write Parquet/CSV/Arrow.
import { UserError } from '../../errors.ts';
import { resolvePaths } from '../../settings.ts';
import { formatTable, withStore } from '../../store/index.ts';
import { existsSync } from 'node:fs';

export async function queryCommand(sql: string, opts: { out?: string; maxRows: number }): Promise<void> {
  const { store: storePath } = resolvePaths();
  if (!existsSync(storePath)) throw new UserError(`no store at ${storePath} yet: run an experiment first ("medsynth run SPEC")`);
  await withStore(
    storePath,
    async (store) => {
      if (opts.out) {
        await store.writeQueryResult(sql, opts.out);
        process.stdout.write(`wrote ${opts.out}\n`);
      } else {
        process.stdout.write(`${formatTable(await store.query(sql), { maxRows: opts.maxRows })}\n`);
      }
    },
    { readOnly: true },
  );
}
