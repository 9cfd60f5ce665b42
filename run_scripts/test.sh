#!/usr/bin/env bash
# The tests on a fresh clone: installs on first use, then runs pytest (arguments go
# to pytest, e.g. tests/distill -x; -n 0 runs in one process).
set -euo pipefail
cd "$(dirname "$0")/.."
bash run_scripts/install.sh --if-needed
# Two processes (pytest-xdist), one test file each at a time: the suite is mostly
# TensorFlow start-up and tracing, which one process cannot spread over 2 cores.
exec .venv/bin/python -m pytest -q -n 2 --dist loadfile "$@"
