"""The JSON-lines event stream on stdout: the only thing the trainer ever writes there.

`claim_stdout()` moves the process's file descriptor 1 onto stderr, so prints from any library
(or C code) land in the log, and keeps a private handle on the original stdout for events.
"""

import json
import math
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

Event = dict[str, Any]


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN/Infinity; a diverged loss is reported as null
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class EventStream:
    """Writes one flushed JSON object per line. `enabled=False` on non-main accelerate processes."""

    def __init__(self, write: Callable[[str], None], enabled: bool = True):
        self._write = write
        self._lock = threading.Lock()
        self.enabled = enabled

    def emit(self, event: str, **fields: Any) -> None:
        if not self.enabled:
            return
        line = json.dumps(_finite({"event": event, **fields}), separators=(",", ":"), allow_nan=False)
        with self._lock:
            self._write(line + "\n")

    def forward(self, line: str) -> None:
        """Passes on an event line another trainer process printed."""
        if self.enabled:
            with self._lock:
                self._write(line + "\n")


class EventRecorder(EventStream):
    """Keeps events in a list: what tests and in-process callers use."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        super().__init__(lambda line: self.events.append(json.loads(line)))

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e["event"] == kind]


def claim_stdout() -> EventStream:
    events_fd = os.dup(1)
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    out = os.fdopen(events_fd, "w", buffering=1, encoding="utf-8")

    def write(line: str) -> None:
        out.write(line)
        out.flush()

    return EventStream(write)
