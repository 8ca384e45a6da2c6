// Errors that are the user's to fix. The CLI prints their message without a stack trace and
// activities turn them into non-retryable Temporal failures of type "BadInput".
export class UserError extends Error {
  override name = 'BadInput';
}

/** The Temporal failure type that temporal.config.ts lists as non-retryable. */
export const userErrorType = 'BadInput';
