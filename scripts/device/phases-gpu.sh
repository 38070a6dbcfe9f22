#!/usr/bin/env bash
# Where a GPU run's seconds go (issue 23, results.json `phases`) and what sampling the end-to-end figure saves
# (`end_to_end_passes`): tr118 run on the bundled fixture with transformers-gpu and transformers-gpu-compile, default
# scenarios, REPETITIONS x ITERATIONS (default 5 x 20), twice: end_to_end_passes at its default (5) and at ITERATIONS
# (one end-to-end pass per timed pass, as before the option existed). Needs Node.js and onnxruntime-node carried in
# (../shared/tools/device-pack.sh node_modules/onnxruntime-node node_modules/onnxruntime-common); with Node.js 22's
# 28 MB binary the payload and the checkout exceed one call, so the binary goes first:
#   call 1 (carry [".carry/node-v22.13.0.xz"]):  mkdir -p /tmp/acc && cp .carry/node-*.xz /tmp/acc/
#   call 2 (carry [".carry/tree.tar.xz", ".carry/unpack.sh"]):
#     cp /tmp/acc/node-*.xz .carry/ && source .carry/unpack.sh && bash scripts/device/phases-gpu.sh
# Writes $OUT/phases/<e2e>/results.json (and report.md, the log) as each run ends; prints a short table last.
set -uo pipefail
repo=$(pwd); out=${OUT:-/tmp/out}/phases; mkdir -p "$out"
export TR118_PYTHON=${TR118_PYTHON:-$(command -v python3)} PYTHONUNBUFFERED=1
export TR118_ONNXRUNTIME_NODE=$repo/node_modules/onnxruntime-node
reps=${REPETITIONS:-5} iters=${ITERATIONS:-20}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
for e2e in 5 "$iters"; do
  mkdir -p "$out/e2e-$e2e"
  sed -e "s#^  onnx: .*#  onnx: $repo/fixtures/model/model.onnx#" -e "s#^  hf: .*#  hf: $repo/fixtures/model/hf#" \
    -e "s#^  tokens: \.\./model/#  tokens: $repo/fixtures/model/#" \
    -e 's#^  - onnxruntime-cpu$#  - transformers-gpu\n  - transformers-gpu-compile#' \
    -e "s#^repetitions: .*#repetitions: $reps#" -e "s#^iterations: .*#iterations: $iters#" \
    "$repo/fixtures/configs/default.yml" > "$out/e2e-$e2e/tr118.yml"
  echo "end_to_end_passes: $e2e" >> "$out/e2e-$e2e/tr118.yml"
  t0=$EPOCHREALTIME
  timeout 280 node "$repo/dist/cli.js" run -c "$out/e2e-$e2e/tr118.yml" -o "$out/e2e-$e2e/run" > "$out/e2e-$e2e/run.log" 2>&1
  awk -v e=$e2e -v rc=$? -v a=$t0 -v b=$EPOCHREALTIME 'BEGIN { printf "end_to_end_passes %s: exit %d, process %.1f s\n", e, rc, b - a }'
done
for e2e in 5 "$iters"; do
  node -e '
    const r = require(process.argv[1]);
    const timed = r.phases ? r.phases.timedPasses : NaN;
    const top = Object.entries(r.phases ?? {}).sort((a, b) => b[1] - a[1]).slice(0, 8)
      .map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ");
    console.log(`e2e ${process.argv[2]}: duration ${r.durationSeconds.toFixed(1)} s, wall/timed ${(r.durationSeconds / timed).toFixed(2)}, verdict ${r.verdict.decision}`);
    console.log(`  phases (s): ${top}`);
    for (const c of r.cells.filter((c) => c.scenario === "batch_medium" || c.scenario === "single_micro"))
      console.log(`  ${c.backend} ${c.scenario}: median ${c.stats?.latencyMs?.median?.toFixed(3)} ms, e2e ${c.endToEnd?.medianMs?.toFixed(3) ?? "—"} ms (n ${c.endToEnd?.passes ?? "—"})`);
  ' "$out/e2e-$e2e/run/results.json" "$e2e"
done
find "$out" \( -name results.jsonl -o -name summary.csv -o -name verdict.json -o -name manifest.json -o -name report.html \) -delete
