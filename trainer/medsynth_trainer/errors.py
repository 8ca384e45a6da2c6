"""Failure kinds that decide the exit code and whether the caller should retry."""


class BadInput(Exception):
    """The job cannot succeed as given (invalid spec, missing model or data): exit 2, not retryable."""


class Interrupted(Exception):
    """SIGTERM/SIGINT arrived; `exit_code` is 143 or 130."""

    def __init__(self, signal_name: str, exit_code: int, message: str = ""):
        super().__init__(message or f"interrupted by {signal_name}")
        self.signal_name = signal_name
        self.exit_code = exit_code
