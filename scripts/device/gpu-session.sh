#!/usr/bin/env bash
# Several device scripts in one device call, each as a step, after the carry chain (scripts/device/ort-gpu-carry.sh):
#   bash scripts/device/gpu-session.sh SECONDS STEP...
# STEP is SCRIPT:ARG[:RUNS], e.g. phases:fixture, precision:dynamo:cold, sequential:ort. A step starts only while
# fewer than SECONDS have passed since the call began (a device call has a hard limit, and a step killed by it
# would lose what it measured). After each step everything under $OUT is packed into $OUT/<n>-<step>.tgz: a device
# call returns at most 8 files, none deeper than two folders, and a run's results.json lies three folders down. The
# archive's name has no spaces or colons (a step's RUNS may hold spaces), or the call would not return it.
# The caches (export, variants, compile) live in /tmp/tr118-cache, so a later call on the same warm machine reuses them.
set -uo pipefail
repo=$(pwd); budget=${1:?SECONDS STEP...}; shift
out=${OUT:-/tmp/out}; export OUT=$out PHASES_CACHE=/tmp/tr118-cache PRECISION_CACHE=/tmp/tr118-cache
source "$repo/scripts/device/gpu-env.sh"
[ -e "$repo/node_modules" ] || ln -s /tmp/acc/node_modules "$repo/node_modules"  # the bench bundle's onnxruntime-node
n=0
for step in "$@"; do
  n=$((n + 1))
  if [ "$SECONDS" -ge "$budget" ]; then echo "== $step: not started ($SECONDS s of $budget gone)"; continue; fi
  IFS=: read -r script arg runs <<< "$step"
  echo "== $step (at $SECONDS s)"
  RUNS=${runs:-cold warm} bash "$repo/scripts/device/$script-gpu.sh" "$arg" 2>&1 | grep -v '^scripts/device' | tail -40
  tar czf /tmp/gpu-session-step.tgz -C "$out" --exclude='*.tgz' . && mv /tmp/gpu-session-step.tgz "$out/$n-$(echo "$step" | tr ': ' '--').tgz" &&
    find "$out" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
done
