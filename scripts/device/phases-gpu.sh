#!/usr/bin/env bash
# Issue 23's two GPU runs, each twice against one artifact cache (cold, then warm: the ONNX export and
# torch.compile's caches hit), with where every second went (results.json `phases`):
#   fixture     the bundled 0.9 M-parameter GPT-2 from model.hf (exported by the run), 5 backends (onnxruntime-cpu,
#               onnxruntime-cuda, transformers-cpu, transformers-gpu, transformers-gpu-compile), the 6 default
#               scenarios, REPETITIONS x ITERATIONS (default 10 x 40, the default config's)
#   gpt2-small  a random GPT-2 of GPT-2 small's shape (`python -m tr118_native.fixture random-lm`, nothing
#               downloaded), 3 GPU backends (onnxruntime-cuda, transformers-gpu, transformers-gpu-compile),
#               scenarios 1x128, 4x128, 1x1024, 5 x 20
# Each run gets a fresh TORCHINDUCTOR_CACHE_DIR, so a warm compile is the artifact store's doing (torch's mega-cache,
# engines/pytorch/compile-cache.ts), not Inductor's local cache. One part per call (a call has 600 s): the cache
# lives in /tmp/tr118-phases-cache on the device, so a later call on the same warm machine reuses it.
# Needs Node.js and onnxruntime-node carried in (../shared/tools/device-pack.sh node_modules/onnxruntime-node
# node_modules/onnxruntime-common) and a current dist/ (npm run build); Node.js 22's binary goes in its own call:
#   call 1 (carry [".carry/node-v22.13.0.xz"]):  mkdir -p /tmp/acc && cp .carry/node-*.xz /tmp/acc/
#   call 2 (carry [".carry/tree.tar.xz", ".carry/unpack.sh"]):
#     cp /tmp/acc/node-*.xz .carry/ && source .carry/unpack.sh && bash scripts/device/phases-gpu.sh fixture
#   call 3: the same with gpt2-small (its first call also builds the checkpoint: if 600 s is tight, RUNS=cold in one
#   call and RUNS=warm in the next; the warm run needs the cold one's cache, kept in /tmp on the same warm machine)
# Workers start while the export runs (docs/run-time.md); TR118_EARLY_WORKERS=off in the environment starts them with
# the matrix instead, for a before / after of that alone (the setting passes through to every run).
# Writes $OUT/phases/<part>-<cold|warm>/ (tr118.yml, run.log, results.json, report.md) as each run ends, and prints
# a short table last: wall, wall / the work asked for (timed + end-to-end + perplexity + parity passes), the phases,
# and each compiled backend's open with its compile cache status.
# How it ran on an H100 (2026-12-06): the carry chain of ort-gpu-carry.sh, then scripts/device/gpu-session.sh, which
# sources gpu-env.sh and runs this script as one of its steps: bench/results/h100-gpu-figures/README.md has the calls.
set -uo pipefail
repo=$(pwd); out=${OUT:-/tmp/out}/phases; mkdir -p "$out"
[ "${TABLE_ONLY:-}" = 1 ] || source "$repo/scripts/device/gpu-env.sh"
cache=${PHASES_CACHE:-/tmp/tr118-phases-cache}; mkdir -p "$cache"
parts=("$@"); [ ${#parts[@]} -eq 0 ] && parts=(fixture)
[ "${TABLE_ONLY:-}" = 1 ] || machine_note "$out/gpu.txt"

config() { # part -> tr118.yml on stdout
  case $1 in
    fixture)
      printf 'model:\n  hf: %s\n  context_tokens: 512\ninputs:\n  tokens: %s\n' \
        "$repo/fixtures/model/hf" "$repo/fixtures/model/heldout.tokens.json"
      printf 'backends: [onnxruntime-cpu, onnxruntime-cuda, transformers-cpu, transformers-gpu, transformers-gpu-compile]\n'
      sed -n '/^scenarios:/,/^seed:/p' "$repo/fixtures/configs/default.yml" |
        sed -e "s#^repetitions: .*#repetitions: ${REPETITIONS:-10}#" -e "s#^iterations: .*#iterations: ${ITERATIONS:-40}#"
      printf 'accuracy: { max_tokens: 4096, window: 256, stride: 128 }\n' ;;
    gpt2-small)
      [ -f "$cache/gpt2-small/hf/config.json" ] ||
        "$TR118_PYTHON" -m tr118_native.fixture random-lm --out "$cache/gpt2-small" 2>&1 | grep -v Warning | tail -1 >&2
      printf 'model:\n  hf: %s\n  context_tokens: 1024\ninputs:\n  tokens: %s\n' \
        "$cache/gpt2-small/hf" "$repo/fixtures/model/heldout.tokens.json"
      printf 'backends: [onnxruntime-cuda, transformers-gpu, transformers-gpu-compile]\n'
      printf 'scenarios:\n  single_128: { batch: 1, seq_len: 128 }\n  batch_128: { batch: 4, seq_len: 128 }\n'
      printf '  single_1024: { batch: 1, seq_len: 1024 }\nrepetitions: 5\nwarmup: 3\niterations: 20\ntimeout_s: 240\n'
      printf 'accuracy: { max_tokens: 2048, window: 1024, stride: 512 }\n' ;;
    *) echo "part: fixture or gpt2-small, not $1" >&2; exit 2 ;;
  esac
}

runs=${RUNS:-cold warm}
# Each run's name: part-temp, numbered from the second run of one temperature on (RUNS="cold warm warm": fixture-cold,
# fixture-warm, fixture-warm-2), so that a repeated run keeps its own folder and row.
names() { local part=$1 temp n; declare -A seen=(); for temp in $runs; do n=$(( ${seen[$temp]:-0} + 1 )); seen[$temp]=$n
  if [ "$n" -eq 1 ]; then echo "$part-$temp"; else echo "$part-$temp-$n"; fi; done; }
# TABLE_ONLY=1: no runs, only the table of the runs already under $OUT/phases (e.g. from a device call's archive).
for part in "${parts[@]}"; do
  [ "${TABLE_ONLY:-}" = 1 ] && break
  for name in $(names "$part"); do
    temp=${name#"$part"-}; temp=${temp%%-*}
    dir="$out/$name"; mkdir -p "$dir"
    config "$part" > "$dir/tr118.yml" || exit 2
    [ "$temp" = cold ] && rm -rf "$cache/store"
    export TORCHINDUCTOR_CACHE_DIR; TORCHINDUCTOR_CACHE_DIR=$(mktemp -d)
    t0=$EPOCHREALTIME
    timeout 285 node "$repo/dist/cli.js" run -c "$dir/tr118.yml" -o "$dir/run" --cache-dir "$cache/store" \
      > "$dir/run.log" 2>&1
    awk -v p="$name" -v rc=$? -v a=$t0 -v b=$EPOCHREALTIME 'BEGIN { printf "%s: exit %d, process %.1f s\n", p, rc, b - a }' |
      tee "$dir/process.txt"
    rm -rf "$TORCHINDUCTOR_CACHE_DIR"
  done
done

echo; echo "| run | process s | duration s | work asked s | wall/work | timed | e2e | ppl | parity | workerStart | sessionOpen | compile | warmUp | export | compiled opens | pytorch opens |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for part in "${parts[@]}"; do
  for name in $(names "$part"); do
    dir="$out/$name"
    [ -f "$dir/run/results.json" ] || { echo "| $name | $(cat "$dir/process.txt" 2>/dev/null) (no results.json; see run.log) |"; continue; }
    node -e '
      const r = require(require("path").resolve(process.argv[1]));
      const p = r.phases ?? {};
      const f = (v) => (v ?? 0).toFixed(1);
      const work = (p.timedPasses ?? 0) + (p.endToEndPasses ?? 0) + (p.perplexity ?? 0) + (p.parity ?? 0);
      const process_s = (process.argv[3].match(/process ([\d.]+) s/) ?? [])[1] ?? "?";
      const compiled = r.backends.filter((b) => b.session?.compileMs !== undefined)
        .map((b) => `${b.spec.name} open ${(b.session.openMs / 1000).toFixed(1)} s (compile ${(b.session.compileMs / 1000).toFixed(1)}, cache ${b.session.compileCache ?? "—"}` +
          (b.session.compileCacheLookups ? `, Inductor ${b.session.compileCacheLookups.inductorHits} hit / ${b.session.compileCacheLookups.inductorMisses} miss, AOT ${b.session.compileCacheLookups.aotAutogradHits} / ${b.session.compileCacheLookups.aotAutogradMisses}` : "") + ")").join("; ");
      // Where each pytorch open went (openStepsMs: reading the checkpoints, moving them to the device).
      const steps = r.backends.filter((b) => b.session?.openStepsMs)
        .map((b) => { const s = b.session.openStepsMs; const sec = (v) => ((v ?? 0) / 1000).toFixed(1);
          const pre = Object.entries(b.session.preloadMs ?? {}).map(([k, v]) => `${k} ${sec(v)}`).join(", ");
          return `${b.spec.name} ${sec(b.session.openMs)} s: cache load ${sec(s.cacheLoad)}, load ${sec(s.load)}, to device ${sec(s.toDevice)}, ` +
            `compile setup ${sec(s.compileSetup)}, compile ${sec(s.compile)}` + (pre ? ` (preload ${pre})` : ""); })
        .join("; ");
      console.log(`| ${process.argv[2]} | ${process_s} | ${f(r.durationSeconds)} | ${f(work)} | ${(r.durationSeconds / work).toFixed(2)} | ` +
        `${f(p.timedPasses)} | ${f(p.endToEndPasses)} | ${f(p.perplexity)} | ${f(p.parity)} | ${f(p.workerStart)} | ` +
        `${f(p.sessionOpen)} | ${f(p.compile)} | ${f(p.warmUp)} | ${f(p.export)} | ${compiled || "—"} | ${steps || "—"} |`);
    ' "$dir/run/results.json" "$name" "$(cat "$dir/process.txt")"
  done
done
# results.jsonl stays: its records' `at` times say what each run request cost beyond its timed passes.
find "$out" \( -name summary.csv -o -name verdict.json -o -name manifest.json -o -name report.html \) -delete
