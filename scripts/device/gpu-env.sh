# Sourced by the device scripts after the carry chain of scripts/device/ort-gpu-carry.sh (Node.js in /tmp/carry-node,
# onnxruntime-node in /tmp/acc/node_modules, the pinned onnxruntime-gpu wheel in /tmp/acc/wheel), or after
# ../shared/tools/device-pack.sh (onnxruntime-node in the working tree; no ONNX Runtime CUDA then):
#   source scripts/device/gpu-env.sh
# Sets what `tr118 run` needs on the offline GPU machine and provisions ONNX Runtime's CUDA libraries once from the
# local wheel (`tr118 provision`, file:// mirror: the same sha256 check as from PyPI), so that onnxruntime-cuda
# backends are available to every later run on this warm machine.
A=/tmp/acc
export PATH=/tmp/carry-node/bin:$PATH PYTHONUNBUFFERED=1
export TR118_PYTHON=${TR118_PYTHON:-$(command -v python3)}
export PYTHONPATH="$(pwd)/native${PYTHONPATH:+:$PYTHONPATH}"
if [ -d "$A/node_modules/onnxruntime-node" ]; then
  export TR118_ONNXRUNTIME_NODE=$A/node_modules/onnxruntime-node
  export RUNNER_TOOL_CACHE=$A/tool-cache RUNNER_TEMP=$A/tmp TR118_PYPI_FILES=file://$A/wheel
  mkdir -p "$RUNNER_TEMP"
  if [ ! -f "$A/provisioned" ]; then
    if node "$(pwd)/dist/cli.js" provision --cuda 13 > "$A/provision.log" 2>&1; then
      touch "$A/provisioned"; echo "gpu-env: ONNX Runtime CUDA provisioned from $(ls "$A"/wheel)"
    else
      echo "gpu-env: tr118 provision failed (onnxruntime-cuda backends will be unavailable):"; tail -5 "$A/provision.log"
    fi
  fi
else
  export TR118_ONNXRUNTIME_NODE=$(pwd)/node_modules/onnxruntime-node
  echo "gpu-env: no carry chain in $A: onnxruntime-node from the working tree, no ONNX Runtime CUDA"
fi

# The machine a device script ran on (the GPU, CPUs, load, Node.js), printed and written to FILE beside its results.
machine_note() {
  { if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    else echo "no nvidia-smi on this machine"; fi
    echo "$(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg); node $(node --version)"; } | tee "$1"
}
