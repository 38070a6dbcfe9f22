#!/usr/bin/env bash
# The floor under a GPU run (issue 23): scripts/device/floor-probe.py on the part's checkpoint, once to compile and
# save torch.compile's mega-cache, then three fresh processes that load it (a warm run's compiled worker, with nothing
# of tr118 in it). Byte code (PYTHONPYCACHEPREFIX) and Inductor's folder are kept across the processes: the warmest a
# runner can be, so the figures are a floor.
#   bash scripts/device/floor-gpu.sh fixture|gpt2-small      (a step of scripts/device/gpu-session.sh: floor:PART)
# gpt2-small's checkpoint is phases-gpu.sh's (PHASES_CACHE), made here when that script has not run yet.
# Writes $OUT/floor/<part>.txt: one line per process, its steps in seconds, and a last line with their medians.
set -uo pipefail
repo=$(pwd); out=${OUT:-/tmp/out}/floor; mkdir -p "$out"
source "$repo/scripts/device/gpu-env.sh"
cache=${PHASES_CACHE:-/tmp/tr118-phases-cache}; mkdir -p "$cache"
case ${1:?fixture or gpt2-small} in
  fixture) checkpoint=$repo/fixtures/model/hf ;;
  gpt2-small) checkpoint=$cache/gpt2-small/hf
    [ -f "$checkpoint/config.json" ] ||
      "$TR118_PYTHON" -m tr118_native.fixture random-lm --out "$cache/gpt2-small" 2>&1 | grep -v Warning | tail -1 >&2 ;;
  *) echo "part: fixture or gpt2-small, not $1" >&2; exit 2 ;;
esac
# The image sets PYTHONDONTWRITEBYTECODE and ships no byte code (docs/run-time.md): the worker's byte code folder,
# stood in for by PYTHONPYCACHEPREFIX here.
unset PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX=/tmp/floor-pyc TORCHINDUCTOR_CACHE_DIR=/tmp/floor-inductor-$1
machine_note "$out/gpu.txt" > /dev/null
probe() { "$TR118_PYTHON" "$repo/scripts/device/floor-probe.py" "$1" "$checkpoint" "/tmp/floor-$2.mc" 2>&1 | grep -E 'TOTAL|Error'; }
{ echo "save: $(probe save "$1")"; for i in 1 2 3; do echo "load: $(probe load "$1")"; done; } > "$out/$1.txt"
# Medians of the three loads, step by step.
python3 - "$out/$1.txt" <<'PY' | tee -a "$out/$1.txt"
import statistics, sys
rows = [line[len("load: "):] for line in open(sys.argv[1]) if line.startswith("load: ")]
steps = [[part.rsplit(" ", 1) for part in row.strip().removesuffix(" s").split(" | ")] for row in rows]
names = [name for name, _ in steps[0]]
print("median of loads: " + " | ".join(f"{n} {statistics.median(float(s[i][1]) for s in steps):.2f}" for i, n in enumerate(names)))
PY
cat "$out/$1.txt"
