"""numProcesses > 1: the trainer re-launches itself as one process per GPU.

It sets the torch.distributed environment (RANK, WORLD_SIZE, MASTER_ADDR ...) itself, as
`accelerate launch --multi_gpu` would, so that it can pass SIGTERM straight to every worker (each
finishes its step and they write one checkpoint together) and forward rank 0's events. Only rank 0
prints events; the other ranks' output goes to stderr.
"""

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from .errors import BadInput
from .events import EventStream

log = logging.getLogger(__name__)

GRACE_AFTER_FAILURE_S = 60  # a worker died: the others get this long before they are terminated


def needs_relaunch(job: dict) -> bool:
    processes = job["method"]["numProcesses"]
    if processes <= 1 or "WORLD_SIZE" in os.environ:
        return False
    if os.environ.get("MEDSYNTH_MULTI_CPU") == "1":  # gloo on CPU: lets tests exercise this path
        return True
    import torch

    if job["device"] == "cpu" or not torch.cuda.is_available():
        log.warning("numProcesses=%d needs CUDA GPUs: training in a single process", processes)
        return False
    if torch.cuda.device_count() < processes:
        raise BadInput(f"numProcesses={processes} but this machine has {torch.cuda.device_count()} GPUs")
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def relaunch(argv: list[str], processes: int, events: EventStream) -> int:
    package_parent = str(Path(__file__).resolve().parent.parent)
    base_env = dict(
        os.environ,
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(_free_port()),
        WORLD_SIZE=str(processes),
        LOCAL_WORLD_SIZE=str(processes),
        PYTHONPATH=os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")])),
    )
    workers = []
    for rank in range(processes):
        env = dict(base_env, RANK=str(rank), LOCAL_RANK=str(rank))
        workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "medsynth_trainer", *argv],
                env=env,
                stdout=subprocess.PIPE if rank == 0 else sys.stderr,
                text=True,
            )
        )
    log.info("launched %d training processes", processes)

    def forward_signal(signum, _frame):
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signum)

    previous = {sig: signal.signal(sig, forward_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    reader = threading.Thread(target=_forward_events, args=(workers[0].stdout, events), daemon=True)
    reader.start()
    try:
        codes = _wait(workers)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    reader.join(timeout=10)
    if codes[0] != 0 and codes[0] > 0:
        return codes[0]  # rank 0 reported why (error event) and chose the exit code
    failed = [(rank, code) for rank, code in enumerate(codes) if code != 0]
    if failed:
        rank, code = failed[0]
        events.emit("error", message=f"training process rank {rank} exited with code {code}", retryable=True)
        return 1
    return 0


def _forward_events(stream, events: EventStream) -> None:
    for line in stream:
        try:
            if isinstance(json.loads(line), dict):
                events.forward(line.strip())
                continue
        except json.JSONDecodeError:
            pass
        sys.stderr.write(line)


def _wait(workers: list[subprocess.Popen]) -> list[int]:
    failed_at = None
    while any(w.poll() is None for w in workers):
        if failed_at is None and any(w.poll() not in (None, 0) for w in workers):
            failed_at = time.monotonic()
        if failed_at is not None and time.monotonic() - failed_at > GRACE_AFTER_FAILURE_S:
            for worker in workers:
                if worker.poll() is None:
                    worker.terminate()
        time.sleep(0.2)
    return [w.returncode for w in workers]
