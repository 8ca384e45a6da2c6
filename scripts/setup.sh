#!/usr/bin/env bash
# Idempotent project setup: node_modules from the lockfile and the Python venv from pinned
# requirements. Each step is skipped while the stamp of its inputs is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .medsynth

stamp() { cat "$@" | sha256sum | cut -d' ' -f1; }

npm_stamp=$(stamp package-lock.json)
if [ ! -d node_modules ] || [ "$(cat node_modules/.medsynth-stamp 2>/dev/null)" != "$npm_stamp" ]; then
  echo "setup: installing npm packages (npm ci)" >&2
  # onnxruntime-node's install script fetches CUDA files from a host that is not reachable.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$npm_stamp" > node_modules/.medsynth-stamp
fi

# requirements/*-nodeps.txt hold packages wanted for a data file only (open-clip-torch's CLIP
# vocabulary): installed without their dependencies, which would pull another torch.
shopt -s nullglob
req_files=() nodeps_files=()
for f in requirements/*.txt; do
  case "$f" in *-nodeps.txt) nodeps_files+=("$f") ;; *) req_files+=("$f") ;; esac
done
py_stamp=$(stamp "${req_files[@]}" "${nodeps_files[@]}")
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.medsynth-stamp 2>/dev/null)" != "$py_stamp" ]; then
  echo "setup: building Python venv .venv from ${req_files[*]} ${nodeps_files[*]}" >&2
  [ -x .venv/bin/python ] || python3 -m venv .venv
  pip=(.venv/bin/python -m pip install -qq --disable-pip-version-check)
  "${pip[@]}" "${req_files[@]/#/-r}" >&2
  [ ${#nodeps_files[@]} -eq 0 ] || "${pip[@]}" --no-deps "${nodeps_files[@]/#/-r}" >&2
  echo "$py_stamp" > .venv/.medsynth-stamp
fi

# Debian's Chromium, for the report tests (headless, driven by playwright-core; never a
# downloaded browser). Skipped where it is already installed or apt-get is not ours to run.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian's chromium (apt-get)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) >&2
  else
    echo "setup: chromium is not installed and apt-get is not available to this user: the report tests will fail until it is (apt-get install chromium)" >&2
  fi
fi

# Debian's bubblewrap: the jail of a trainer that loads a challenge submission's weights
# (challenge/sandbox.ts). Same rule as Chromium: installed when missing and apt-get is ours.
if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian's bubblewrap (apt-get)" >&2
    (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bubblewrap || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bubblewrap)) >&2
  else
    echo "setup: bubblewrap is not installed and apt-get is not available to this user: challenge regeneration and its tests will fail until it is (apt-get install bubblewrap)" >&2
  fi
fi
