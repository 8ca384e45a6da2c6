"""Command line: python -m medsynth_trainer train|generate --spec JOB.json --out DIR [--resume CKPT_DIR]
                  python -m medsynth_trainer tiny --out DIR

stdout carries JSON lines only (events.py); logs go to stderr. Exit codes: 0 done, 2 bad input,
1 crash (retryable), 143/130 after SIGTERM/SIGINT (training checkpoints first).
"""

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from . import jobs, stopping
from .errors import BadInput, Interrupted
from .events import EventStream, claim_stdout

log = logging.getLogger("medsynth_trainer")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors become an error event and exit 2, like any bad input
        raise BadInput(f"{self.prog}: {message}")


def parse_args(argv: list[str] | None):
    parser = _Parser(
        prog="python -m medsynth_trainer", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in ("train", "generate", "classify"):
        sub = commands.add_parser(name, help=f"run a {name} job")
        sub.add_argument("--spec", type=Path, required=True, help="the job as JSON")
        sub.add_argument("--out", type=Path, required=True, help="output directory (created)")
        if name == "classify":
            continue
        if name == "train":
            sub.add_argument("--resume", help='checkpoint directory, or "latest" (the newest under --out, if any)')
            sub.add_argument("--keep-checkpoints", type=int, default=0, help="keep only the newest N (0: all)")
        else:
            sub.add_argument("--compile", action="store_true", help="torch.compile the UNet (CUDA only)")
    tiny = commands.add_parser("tiny", help="build the tiny random base model (the 'tiny' preset)")
    tiny.add_argument("--out", type=Path, help="directory (default: $MEDSYNTH_TINY_MODEL_DIR or ~/.cache/medsynth)")
    return parser.parse_args(argv)


def configure_logging() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    level = os.environ.get("MEDSYNTH_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.captureWarnings(True)


def quiet_libraries() -> None:
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    for lib in (diffusers_logging, transformers_logging):
        lib.set_verbosity_warning()
        lib.disable_progress_bar()


def resolve_resume(arg: str | None, out: Path) -> Path | None:
    from . import checkpoints

    if not arg:
        return None
    if arg == "latest":
        found = checkpoints.latest(out)
        log.info("resume latest: %s", found or "no checkpoint yet, starting fresh")
        return found
    path = Path(arg)
    if not path.is_dir():
        raise BadInput(f"checkpoint to resume from not found: {arg}")
    return path


def run(args, argv: list[str], events: EventStream) -> None:
    if args.command == "tiny":
        from .hashing import sha256_tree
        from .tiny_model import ensure_tiny_model

        t0 = time.monotonic()
        directory = ensure_tiny_model(args.out.resolve() if args.out else None)
        events.emit(
            "artifact", path=str(directory), sha256=sha256_tree(directory), kind="base-model", meta={"preset": "tiny"}
        )
        events.emit("done", job="tiny", path=str(directory), seconds=round(time.monotonic() - t0, 3))
        return
    job = jobs.load(args.command, args.spec)  # validated before anything heavy is imported
    args.out = args.out.resolve()  # events carry absolute paths
    if args.command == "train":
        from .multi_gpu import needs_relaunch, relaunch
        from .preflight import check_train

        inputs = check_train(job)
        resume = resolve_resume(args.resume, args.out)
        if needs_relaunch(job):
            code = relaunch(argv, job["method"]["numProcesses"], events)
            if code:
                raise SystemExit(code)
            return
        quiet_libraries()
        from .train import run_train

        run_train(job, args.out, events, resume, args.keep_checkpoints, inputs)
    elif args.command == "classify":
        quiet_libraries()
        from .classify import run_classify

        run_classify(job, args.out, events)
    else:
        quiet_libraries()
        from .generate import run_generate

        run_generate(job, args.out, events, compile_unet=args.compile)


def main(argv: list[str] | None = None) -> int:
    events = claim_stdout()
    configure_logging()
    stopping.install()
    argv = sys.argv[1:] if argv is None else argv
    try:
        run(parse_args(argv), argv, events)
        return 0
    except BadInput as e:
        events.emit("error", message=str(e), retryable=False)
        return 2
    except Interrupted as e:
        events.emit("error", message=str(e), retryable=True)
        return e.exit_code
    except SystemExit as e:  # a relaunched run already reported its own events
        return int(e.code or 0)
    except Exception as e:
        log.exception("trainer crashed")
        events.emit("error", message=f"{type(e).__name__}: {e}", retryable=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
