#!/usr/bin/env bash
# The packages benchmarks/gpu_check.sh needs that a GPU machine without network access lacks,
# packed to travel in two transfers of at most 64 MiB each. Run it here (pip downloads),
# from the repository root, with the project's .venv set up:
#
#   bash benchmarks/gpu_carry.sh            # writes .gpu/a and .gpu/b (git ignores .gpu/)
#
# The device is assumed to hold Python 3.12 with a CUDA build of torch, lightning, numpy,
# scipy, h5py, pyyaml and pandas. What travels: torchmd, torchmd-net, pdbfixer and
# PeptideBuilder (pure Python, as .venv holds them), Warp's Python package and its CUDA
# library (warp.so, 299 MB, 81 MB with xz: the reason for two transfers), OpenMM with its
# CUDA 13 platform, mdtraj, biopython and jsonschema. What stays behind: Warp's CPU compiler
# (warp-clang.so, 69 MB), so Warp there runs CUDA kernels only, which is all the check asks.
#
# On the device, with the repository as the working directory:
#   transfer 1 carries .gpu/a (anything may run; `true` will do);
#   transfer 2, at once while the machine is still held, carries .gpu/b and runs
#   `bash benchmarks/gpu_check.sh --out "$OUT"`, which joins the two and installs them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
SITE="$STAGE/site"
mkdir -p "$SITE" "$STAGE/wheels"

pinned() { grep -iE "^$1==" requirements.txt | head -1; }
installed() { echo "$1==$($PY -m pip show "$1" 2>/dev/null | awk '/^Version:/ {print $2}')"; }
WHEELS=(
  "$(pinned openmm)" "openmm-cuda-13==$(pinned openmm | cut -d= -f3)" "$(pinned mdtraj)"
  "$(pinned jsonschema)" "$(installed biopython)"
  "$(installed referencing)" "$(installed jsonschema-specifications)" "$(installed rpds-py)"
  "$(installed attrs)" "$(installed warp-lang)"
)
PLATFORMS=()
for n in 17 24 27 28 31 34 35; do PLATFORMS+=(--platform "manylinux_2_${n}_x86_64"); done
$PY -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux2014_x86_64 "${PLATFORMS[@]}" -d "$STAGE/wheels" "${WHEELS[@]}"
for wheel in "$STAGE"/wheels/*.whl; do
  $PY -m zipfile -e "$wheel" "$SITE"
done
# pure-Python packages without a wheel on the index travel as the project's .venv holds them
PURELIB=$($PY -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
for package in torchmd torchmdnet pdbfixer PeptideBuilder; do
  cp -r "$PURELIB/$package" "$SITE"/
done
find "$SITE" -name __pycache__ -prune -exec rm -rf {} +
mv "$SITE/warp/bin/warp.so" "$STAGE/warp.so"
rm -rf "$SITE/warp/bin/warp-clang.so" "$SITE/warp/examples"

rm -rf .gpu && mkdir -p .gpu/a .gpu/b
xz -6 -T2 -c "$STAGE/warp.so" > "$STAGE/warp.so.xz"
(cd "$SITE" && tar -cJf "$OLDPWD/.gpu/b/site.tar.xz" .)
split -b 56M -d -a 2 "$STAGE/warp.so.xz" "$STAGE/warp.so.xz."
mv "$STAGE/warp.so.xz.00" .gpu/a/
mv "$STAGE"/warp.so.xz.* .gpu/b/
du -b .gpu/a .gpu/b | awk '{printf "%s: %.1f MiB\n", $2, $1 / 1048576}'
