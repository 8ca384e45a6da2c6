"""`python -m medsynth_trainer ARGS`, run as is, then the peak GPU memory written as JSON to
$BENCH_PEAK_FILE (the CLI cannot report it; bench/gpu_bench.py runs `generate --compile` this way, in
a subprocess it can time out). Usage: python bench/gpu/trainer_cli.py generate --spec J --out D --compile
"""

import json
import os
import sys
from pathlib import Path

from medsynth_trainer.__main__ import main

if __name__ == "__main__":
    code = main(sys.argv[1:])
    peak_file = os.environ.get("BENCH_PEAK_FILE")
    if peak_file:
        import torch

        cuda = torch.cuda.is_available()
        Path(peak_file).write_text(
            json.dumps({"code": code, "peak_bytes": torch.cuda.max_memory_allocated() if cuda else None})
        )
    sys.exit(code)
