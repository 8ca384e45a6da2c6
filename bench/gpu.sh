#!/usr/bin/env bash
# GPU benchmark of the trainer (one H100 or H200, about 8 minutes): SD 1.5 architecture with random
# weights, built in code and saved as a local diffusers directory (nothing is downloaded), then
#   gpu-train     LoRA r16 training it/s, 512 px, batch 4: medsynth_trainer (bf16) vs a plain diffusers
#                 LoRA loop (fp16 autocast = headline; fp32 default and bf16 also timed when time allows)
#   gpu-generate  images/s, 512 px, 30 steps, batch 8: the trainer's generate path (bf16, channels_last;
#                 also with --compile, in a subprocess with a timeout) vs a plain StableDiffusionPipeline
#                 (dtype=float16 = headline; fp32 default also timed), outputs compared (PSNR)
# Results: bench/gpu_bench.py's docstring. Files: $OUT/{gpu-train,gpu-generate}.json, gpu-bench.log,
# nvidia-smi.txt, gpu-compile-N.log (the --compile subprocess's stderr, TORCH_LOGS=recompiles,graph_breaks)
# when $OUT is set (the device tool; copy the JSON files into bench/results/ afterwards), else
# bench/results/{gpu-train,gpu-generate}.json and /tmp/gpu-bench.log.
#
# Usage
#   bash bench/gpu.sh --fetch-wheels   HERE (a machine with pip and network): download into .whl/ the
#                                      wheels the GPU image lacks (diffusers, peft pin, jsonschema and its
#                                      deps, open-clip-torch for CLIP's BPE vocabulary); prints the size.
#   bash bench/gpu.sh                  ON THE GPU MACHINE, from the repo root: installs .whl/*.whl into
#                                      /tmp/site, runs nvidia-smi, then gpu_bench.py under a hard limit.
#   bash bench/gpu.sh --smoke          HERE, on the CPU: the same code paths with a tiny model (under a
#                                      minute), results into a temporary folder (uses .venv/bin/python).
# Device tool call (command, carry, timeout), after --fetch-wheels here:
#   run(command="MEDSYNTH_COMMIT=<git sha> bash bench/gpu.sh", carry=[".whl"], timeout_s=540)
# A second call on the still-warm machine (within its 30 s) reuses /tmp/medsynth-gpu-bench (the model) and
# inductor's cache, e.g. "MEDSYNTH_COMMIT=<sha> BENCH_PHASES=generate BENCH_BUDGET_S=200 BENCH_HARD_LIMIT_S=240
# bash bench/gpu.sh" with timeout_s=300.
# Environment: MEDSYNTH_COMMIT (the commit measured; else `git rev-parse HEAD` where .git exists),
#   BENCH_BUDGET_S (gpu_bench.py's own time budget, default 420), BENCH_HARD_LIMIT_S (kill after,
#   default 470), BENCH_PHASES (train,generate), PYTHON (default python3; .venv/bin/python for --smoke).
#   Any other argument is passed on to gpu_bench.py (see `python3 bench/gpu_bench.py --help`).
set -uo pipefail
cd "$(dirname "$0")/.."

WHEELS=(
  diffusers==0.42.1                 # not on the GPU image; its needs (huggingface-hub>=1.32, safetensors>=0.8,
                                    # numpy, regex, requests, filelock, Pillow) are there; importlib_metadata
                                    # is imported on Python < 3.8 only
  peft==0.21.2                      # the version requirements/trainer.txt pins (the image's is unknown)
  jsonschema==4.26.0                # jobs.py validates jobs with it; attrs and typing-extensions are there
  jsonschema-specifications==2025.9.1
  referencing==0.37.0
  rpds-py==2026.9.1                 # binary: cp312 manylinux
  open-clip-torch==3.3.0            # only for open_clip/bpe_simple_vocab_16e6.txt.gz (never imported)
)

if [[ "${1:-}" == "--fetch-wheels" ]]; then
  rm -rf .whl && mkdir -p .whl
  grep -qxF '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >>.git/info/exclude
  names=()
  for spec in "${WHEELS[@]}"; do names+=("${spec%% *}"); done
  for name in "${names[@]}"; do
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
      --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "$name" || exit 1
  done
  ls -l .whl
  du -ch .whl/*.whl | tail -1
  exit 0
fi

SMOKE=0
for arg in "$@"; do [[ "$arg" == "--smoke" ]] && SMOKE=1; done
export MEDSYNTH_LOG_LEVEL=${MEDSYNTH_LOG_LEVEL:-WARNING} PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false \
  HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 DO_NOT_TRACK=1 HF_HUB_DISABLE_PROGRESS_BARS=1
if [[ -n "${OUT:-}" ]]; then RESULTS="$OUT"; else RESULTS=bench/results; fi
if ((SMOKE)); then
  PY=${PYTHON:-.venv/bin/python}
  [[ -x "$PY" ]] || PY=python3
  export PYTHONPATH="$PWD/trainer${PYTHONPATH:+:$PYTHONPATH}"
  exec "$PY" bench/gpu_bench.py "$@"
fi

mkdir -p "$RESULTS"
LOGS=${OUT:-/tmp}  # the log and nvidia-smi.txt stay out of bench/results/
LOG="$LOGS/gpu-bench.log"
: >"$LOG"
PY=${PYTHON:-python3}
if compgen -G ".whl/*.whl" >/dev/null; then
  echo "installing $(ls .whl/*.whl | wc -l) carried wheels into /tmp/site" | tee -a "$LOG"
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    2>&1 | tee -a "$LOG" || { echo "wheel install failed" | tee -a "$LOG"; exit 3; }
  export PYTHONPATH="/tmp/site:$PWD/trainer"
else
  echo "no .whl/*.whl here: using the installed packages (run 'bash bench/gpu.sh --fetch-wheels' first)" | tee -a "$LOG"
  export PYTHONPATH="$PWD/trainer${PYTHONPATH:+:$PYTHONPATH}"
fi
if command -v nvidia-smi >/dev/null; then
  nvidia-smi 2>&1 | tee "$LOGS/nvidia-smi.txt" | tee -a "$LOG"
fi
if [[ -z "${MEDSYNTH_COMMIT:-}" ]]; then
  MEDSYNTH_COMMIT=$(git rev-parse HEAD 2>/dev/null || echo unknown)
  export MEDSYNTH_COMMIT
fi
echo "commit measured: $MEDSYNTH_COMMIT" | tee -a "$LOG"
timeout -k 15 "${BENCH_HARD_LIMIT_S:-470}" "$PY" bench/gpu_bench.py --budget "${BENCH_BUDGET_S:-420}" \
  --results "$RESULTS" "$@" 2>&1 | tee -a "$LOG"
code=${PIPESTATUS[0]}
if ((code == 124 || code == 137)); then
  echo "gpu_bench.py hit the hard limit (${BENCH_HARD_LIMIT_S:-470} s): partial results" | tee -a "$LOG"
fi
ls -l "$RESULTS" | tee -a "$LOG"
exit "$code"
