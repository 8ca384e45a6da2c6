/** A failed MLflow request. `status` is the HTTP status, 0 when no response came (connection, timeout). */
export class MlflowError extends Error {
  override readonly name: string = 'MlflowError';
  constructor(
    message: string,
    readonly status: number,
    /** MLflow's error_code, e.g. RESOURCE_DOES_NOT_EXIST; 'UNREACHABLE' when no response came */
    readonly errorCode: string,
    readonly endpoint: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Worth retrying: no response, a server error, or rate limiting. Other 4xx never succeed on retry. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** MLflow refuses to change a param already logged on a run (same value again is fine). */
export class MlflowParamConflictError extends MlflowError {
  override readonly name = 'MlflowParamConflictError';
  constructor(runId: string, cause: MlflowError) {
    super(
      `run ${runId}: a param already logged with another value cannot change (MLflow params are write-once). ${cause.message}`,
      cause.status,
      cause.errorCode,
      cause.endpoint,
      { cause },
    );
  }

  static matches(error: unknown): error is MlflowError {
    return error instanceof MlflowError && error.errorCode === 'INVALID_PARAMETER_VALUE' && /Changing param values is not allowed/.test(error.message);
  }
}
