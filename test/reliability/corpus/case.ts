// One bad input tried: what kind it is, whether the real code handled it (a clear error or reject
// naming it, the good inputs beside it kept, no crash), and what it said.
import { UserError } from '../../../errors.ts';
import type { IngestResult } from '../../../datasets/index.ts';

export type Kind = 'image' | 'archive' | 'prompt-csv' | 'prompt-file' | 'parquet' | 'spec' | 'lora' | 'prompt' | 'path';
/** The root a path case tries to leave. */
export type Root = 'dataset' | 'csv' | 'spec' | 'archive' | 'submission';

export interface BadInputCase {
  kind: Kind;
  name: string;
  handled: boolean;
  /** what the product said (the reject or error), or why the case is not handled */
  message: string;
  escapes?: Root;
}

/** A case's judgement: every problem found, and the product's message. */
export function verdict(kind: Kind, name: string, problems: string[], message: string, escapes?: Root): BadInputCase {
  return { kind, name, handled: problems.length === 0, message: problems.length ? `${problems.join('; ')} (said: ${message})` : message, ...(escapes ? { escapes } : {}) };
}

/** A case whose code path threw something other than a UserError: a crash. */
export function crashed(kind: Kind, name: string, error: unknown, escapes?: Root): BadInputCase {
  const what = error instanceof UserError ? `a whole-input error where a reject was expected: ${error.message}` : `crashed: ${error instanceof Error ? error.stack : String(error)}`;
  return verdict(kind, name, [what], '', escapes);
}

/** Runs `fn`; an exception becomes the case's (unhandled) verdict instead of ending the corpus. */
export async function attempt(kind: Kind, name: string, fn: () => Promise<BadInputCase>, escapes?: Root): Promise<BadInputCase> {
  try {
    return await fn();
  } catch (error) {
    return crashed(kind, name, error, escapes);
  }
}

/** Problems with the reject of `source` (reason, a detail a person can act on, the input named). */
export function rejectProblems(result: IngestResult, source: string, reason: string, named: string): { problems: string[]; message: string } {
  const found = result.rejects.find((r) => r.source === source && r.reason === reason);
  if (!found) return { problems: [`no ${reason} reject for ${source}; rejects were ${JSON.stringify(result.rejects.map((r) => [r.source, r.reason]))}`], message: '' };
  const message = `${found.source}: ${found.detail}`;
  const problems = [];
  if (found.detail.length < 15) problems.push('the reject gives no reason a person can act on');
  if (!message.includes(named)) problems.push(`the reject does not name ${named}`);
  return { problems, message };
}

/** Good inputs (source paths) that did not become manifest rows. */
export function lostGood(result: IngestResult, sources: readonly string[]): string[] {
  const seen = new Set(result.rows.flatMap((r) => r.sourcePaths));
  return sources.filter((s) => !seen.has(s)).map((s) => `good input lost: ${s}`);
}

/** A UserError naming `named`, and no other kind of error. */
export function userErrorProblems(error: unknown, named: string, reason: RegExp): string[] {
  if (error === undefined) return ['accepted without an error'];
  if (!(error instanceof UserError)) return [`not a user error: ${error instanceof Error ? error.stack : String(error)}`];
  const problems = [];
  if (!error.message.includes(named)) problems.push(`the error does not name ${named}`);
  if (!reason.test(error.message)) problems.push(`the error does not say ${reason}`);
  return problems;
}
