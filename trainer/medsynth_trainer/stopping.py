"""SIGTERM/SIGINT: stop at the next safe point (end of a step or batch) instead of dying mid-write.

Outside a loop that polls `requested()`, a signal raises Interrupted at once (nothing to save yet);
inside one it only sets a flag. A repeated SIGTERM (the orchestrator's cancel and the parent-death
signal can both arrive) is ignored; a second SIGINT (Ctrl-C twice) stops at once.
"""

import signal
from contextlib import contextmanager

from .errors import Interrupted

EXIT_CODES = {signal.SIGTERM: 143, signal.SIGINT: 130}

_received: list[int] = []
_polling = False


def _handler(signum, _frame):
    repeated = bool(_received)
    _received.append(signum)
    if not _polling or (repeated and signum == signal.SIGINT):
        raise interrupted()


def install() -> None:
    for sig in EXIT_CODES:
        signal.signal(sig, _handler)


def requested() -> bool:
    return bool(_received)


def interrupted(message: str = "") -> Interrupted:
    sig = signal.Signals(_received[0]) if _received else signal.SIGTERM
    return Interrupted(sig.name, EXIT_CODES[sig], message)


@contextmanager
def polled():
    """Within this block a signal only sets the flag; the caller checks `requested()`."""
    global _polling
    _polling = True
    try:
        yield
    finally:
        _polling = False


def reset() -> None:
    """For tests running several jobs in one process."""
    _received.clear()
