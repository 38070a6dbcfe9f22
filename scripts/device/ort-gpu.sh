#!/usr/bin/env bash
# ONNX Runtime on the GPU machine (device run; issue "ONNX Runtime on the GPU …"). After the carry chain of
# scripts/device/ort-gpu-carry.sh (wheel in /tmp/acc/wheel, Node.js in /tmp/carry-node, onnxruntime-node in
# /tmp/acc/node_modules):   bash scripts/device/ort-gpu.sh PART
#   PART=provision  `tr118 provision` from a local copy of the pinned wheel (file:// mirror; the machine has no
#                   network), cold then warm; then the built Action on the same machine with a fresh tool cache,
#                   provisioning itself (input onnxruntime-gpu: auto) and running onnxruntime-cpu + -cuda.
#   PART=fixture    tr118 run: onnxruntime-cpu, onnxruntime-cuda (Python worker, IO binding) and
#                   onnxruntime-cuda from Node (worker: node), default matrix; a same-run A/B of the fixture against
#                   itself on CUDA; the cpu-only-op model on CUDA (must be degraded); a recorded CUDA profile.
#   PART=gpt2       a random GPT-2 small (built and exported here), onnxruntime-cpu + onnxruntime-cuda, default
#                   scenarios (REPETITIONS x ITERATIONS, default 5 x 20: the CPU backend is slow at this size).
#   PART=bench      bench:ort-gpu (bundled by ort-gpu-carry.sh): the gated figure ÷ a bare IO-binding loop at
#                   1×128 and 4×128, fixture and GPT-2 small.
#   PART=engines    the engine families on the GPU (issue "One engine family, one place"): tr118 run on the fixture
#                   with onnxruntime-cuda, transformers-gpu, transformers-gpu-compile and a pytorch backend with
#                   attention: eager (REPETITIONS x ITERATIONS, default 5 x 20); then the same run with
#                   transformers-gpu redefined to compile, compared offline (tr118 compare) with the first: its cells
#                   must be incomparable, naming compile.
# Everything lands in $OUT/<part>/ as it is measured; a short table is printed last.
set -uo pipefail
part=${1:?PART: provision | fixture | gpt2 | bench | engines}
repo=$(pwd); A=/tmp/acc; out=${OUT:-/tmp/out}/$part; mkdir -p "$out"
export PATH=/tmp/carry-node/bin:$PATH
export TR118_ONNXRUNTIME_NODE=$A/node_modules/onnxruntime-node
export TR118_PYTHON=${TR118_PYTHON:-$(command -v python3)} PYTHONUNBUFFERED=1
export RUNNER_TOOL_CACHE=$A/tool-cache RUNNER_TEMP=$A/tmp TR118_PYPI_FILES=file://$A/wheel
mkdir -p "$RUNNER_TEMP"
cli() { node "$repo/dist/cli.js" "$@"; }
gpu_config() { # model onnx, backends (yaml list items), repetitions, iterations, extra lines
  sed -e "s#^  onnx: .*#  onnx: $1#" -e '/^  hf: /d' -e "s#^  tokens: \.\./model/#  tokens: $repo/fixtures/model/#" \
    -e "s#^  context_tokens: .*#  context_tokens: ${CONTEXT:-512}#" \
    -e "s#^  - onnxruntime-cpu\$#$2#" -e "s#^repetitions: .*#repetitions: $3#" -e "s#^iterations: .*#iterations: $4#" \
    "$repo/fixtures/configs/default.yml"
  printf '%b' "${5:-}"
}
table() { # results.json: cells (gated median, p95, e2e median), backends, perplexity
  node -e '
  const r = require(process.argv[1]);
  const f = (x) => (x == null ? "—" : x < 10 ? x.toFixed(3) : x.toFixed(1));
  for (const c of r.cells) { const l = c.stats?.latencyMs;
    console.log(`${c.backend.padEnd(22)} ${c.scenario.padEnd(14)} med ${f(l?.median).padEnd(8)} p95 ${f(l?.p95).padEnd(8)} e2e ${f(c.endToEnd?.medianMs)}`); }
  for (const b of r.backends) console.log(`${b.spec.name}: ${b.status} (${b.session?.runtime ?? "—"}) ${b.reason ?? ""}`);
  for (const a of r.accuracy?.rows ?? []) console.log(`PPL ${a.backend}: ${a.perplexity?.toFixed(4)} (Δ ${a.deltaFraction})`);
  for (const c of r.comparison?.cells ?? []) console.log(`A/A ${c.backend} ${c.scenario}: ratio ${c.ratio?.toFixed(4)} [${c.ratioCi?.map((x) => x.toFixed(4)).join(", ")}] median ratio ${c.medianRatio?.toFixed(4)} ${c.decision}`);
  const g = r.environment?.gpuState;
  for (const side of ["before", "after"]) { const s = g?.[side];
    console.log(`GPU ${side}: ${s?.status ?? "not recorded"} ${(s?.gpus ?? []).map((x) => `${x.name} SM ${x.smClockMhz} MHz mem ${x.memoryClockMhz} MHz ${x.temperatureC} C ${x.powerDrawW}/${x.powerLimitW} W reasons [${x.reasons.join(",")}]`).join("; ")} ${s?.reason ?? ""}`); }
  if (g) console.log(`GPU throttle warnings: ${g.throttleWarnings.length ? g.throttleWarnings.join(" | ") : "none"}`);
  console.log(`verdict ${r.verdict.decision}`);' "$1"
}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"

case $part in
provision)
  for pass in cold warm; do
    t0=$EPOCHREALTIME; cli provision --cuda 13 > "$out/provision-$pass.log" 2>&1; rc=$?
    awk -v p=$pass -v rc=$rc -v a=$t0 -v b=$EPOCHREALTIME 'BEGIN { printf "tr118 provision (%s): exit %d in %.1f s\n", p, rc, b - a }' | tee -a "$out/table.txt"
  done
  cat "$out/provision-cold.log"
  # The built Action, as a self-hosted runner runs it: fresh tool cache, its own copy of onnxruntime-node.
  runner=$(mktemp -d); mkdir -p "$runner/action" "$runner/tools" "$runner/temp" "$runner/ortn"
  cp -r package.json package-lock.json action.yml dist fixtures native "$runner/action/"
  cp -r "$A/node_modules" "$runner/ortn/"
  : > "$runner/summary.md"
  gpu_config "$runner/action/fixtures/model/model.onnx" '  - onnxruntime-cpu\n  - onnxruntime-cuda' 3 20 > "$runner/gpu.yml"
  t0=$EPOCHREALTIME
  (cd "$runner" && env RUNNER_TOOL_CACHE="$runner/tools" RUNNER_TEMP="$runner/temp" \
     TR118_ONNXRUNTIME_NODE="$runner/ortn/node_modules/onnxruntime-node" GITHUB_STEP_SUMMARY="$runner/summary.md" \
     INPUT_CONFIG="$runner/gpu.yml" INPUT_OUT="$out/action" INPUT_ONNXRUNTIME-GPU=auto \
     timeout 420 node "$runner/action/dist/index.js") > "$out/action.log" 2>&1
  awk -v rc=$? -v a=$t0 -v b=$EPOCHREALTIME 'BEGIN { printf "Action (provision + run): exit %d in %.1f s\n", rc, b - a }' | tee -a "$out/table.txt"
  grep -iE 'provision|onnxruntime-gpu|cuda|::warning|::error' "$out/action.log" | head -20
  [ -f "$out/action/results.json" ] && table "$out/action/results.json"
  ;;
fixture)
  cli provision --cuda 13 > "$out/provision.log" 2>&1 || tail -5 "$out/provision.log"
  gpu_config "$repo/fixtures/model/model.onnx" \
    '  - onnxruntime-cpu\n  - onnxruntime-cuda\n  - { name: onnxruntime-cuda-node, engine: onnxruntime, provider: cuda, worker: node }' \
    "${REPETITIONS:-10}" "${ITERATIONS:-40}" > "$out/fixture.yml"
  timeout 300 node "$repo/dist/cli.js" run -c "$out/fixture.yml" -o "$out/run" > "$out/run.log" 2>&1; echo "fixture run: exit $?"
  table "$out/run/results.json"
  grep -A4 'Where ONNX Runtime ran' "$out/run/report.md"
  gpu_config "$repo/fixtures/model/model.onnx" '  - onnxruntime-cuda' "${REPETITIONS:-10}" "${ITERATIONS:-40}" \
    "compare:\n  base_model: $repo/fixtures/model/model.onnx\n" > "$out/aa.yml"
  timeout 200 node "$repo/dist/cli.js" run -c "$out/aa.yml" -o "$out/aa" > "$out/aa.log" 2>&1; echo "A/A run: exit $?"
  table "$out/aa/results.json"
  PYTHONPATH="$repo/native" python3 -m tr118_native.fixture cpu-only-op --out "$out/cpu-only-op.onnx" > /dev/null
  gpu_config "$out/cpu-only-op.onnx" '  - onnxruntime-cuda' 1 5 > "$out/cpu-only-op.yml"
  sed -i -e 's/^  enabled: true/  enabled: false/' "$out/cpu-only-op.yml"
  timeout 120 node "$repo/dist/cli.js" run -c "$out/cpu-only-op.yml" -o "$out/cpu-only-op" > "$out/cpu-only-op.log" 2>&1
  echo "cpu-only-op run: exit $?"; node -e 'const r = require(process.argv[1]); for (const b of r.backends) console.log(`${b.spec.name}: ${b.status}: ${b.reason}`)' "$out/cpu-only-op/results.json"
  rm -f "$out/cpu-only-op.onnx"
  # A CUDA profile for fixtures/profiles/ (the worker deletes its own): through the worker's own open.
  PYTHONPATH="$repo/native:$RUNNER_TOOL_CACHE/tr118-onnxruntime-gpu/1.30.0/cuda13-cp312-x64" \
    python3 -m tr118_native.worker.harness ort-profile --model "$repo/fixtures/model/model.onnx" --provider cuda \
    --out "$out/fixture-cuda-python.json" 2>&1 | tail -2
  ;;
gpt2)
  cli provision --cuda 13 > "$out/provision.log" 2>&1 || tail -5 "$out/provision.log"
  t0=$SECONDS
  PYTHONPATH="$repo/native" python3 -m tr118_native.fixture random-lm --out "$A/gpt2-small" 2>&1 | grep -v Warning | tail -2
  echo "random GPT-2 small built and exported in $((SECONDS - t0)) s"
  CONTEXT=1024 gpu_config "$A/gpt2-small/model.onnx" '  - onnxruntime-cpu\n  - onnxruntime-cuda' \
    "${REPETITIONS:-5}" "${ITERATIONS:-20}" > "$out/gpt2.yml"
  timeout 420 node "$repo/dist/cli.js" run -c "$out/gpt2.yml" -o "$out/run" > "$out/run.log" 2>&1; echo "gpt2 run: exit $?"
  table "$out/run/results.json"
  grep -A4 'Where ONNX Runtime ran' "$out/run/report.md"
  ;;
bench)
  cli provision --cuda 13 > "$out/provision.log" 2>&1 || tail -5 "$out/provision.log"
  for m in fixture gpt2-small; do
    model=$repo/fixtures/model/model.onnx; [ $m = gpt2-small ] && model=$A/gpt2-small/model.onnx
    [ -f "$model" ] || { echo "$m: no model (run PART=gpt2 first)"; continue; }
    cp /tmp/acc/files/ort-harness.mjs .ortgpu/ort-harness.mjs  # beside the checkout: it finds package.json above it
    node .ortgpu/ort-harness.mjs --provider cuda --model "$model" --name "$m" --out "$out/ort-harness-$m.json" \
      --blocks "${HARNESS_BLOCKS:-10}" --iterations "${HARNESS_ITERATIONS:-100}" \
      --notes "device run: scripts/device/ort-gpu.sh bench" 2>&1 | tail -4
  done
  ;;
engines)
  cli provision --cuda 13 > "$out/provision.log" 2>&1 || tail -5 "$out/provision.log"
  backends='  - onnxruntime-cuda\n  - transformers-gpu\n  - transformers-gpu-compile\n  - { name: transformers-gpu-eager-attn, engine: pytorch, device: cuda, attention: eager }'
  # The default matrix with model.hf kept (the pytorch backends load it) and these backends.
  sed -e "s#^  onnx: .*#  onnx: $repo/fixtures/model/model.onnx#" -e "s#^  hf: .*#  hf: $repo/fixtures/model/hf#" \
    -e "s#^  tokens: \.\./model/#  tokens: $repo/fixtures/model/#" -e "s#^  - onnxruntime-cpu\$#$backends#" \
    -e "s#^repetitions: .*#repetitions: ${REPETITIONS:-5}#" -e "s#^iterations: .*#iterations: ${ITERATIONS:-20}#" \
    "$repo/fixtures/configs/default.yml" > "$out/engines.yml"
  t0=$SECONDS
  timeout 420 node "$repo/dist/cli.js" run -c "$out/engines.yml" -o "$out/run" > "$out/run.log" 2>&1
  echo "engines run: exit $? in $((SECONDS - t0)) s"
  table "$out/run/results.json"
  node -e 'const r = require(process.argv[1]); for (const c of r.cells.filter((c) => c.scenario === r.cells[0].scenario))
    console.log(`fingerprint ${c.backend}: ${Object.entries(c.fingerprint).filter(([k]) => !["hash","cpuModel","cpuCount","gpus","gpuDriver","nodeVersion","batch","seqLen","warmup","iterations","timing"].includes(k)).map(([k, v]) => `${k}=${v}`).join(" ")}`)' "$out/run/results.json"
  # The same backend name, another setup: compiled. Compared with the first run, its cells are incomparable.
  sed -e 's#^  - transformers-gpu$#  - { name: transformers-gpu, engine: pytorch, device: cuda, compile: default }#' \
    "$out/engines.yml" > "$out/compiled.yml"
  sed -i -e '/^  - transformers-gpu-compile$/d' -e '/^  - onnxruntime-cuda$/d' -e '/transformers-gpu-eager-attn/d' "$out/compiled.yml"
  timeout 300 node "$repo/dist/cli.js" run -c "$out/compiled.yml" -o "$out/compiled" > "$out/compiled.log" 2>&1
  echo "compiled run: exit $?"
  node "$repo/dist/cli.js" compare "$out/run/results.json" "$out/compiled/results.json" --out "$out/compare" \
    > "$out/compare.log" 2>&1; echo "compare: exit $?"
  grep -E 'incomparable|verdict' "$out/compare.log" | head -6
  # At most 8 files come back: the first run's results and report, the compiled run's results, the logs.
  rm -rf "$out/compare" "$out/compiled.yml" "$out/provision.log" "$out/run/report.html" "$out/compiled/report.html" \
    "$out/compiled/report.md"
  ;;
profile)
  PYTHONPATH="$repo/native:$RUNNER_TOOL_CACHE/tr118-onnxruntime-gpu/1.30.0/cuda13-cp312-x64" \
    python3 -m tr118_native.worker.harness ort-profile --model "$repo/fixtures/model/model.onnx" --provider cuda \
    --out "$out/fixture-cuda-python.json" 2>&1 | tail -2
  ;;
esac
# A device call returns a limited number of files: keep the results and reports, drop what they are made from.
find "$out" \( -name results.jsonl -o -name summary.csv -o -name verdict.json -o -name manifest.json \) -delete
