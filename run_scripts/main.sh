#!/usr/bin/env bash
# The main job on a fresh clone: installs on first use, then distils the packaged
# all-MiniLM-L6-v2 into an l6h256 student with the embedded defaults (offline).
# Extra arguments go to run_distill.py, e.g. --output_dir=... or
# --eval_tasks=sst2,mrpc,rte,qnli --eval_data_dir=../shared/data/glue
set -euo pipefail
cd "$(dirname "$0")/.."
bash run_scripts/install.sh --if-needed
exec .venv/bin/python run_distill.py --flagfile=flags/l6h256.cfg "$@"
