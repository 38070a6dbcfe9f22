#!/usr/bin/env bash
# The whole suite (npm test: pytest native, then every vitest tier) with CPU-burning processes beside it, as on a
# shared CI machine: a test that passes only on a quiet machine fails here. Two burners by default (one per core of
# the 2-core CI machine); TR118_LOAD_BURNERS sets another count. Extra arguments go to `npm test`.
#   scripts/test-under-load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
burners=${TR118_LOAD_BURNERS:-2}
pids=()
stop() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true; }
trap stop EXIT
for _ in $(seq "$burners"); do
  # A busy loop at normal priority: it competes for the cores as another job's compiler would.
  node -e 'for (;;) {}' &
  pids+=("$!")
done
echo "test:load: ${burners} CPU-burning processes (${pids[*]}) beside npm test on $(nproc) cores"
started=$SECONDS
status=0
npm test -- "$@" || status=$?
echo "test:load: npm test exited ${status} after $((SECONDS - started)) s with ${burners} burners"
exit "$status"
