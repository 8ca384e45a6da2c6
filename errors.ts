// Errors that are the user's to fix. The CLI prints their message without a stack trace and
// activities turn them into non-retryable Temporal failures of type "BadInput".
export class UserError extends Error {
  override name = 'BadInput';
}

/** The Temporal failure type that temporal.config.ts lists as non-retryable. */
export const userErrorType = 'BadInput';

/**
 * The innermost message of an error chain. Temporal wraps an activity's error in ActivityFailure
 * and a workflow's in WorkflowFailedError; the user wants what the activity said. Free of Node
 * APIs, so workflows may import it.
 */
export function rootMessage(err: unknown): string {
  let e = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
