#!/usr/bin/env bash
# Create .venv with cgthermo and its pinned dependencies (idempotent; reruns are fast).
# GPU machines: install the CUDA build of torch==2.13.0 into .venv before running this.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
if ! python -c "import cgthermo, torchmd, torchmdnet, pyemma, openmm, snakemake" 2>/dev/null \
   || ! pip check >/dev/null 2>&1 || [ requirements.txt -nt .venv/.installed ] \
   || [ requirements-dev.txt -nt .venv/.installed ]; then
  pip install --quiet --upgrade pip
  # torch first: a CPU build lies on these machines' disk; the pin keeps pip from pulling CUDA builds
  pip install --quiet "torch==2.13.0"
  pip install --quiet -r requirements.txt -r requirements-dev.txt
  pip install --quiet --no-deps -e .
  touch .venv/.installed
fi
# the 3-D viewer that report.html embeds (npm's 3dmol); without npm the report has no 3-D views
if [ ! -f vendor/node_modules/3dmol/build/3Dmol-min.js ]; then
  if command -v npm >/dev/null; then
    npm install --prefix vendor --no-audit --no-fund --silent
  else
    echo "npm not found: report.html will list the structures without 3-D views" >&2
  fi
fi
echo "cgthermo environment ready: $(python -c 'import cgthermo; print(cgthermo.__file__)')"
