#!/bin/sh
# A stand-in for the worker's Python, for tests without one: `-c SCRIPT PACKAGES…` (the package-version question
# asked before an export, backends/python-packages.ts) answers that every package is installed at version 0; anything
# else runs its arguments under $STAND_IN_NODE (a .mjs worker speaking the protocol).
if [ "$1" = "-c" ]; then
  echo '{"versions":{"torch":"0","transformers":"0","onnx":"0","onnxscript":"0"},"missing":[]}'
  exit 0
fi
exec "$STAND_IN_NODE" "$@"
