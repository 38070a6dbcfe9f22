#!/usr/bin/env bash
# Issue 24's GPU figures: sequential stopping against `stopping: fixed` in same-run A/B on the GPU, with the bench of
# the 2-core figures (bench/sequential-gate.ts: the same record format, conditions interleaved round by round, the
# same two cells 4x32 and 1x128, accuracy off, the default config otherwise), fewer runs:
#   ort      onnxruntime-cuda on fixtures/model/model.onnx: A/A and the fixture's `slowdown` copy with ORT_EXTRAS
#            identity MatMuls (default 16: the fixture is tiny and a GPU pass is launch-bound, so one MatMul adds
#            a kernel launch, not compute; the table's measured change says whether K gave about +10%)
#   compile  transformers-gpu-compile on fixtures/model/hf: A/A and the fixture's `deeper` copy with EXTRA_LAYERS
#            zero-output GPT-2 blocks (default 1: 4 -> 5 blocks, the same logits)
# Each part first runs every model once unrecorded (--warm-up: the compile cache and CUDA start-up land in no
# condition), then rounds of AA_PER_ROUND sequential A/A runs, one fixed A/A run and one sequential and one fixed
# run of the slower model, until ROUNDS rounds or until another round would end past the part's seconds
# (ORT_SECONDS 110, COMPILE_SECONDS 150): with start-up, both parts in one call stay within about 300 s on an H100.
# For more runs, one part per call with a larger budget (e.g. COMPILE_SECONDS=500 ... compile; a call has 600 s).
# Needs Node.js, onnxruntime-node and the bench bundled (dist/ must be current: the bench runs dist/cli.js), and ORT's
# CUDA libraries provisioned by an earlier step (TR118_ONNXRUNTIME_NODE set, `tr118 run` with onnxruntime-cuda
# working); the device's Python has torch and transformers. Here:
#   npm run build
#   ../shared/tools/device-pack.sh node_modules/onnxruntime-node node_modules/onnxruntime-common
#   npx esbuild bench/sequential-gate.ts --bundle --platform=node --format=esm --target=node20 \
#     --external:onnxruntime-node --minify --outfile=.carry/sequential-gate.mjs \
#     --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
# then, as scripts/device/phases-gpu.sh says (Node.js in its own call, the rest in the next):
#   source .carry/unpack.sh && bash scripts/device/sequential-gpu.sh [ort] [compile]      # default: both
# SEQ_GPU_CPU=1 checks the script on a machine without a GPU: onnxruntime-cpu and transformers-cpu instead, one
# round of one A/A run, 4 repetitions x 5 passes (the figures mean nothing; that every step runs does).
# Writes $OUT/sequential/sequential-gate-<part>-<gpu>.json (bench/record.ts's record, after every round) and
# bench.log, and prints a table last: condition, runs, flagged share, median wall sequential and fixed, and their ratio.
# How it ran on an H100 (2026-12-06): the carry chain of ort-gpu-carry.sh, then scripts/device/gpu-session.sh, which
# sources gpu-env.sh and runs this script as one of its steps: bench/results/h100-gpu-figures/README.md has the calls.
set -uo pipefail
repo=$(pwd); out=${OUT:-/tmp/out}/sequential; mkdir -p "$out"
export TR118_PYTHON=${TR118_PYTHON:-$(command -v python3)} PYTHONUNBUFFERED=1 PYTHONPATH="$repo/native"
export TR118_ONNXRUNTIME_NODE=${TR118_ONNXRUNTIME_NODE:-$repo/node_modules/onnxruntime-node}
bench=${BENCH_MJS:-.carry/sequential-gate.mjs}
[ -f "$bench" ] || { echo "no bench bundle at $bench (BENCH_MJS): see this script's header" >&2; exit 2; }
parts=("$@"); [ ${#parts[@]} -eq 0 ] && parts=(ort compile)
cpu=${SEQ_GPU_CPU:-0}
if [ "$cpu" = 1 ]; then
  gpu="no GPU (SEQ_GPU_CPU=1: CPU backends)"; slug=cpu-check
  small=(--repetitions 4 --iterations 5); rounds=1; aa=1
else
  gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)
  slug=$(echo "${gpu%%,*}" | tr 'A-Z' 'a-z' | tr -cs 'a-z0-9' '-' | sed 's/-$//')
  small=(); rounds=${ROUNDS:-20}; aa=${AA_PER_ROUND:-2}
fi
echo "GPU: $gpu; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg); node $(node --version)" | tee "$out/gpu.txt"
export TORCHINDUCTOR_CACHE_DIR; TORCHINDUCTOR_CACHE_DIR=$(mktemp -d)

status=0
for part in "${parts[@]}"; do
  case $part in
    ort) backend=onnxruntime-cuda extras=${ORT_EXTRAS:-16} seconds=${ORT_SECONDS:-110}
      [ "$cpu" = 1 ] && backend=onnxruntime-cpu ;;
    compile) backend=transformers-gpu-compile extras=${EXTRA_LAYERS:-1} seconds=${COMPILE_SECONDS:-150}
      [ "$cpu" = 1 ] && backend=transformers-cpu ;;
    *) echo "part: ort or compile, not $part" >&2; exit 2 ;;
  esac
  file="$out/sequential-gate-$part-$slug.json"
  echo "== $part: $backend, K=$extras, $rounds rounds at most, $seconds s"
  t0=$SECONDS
  # The hard stop: the bench starts no round that would end past --seconds, but a round can still run long.
  timeout $((seconds + 60)) node "$bench" --backend "$backend" --extras "$extras" --rounds "$rounds" \
    --aa-per-round "$aa" --seconds "$seconds" --warm-up "${small[@]}" --out "$file" \
    --notes "device run: scripts/device/sequential-gpu.sh $part; $gpu; TR118_PYTHON=$TR118_PYTHON" \
    2>&1 | tee -a "$out/bench.log" | grep -v '^ *at ' | tail -8
  rc=${PIPESTATUS[0]}; [ "$rc" -ne 0 ] && status=$rc
  echo "$part: exit $rc, $((SECONDS - t0)) s"
done
rm -rf "$TORCHINDUCTOR_CACHE_DIR"

echo; echo "| part | condition | runs | flagged | fail | inconclusive | median change | median wall s | wall / fixed |"
echo "|---|---|---|---|---|---|---|---|---|"
for part in "${parts[@]}"; do
  file="$out/sequential-gate-$part-$slug.json"
  [ -f "$file" ] || { echo "| $part | (no record; see bench.log) |"; continue; }
  node -e '
    const { figures } = require(process.argv[1]);
    const c = figures.conditions ?? {};
    const pct = (x, d = 0) => (typeof x === "number" ? `${(100 * x).toFixed(d)}%` : "—");
    for (const [name, v] of Object.entries(c)) {
      const fixed = c[name.replace(/-sequential$/, "-fixed")];
      const ratio = name.endsWith("-sequential") && fixed ? (v.medianWallSeconds / fixed.medianWallSeconds).toFixed(2) : "";
      console.log(`| ${process.argv[2]} | ${name} | ${v.runs} | ${pct(v.runFlaggedShare)} | ${pct(v.runFailShare)} | ` +
        `${pct(v.runInconclusiveShare)} | ${pct(v.measuredChangeFraction, 1)} | ${v.medianWallSeconds.toFixed(1)} | ${ratio} |`);
    }
  ' "$file" "$part"
done
exit "$status"
