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
      try {
        if (opts.out) {
          const { rows, format } = await store.writeQueryResult(sql, opts.out);
          process.stdout.write(`wrote ${rows} rows to ${opts.out} (${format})\n`);
        } else {
          process.stdout.write(`${formatTable(await store.query(sql), { maxRows: opts.maxRows })}\n`);
        }
      } catch (err) {
        // DuckDB's message already says what is wrong with the SQL and where.
        throw new UserError(`query failed: ${(err as Error).message}`);
      }
    },
    { readOnly: true },
  );
}
