#!/usr/bin/env bash
# The device check: cgthermo's GPU figures in one prepared run of at most 8 minutes.
#
#   bash benchmarks/gpu_check.sh --out DIR            # on a GPU machine (benchmarks/gpu_carry.sh
#                                                     # packs what it needs to travel there)
#   bash benchmarks/gpu_check.sh --shrink --out DIR   # the same steps on a CPU, in seconds
#
# Each step writes DIR/<step>.txt and may fail alone; DIR/gpu_check.txt gathers every step's
# output with its exit status and time, for benchmarks/RESULTS.md to cite:
#   env            the device, torch, Warp, torchmd-net and OpenMM versions and platforms
#   cg_batch       cg_sim steps/s and aggregate ns/day for 10 and 80 beads x 32, 256 and
#                  1,024 replicas in one batch, float32, graph network and TensorNet, the
#                  network's share of a step, TensorNet with and without a CUDA graph; then
#                  config/test.yaml's cg_sim settings run fresh on the device
#   architectures  training frames/s at batch 256 and one force call, both architectures
#   openmm         chignolin ns/day on OpenMM's CUDA platform, implicit and explicit solvent
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=""
SHRINK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --shrink) SHRINK=1; shift ;;
    *) echo "gpu_check: unknown argument $1. Fix: use --out DIR [--shrink]" >&2; exit 2 ;;
  esac
done
[ -n "$OUT" ] || { echo "gpu_check: no --out DIR given. Fix: name a folder for the figures" >&2; exit 2; }
mkdir -p "$OUT"
PY=python3
[ -x .venv/bin/python ] && PY=.venv/bin/python
export PYTHONUNBUFFERED=1

install_carried() {
  # joins the two transfers of benchmarks/gpu_carry.sh into /tmp/site
  [ -d .gpu/a ] && [ -d .gpu/b ] || return 0
  "$PY" - <<'EOF' || return 1
import lzma, pathlib, shutil, tarfile
site = pathlib.Path("/tmp/site")
site.mkdir(exist_ok=True)
with tarfile.open(".gpu/b/site.tar.xz") as archive:
    archive.extractall(site, filter="data")
parts = sorted(pathlib.Path(".gpu").glob("[ab]/warp.so.xz.*"), key=lambda p: p.name)
with open("/tmp/warp.so.xz", "wb") as joined:
    for part in parts:
        joined.write(part.read_bytes())
with lzma.open("/tmp/warp.so.xz") as packed, open(site / "warp/bin/warp.so", "wb") as out:
    shutil.copyfileobj(packed, out)
EOF
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
}

step() {  # step NAME SECONDS COMMAND...: one figure source, limited in time, failing alone
  local name="$1" limit="$2"
  shift 2
  local start=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name.txt" 2>&1
  local rc=$?
  {
    echo "## $name: exit $rc, $((SECONDS - start)) s (limit $limit s): $*"
    grep -v -E "^Module |^Warp |^   |^Kernel cache" "$OUT/$name.txt"
    echo
  } >> "$OUT/gpu_check.txt"
}

export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
echo "# gpu_check $(date -u +%Y-%m-%dT%H:%MZ), shrink=$SHRINK, $(nproc) CPUs" > "$OUT/gpu_check.txt"
if [ "$SHRINK" = 0 ]; then
  install_carried || echo "gpu_check: the carried packages could not be installed" >> "$OUT/gpu_check.txt"
fi
if [ "$SHRINK" = 1 ]; then
  DEVICE=cpu
  CG=(--replicas 4 --beads 10 --steps 10 --width 16 --layers 1)
  ARCH=(--width 16 --layers 1 --beads 10 --replicas 4 --frames 300 --calls 2 --rounds 1)
else
  DEVICE=cuda
  CG=(--replicas 32 256 1024 --beads 10 80 --steps 100)
  ARCH=(--width 128 --layers 4 --frames 3000 --rounds 1 --clock wall)
fi

step env 60 "$PY" -c "
import torch, openmm, torchmdnet, warp
print('torch', torch.__version__, 'cuda', torch.version.cuda, 'device',
      torch.cuda.get_device_name() if torch.cuda.is_available() else 'none')
print('warp', warp.__version__, 'openmm', openmm.__version__, 'platforms',
      [openmm.Platform.getPlatform(i).getName() for i in range(openmm.Platform.getNumPlatforms())])
print('torchmd-net', getattr(torchmdnet, '__version__', 'installed'))"
step cg_batch 270 "$PY" benchmarks/cg_batch.py --device "$DEVICE" "${CG[@]}" --test-config
step architectures 100 "$PY" benchmarks/architectures.py --device "$DEVICE" "${ARCH[@]}"
if [ "$SHRINK" = 1 ]; then
  step openmm 60 "$PY" -c "import openmm; print('OpenMM platforms:', [openmm.Platform.getPlatform(i).getName() for i in range(openmm.Platform.getNumPlatforms())])"
else
  step openmm 100 "$PY" benchmarks/aa_solvent.py --platform CUDA --steps 5000 --repeats-implicit 3
fi
cat "$OUT/gpu_check.txt"
