#!/usr/bin/env bash
# The built Action on a GPU host without network, as on a locked-down self-hosted GPU runner (device run; see
# docs/development.md). Needs Node.js and onnxruntime-node carried in: ../shared/tools/device-pack.sh
# node_modules/onnxruntime-node node_modules/onnxruntime-common, then `source .carry/unpack.sh; bash <this>`.
# 1. no registry reachable and no TR118_ONNXRUNTIME_NODE: the provisioning error must say what to set;
# 2. TR118_ONNXRUNTIME_NODE set: the bundled default matrix, plus CUDA / TensorRT presets (reported unavailable
#    without ORT's GPU provider libraries), from a checkout without node_modules. Prints a short table last.
set -uo pipefail
repo=$(pwd)
runner=$(mktemp -d)
mkdir -p "$runner/action" "$runner/temp" "$runner/tools"
cp -r package.json package-lock.json action.yml dist fixtures "$runner/action/"
export RUNNER_TEMP="$runner/temp" RUNNER_TOOL_CACHE="$runner/tools"

step() { # name, then extra env assignments
  local name=$1; shift
  : > "$runner/$name.summary"
  local t0=$EPOCHREALTIME
  (cd "$runner" && env "$@" GITHUB_STEP_SUMMARY="$runner/$name.summary" INPUT_OUT="$runner/out-$name" \
    timeout 300 node "$runner/action/dist/index.js") > "$runner/$name.log" 2>&1
  local rc=$?
  awk -v n="$name" -v rc=$rc -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%-12s rc=%d  step %.1f s\n", n, rc, b - a }' >> "$runner/table"
}

step offline TR118_NPM_REGISTRY=http://registry.invalid
grep -o '::error::.*' "$runner/offline.log" | head -2

export TR118_ONNXRUNTIME_NODE="$repo/node_modules/onnxruntime-node"
step default
sed 's#\.\./model/#'"$runner"'/action/fixtures/model/#; s#^  - onnxruntime-cpu#  - onnxruntime-cpu\n  - onnxruntime-cuda\n  - onnxruntime-tensorrt#' \
  fixtures/configs/default.yml > "$runner/gpu.yml"
step gpu-presets INPUT_CONFIG="$runner/gpu.yml"
grep -E 'backend |onnxruntime-node:' "$runner/gpu-presets.log" | head -5

echo '--- device ---'
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
echo '--- steps ---'
cat "$runner/table"
for n in default gpu-presets; do
  node -e '
    const r = require(process.argv[1]);
    console.log(process.argv[2], "verdict", r.verdict.decision, "| pipeline", r.durationSeconds.toFixed(1), "s | GPUs:",
      r.environment.gpus.map((g) => g.name).join(", ") || r.environment.gpuNote, "| backends:",
      r.backends.map((b) => b.spec.name + "=" + b.status).join(", "));
  ' "$runner/out-$n/results.json" "$n"
done
