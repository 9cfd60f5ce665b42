#!/usr/bin/env bash
# The tests on a fresh clone: installs on first use, then runs pytest (arguments go
# to pytest, e.g. tests/distill -x).
set -euo pipefail
cd "$(dirname "$0")/.."
bash run_scripts/install.sh --if-needed
exec .venv/bin/python -m pytest -q "$@"
