// Errors that are the user's to fix. The CLI prints their message in one line without a stack
// trace; activities turn them into non-retryable Temporal failures of type "BadInput" (or, for
// one marked retryable such as a locked store, a failure that is retried).
export class UserError extends Error {
  override name = 'BadInput';
  /**
   * A condition the user fixes by waiting or freeing something (a locked store): still one line in
   * the CLI, but an activity that meets it is retried instead of failing at once.
   */
  readonly retryable: boolean;

  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable ?? false;
  }
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
