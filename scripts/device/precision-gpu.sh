#!/usr/bin/env bash
# Issue 22's H200 figures (NOT YET RUN: written on a CPU-only session, checked with `bash -n` only). `tr118 run` from
# model.hf alone on a random GPT-2 of GPT-2 small's shape (`python -m tr118_native.fixture random-lm`, nothing
# downloaded), scenarios 1x128, 4x128, 1x1024, backends onnxruntime-cuda, onnxruntime-cuda-fp16,
# transformers-gpu-compile, transformers-gpu-bf16 and onnxruntime-cuda-fused-fp16 (optimize: transformers, then fp16),
# every variant's perplexity gate against the run's reference; each
# part cold (empty artifact cache: export, fp16 derivation, compile) then warm (hits):
#   dynamo       model.export.exporter: dynamo (the default)
#   torchscript  model.export.exporter: torchscript (the old default, for the 1.9x the issue measured)
# Targets (issue 22): onnxruntime-cuda on the dynamo export <= 2.3 ms at 1x128 and <= 2.8 ms at 4x128;
# onnxruntime-cuda-fp16 <= 3.6 ms at 1x1024.
# The device's Python needs onnxscript==0.7.2 and onnx-ir==1.1.0 for the dynamo exporter (native/requirements-torch.txt):
# the script says so and stops if they are missing. Carry Node.js and onnxruntime-node as scripts/device/phases-gpu.sh
# says, with a current dist/ (npm run build). One part per call (600 s): RUNS=cold, then RUNS=warm on the same warm
# machine (the cache lives in /tmp/tr118-precision-cache).
#   source .carry/unpack.sh && bash scripts/device/precision-gpu.sh dynamo
# Writes $OUT/precision/<part>-<cold|warm>/ (tr118.yml, run.log, results.json, report.md) and prints a table last.
# How it ran on an H100 (2026-12-06): the carry chain of ort-gpu-carry.sh, then scripts/device/gpu-session.sh, which
# sources gpu-env.sh and runs this script as one of its steps: bench/results/h100-gpu-figures/README.md has the calls.
set -uo pipefail
repo=$(pwd); out=${OUT:-/tmp/out}/precision; mkdir -p "$out"
source "$repo/scripts/device/gpu-env.sh"
cache=${PRECISION_CACHE:-/tmp/tr118-precision-cache}; mkdir -p "$cache"
parts=("$@"); [ ${#parts[@]} -eq 0 ] && parts=(dynamo)
machine_note "$out/gpu.txt"
"$TR118_PYTHON" -c 'import onnxscript, onnx_ir' 2>/dev/null || {
  echo "the dynamo exporter needs: $TR118_PYTHON -m pip install onnxscript==0.7.2 onnx-ir==1.1.0" >&2; exit 2; }

# MODEL=fixture (the bundled 0.9 M-parameter checkpoint) and BACKENDS, REPETITIONS, ITERATIONS, WARMUP let the script
# itself be checked on a CPU machine: MODEL=fixture BACKENDS='onnxruntime-cpu, onnxruntime-cpu-int8' REPETITIONS=2 ...
ctx=1024
if [ "${MODEL:-gpt2-small}" = fixture ]; then hf=$repo/fixtures/model/hf ctx=512; else
  hf=$cache/gpt2-small/hf
  [ -f "$hf/config.json" ] ||
    "$TR118_PYTHON" -m tr118_native.fixture random-lm --out "$cache/gpt2-small" 2>&1 | grep -v Warning | tail -1
fi

config() { # exporter -> tr118.yml on stdout
  printf 'model:\n  hf: %s\n  context_tokens: %s\n  export: { exporter: %s }\ninputs:\n  tokens: %s\n' \
    "$hf" "$ctx" "$1" "$repo/fixtures/model/heldout.tokens.json"
  # the last: fused (ONNX Runtime's transformer optimizer, gpt2) then fp16, the fastest 1x1024 (3.50 ms)
  printf 'backends: [%s]\n' "${BACKENDS:-onnxruntime-cuda, onnxruntime-cuda-fp16, transformers-gpu-compile, transformers-gpu-bf16, { name: onnxruntime-cuda-fused-fp16, engine: onnxruntime, provider: cuda, variant: fp16, optimize: transformers \}}"
  printf 'scenarios:\n  single_128: { batch: 1, seq_len: 128 }\n  batch_128: { batch: 4, seq_len: 128 }\n'
  printf '  single_%s: { batch: 1, seq_len: %s }\nrepetitions: %s\nwarmup: %s\niterations: %s\ntimeout_s: 240\n' "$ctx" "$ctx" "${REPETITIONS:-4}" "${WARMUP:-20}" "${ITERATIONS:-50}"
  printf 'accuracy: { max_tokens: 2048, window: %s, stride: %s }\n' "$ctx" $((ctx / 2))
}

runs=${RUNS:-cold warm}
for part in "${parts[@]}"; do
  case $part in dynamo | torchscript) ;; *) echo "part: dynamo or torchscript, not $part" >&2; exit 2 ;; esac
  for temp in $runs; do
    dir="$out/$part-$temp"; mkdir -p "$dir"
    config "$part" > "$dir/tr118.yml"
    [ "$temp" = cold ] && rm -rf "$cache/store-$part"
    t0=$EPOCHREALTIME
    timeout 285 node "$repo/dist/cli.js" run -c "$dir/tr118.yml" -o "$dir/run" --cache-dir "$cache/store-$part" \
      > "$dir/run.log" 2>&1
    awk -v p="$part-$temp" -v rc=$? -v a=$t0 -v b=$EPOCHREALTIME 'BEGIN { printf "%s: exit %d, process %.1f s\n", p, rc, b - a }' |
      tee "$dir/process.txt"
  done
done

echo; echo "| run | backend | scenario | median ms | e2e median ms | perplexity | delta | threshold | gate | export (exporter, s, cache) | variant (s, cache, fusions) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for part in "${parts[@]}"; do
  for temp in $runs; do
    dir="$out/$part-$temp"
    [ -f "$dir/run/results.json" ] || { echo "| $part-$temp | (no results.json; see run.log) |"; continue; }
    node -e '
      const r = require(process.argv[1]);
      const ex = r.export ? `${r.export.exporter}, ${(r.export.exportMs / 1000).toFixed(1)}, ${r.export.cache}` : "—";
      for (const c of r.cells) {
        const a = r.accuracy?.rows.find((x) => x.backend === c.backend);
        const v = (r.onnxVariants ?? []).find((x) => x.backend === c.backend);
        const f = (x, d = 2) => (x === null || x === undefined ? "—" : x.toFixed(d));
        console.log(`| ${process.argv[2]} | ${c.backend} | ${c.scenario} | ${f(c.stats?.latencyMs.median)} | ${f(c.endToEnd?.medianMs)} | ` +
          `${f(a?.perplexity, 3)} | ${f(a?.deltaFraction, 5)} | ${a?.thresholdFraction ?? "—"} | ${a?.pass ?? "—"} | ${ex} | ` +
          `${v ? `${(v.buildMs / 1000).toFixed(1)}, ${v.cache}${v.optimize ? `, ${JSON.stringify(v.fusions)}${v.note ? ` (${v.note})` : ""}` : ""}` : "—"} |`);
      }
    ' "$dir/run/results.json" "$part-$temp"
  done
done
# The report's answer (fastest accurate backend per scenario, and which figure it compared) of each part's last run.
for part in "${parts[@]}"; do
  last=$(echo $runs | awk '{print $NF}'); md="$out/$part-$last/run/report.md"
  [ -f "$md" ] && { echo; echo "$part-$last answer:"; grep -A 8 'Can another backend' "$md" | grep -E '^\||Figure compared' | cut -c1-220; }
done
find "$out" \( -name results.jsonl -o -name summary.csv -o -name verdict.json -o -name manifest.json -o -name report.html \) -delete
