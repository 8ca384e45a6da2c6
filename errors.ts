// Errors that are the user's to fix. The CLI prints their message without a stack trace and
// activities turn them into non-retryable Temporal failures (type "BadInput").
export class UserError extends Error {
  override name = 'BadInput';
}
