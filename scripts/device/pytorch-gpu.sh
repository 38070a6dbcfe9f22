#!/usr/bin/env bash
# The PyTorch backends on a GPU host (device run; issue "PyTorch engines …"): `tr118 run` with transformers-cpu,
# transformers-gpu, transformers-gpu-compile and onnxruntime-cpu, default scenarios, on MODEL = fixture (the bundled
# trained model) or gpt2-small (a random GPT-2 of GPT-2 small's shape, built here from a config: nothing
# downloaded), then bench:torch (the worker's timer ÷ a bare CUDA-event loop, 1×128 and 4×128). Needs Node.js and
# onnxruntime-node carried in (../shared/tools/device-pack.sh node_modules/onnxruntime-node
# node_modules/onnxruntime-common; bench/torch-harness.ts bundled to .carry/torch-harness.mjs), then
#   source .carry/unpack.sh; bash scripts/device/pytorch-gpu.sh MODEL
# REPETITIONS / ITERATIONS override the default matrix's (GPT-2 small on the CPU backends takes minutes per cell).
# Writes $OUT/MODEL/results/* as it measures (a run cut short still returns results.jsonl) and
# $OUT/MODEL/torch-harness.json; prints a short table last.
set -uo pipefail
model=${1:-fixture}
repo=$(pwd)
out=${OUT:-/tmp/out}/$model
mkdir -p "$out"
work=$(mktemp -d)
export TR118_PYTHON=${TR118_PYTHON:-$(command -v python3)}
export PYTHONPATH="$repo/native" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
"$TR118_PYTHON" -c 'import sys, torch, transformers; print(sys.version.split()[0], torch.__version__, torch.version.cuda, transformers.__version__, torch.cuda.get_device_name(0))'

case $model in
  fixture)
    onnx=$repo/fixtures/model/model.onnx hf=$repo/fixtures/model/hf context=512 ;;
  gpt2-small)
    t0=$SECONDS
    "$TR118_PYTHON" -m tr118_native.fixture random-lm --out "$work/gpt2-small" 2>&1 | grep -v Warning | tail -2
    echo "random GPT-2 small built and exported in $((SECONDS - t0)) s"
    onnx=$work/gpt2-small/model.onnx hf=$work/gpt2-small/hf context=1024 ;;
  *) echo "MODEL: fixture or gpt2-small" >&2; exit 2 ;;
esac

# The default matrix's scenarios, repetitions and accuracy; the seed's PyTorch backends beside ONNX Runtime CPU.
sed -e "s#^  onnx: .*#  onnx: $onnx#" -e "s#^  hf: .*#  hf: $hf#" -e "s#^  context_tokens: .*#  context_tokens: $context#" \
  -e "s#^  name: .*#  name: $model#" -e "s#^  tokens: \.\./model/#  tokens: $repo/fixtures/model/#" \
  -e 's#^  - onnxruntime-cpu$#  - transformers-cpu\n  - onnxruntime-cpu\n  - transformers-gpu\n  - transformers-gpu-compile#' \
  -e "s#^repetitions: .*#repetitions: ${REPETITIONS:-10}#" -e "s#^iterations: .*#iterations: ${ITERATIONS:-40}#" \
  "$repo/fixtures/configs/default.yml" > "$work/tr118.yml"
t0=$SECONDS
timeout "${RUN_SECONDS:-420}" node "$repo/dist/cli.js" run -c "$work/tr118.yml" -o "$out/results" > "$out/run.log" 2>&1
echo "tr118 run: exit $? in $((SECONDS - t0)) s"
tail -n 25 "$out/run.log"
rm -f "$out/results/summary.csv" "$out/results/manifest.json"

node .carry/torch-harness.mjs --device cuda --checkpoint "$hf" --name "$model" --out "$out/torch-harness.json" \
  --blocks "${HARNESS_BLOCKS:-10}" --iterations "${HARNESS_ITERATIONS:-100}" \
  --notes "device run: scripts/device/pytorch-gpu.sh $model" 2>&1 | tail -3

# The table: per cell median / p95 / 95% CI of the median (gated figure) and end-to-end median; compile; PPL.
node -e '
const r = require(process.argv[1]);
const f = (x) => (x == null ? "—" : x < 10 ? x.toFixed(3) : x.toFixed(1));
console.log("backend                  scenario       median   p95      ci95                e2e_med");
for (const c of r.cells) {
  const l = c.stats?.latencyMs;
  console.log(`${c.backend.padEnd(24)} ${c.scenario.padEnd(14)} ${f(l?.median).padEnd(8)} ${f(l?.p95).padEnd(8)} ${l ? `[${f(l.medianCi95?.[0])}, ${f(l.medianCi95?.[1])}]` : "—"}`.padEnd(87) + ` ${f(c.endToEnd?.medianMs)}`);
}
for (const b of r.backends) console.log(`${b.spec.name}: ${b.status}; open ${f(b.session?.openMs)} ms; compile ${f(b.session?.compileMs)} ms; ${b.reason ?? ""}`);
for (const a of r.accuracy?.rows ?? []) console.log(`PPL ${a.backend}: ${a.perplexity?.toFixed(4)} (Δ ${a.deltaFraction})`);
console.log(`verdict: ${r.verdict.decision}`);
' "$out/results/results.json"
