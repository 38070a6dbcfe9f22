#!/usr/bin/env bash
# bench:export on a GPU host (device run; issue 10, "Measured"): `tr118 run` on a config naming only model.hf —
# cold (empty cache: the export runs), warm (a cache hit) — against the same run given the ONNX file, for MODEL =
# fixture (the bundled trained checkpoint) and/or gpt2-small (a random GPT-2 of GPT-2 small's shape, built here by
# `python -m tr118_native.fixture random-lm`: nothing downloaded). The matrix is bench/export-cache.ts's own (one
# onnxruntime-cpu cell, 1×32, no accuracy): the figure is the export and the cache's overhead, not the GPU.
# The device has Python, torch, transformers and onnx but no Node.js; carry it in, with onnxruntime-node and the
# bench bundled (dist/ must be current: the bench runs dist/cli.js):
#   ../shared/tools/device-pack.sh node_modules/onnxruntime-node node_modules/onnxruntime-common
#   npx esbuild bench/export-cache.ts --bundle --platform=node --format=esm --target=node20 \
#     --external:onnxruntime-node --minify --outfile=.carry/export-cache.mjs \
#     --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
# then, on the device (carry [".carry"]):
#   source .carry/unpack.sh; bash scripts/device/export-cache.sh [MODEL ...]      # default: fixture gpt2-small
# A call made from a helper's worktree receives the session's main checkout, not the worktree: put .carry (and this
# script, until it is merged) in that checkout's git-ignored .carry/ and run it from there.
# Size: Node.js (24 MB) + onnxruntime-node (13 MB) + the bundle + the checkout (29 MB) is ~66.6 of the 67.1 MB
# (64 MiB) a call carries: nothing else fits beside them.
# BENCH_MJS: the bundle (default .carry/export-cache.mjs); PAIRS: warm/given pairs per model (default 3);
# TR118_DIGEST_MEMO=off: every run hashes its input files (the memo's effect, measured against a run with it on).
# Writes $OUT/export-cache-MODEL.json (bench/record.ts's record) as each model finishes, and $OUT/log.
set -uo pipefail
repo=$(pwd)
out=${OUT:-/tmp/out}
mkdir -p "$out"
exec > >(tee -a "$out/log") 2>&1
bench=${BENCH_MJS:-.carry/export-cache.mjs}
work=$(mktemp -d)
export TR118_PYTHON=${TR118_PYTHON:-$(command -v python3)}
export PYTHONPATH="$repo/native" PYTHONUNBUFFERED=1
gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)
echo "GPU: $gpu; $(nproc) CPUs; node $(node --version)"
"$TR118_PYTHON" -c 'import sys, torch, transformers, onnx; print("python", sys.version.split()[0], "torch", torch.__version__, "transformers", transformers.__version__, "onnx", onnx.__version__)'
status=0
models=("$@")
[ ${#models[@]} -eq 0 ] && models=(fixture gpt2-small)
for m in "${models[@]}"; do
  case $m in
    fixture) args=() ;;
    gpt2-small)
      t0=$SECONDS
      "$TR118_PYTHON" -m tr118_native.fixture random-lm --out "$work/gpt2-small" 2>&1 | grep -v Warning | tail -2
      echo "random GPT-2 small built and exported (the given ONNX file) in $((SECONDS - t0)) s"
      args=(--hf "$work/gpt2-small/hf" --onnx "$work/gpt2-small/model.onnx") ;;
    *) echo "MODEL: fixture or gpt2-small, not $m" >&2; exit 2 ;;
  esac
  echo "== bench:export $m"
  node "$bench" "${args[@]}" --pairs "${PAIRS:-3}" --out "$out/export-cache-$m.json" \
    --notes "device run: scripts/device/export-cache.sh $m; $gpu; TR118_PYTHON=$TR118_PYTHON; TR118_DIGEST_MEMO=${TR118_DIGEST_MEMO:-on}" || status=$?
done
rm -rf "$work"
exit "$status"
