#!/usr/bin/env bash
# Prepares the payload that carries ONNX Runtime's GPU package to the offline GPU machine, in calls that each stay
# under the 64 MiB a device call may carry beside the checkout, and prints the calls. Run here (not on the device):
#   bash scripts/device/ort-gpu-carry.sh WHEEL
# WHEEL: the pinned onnxruntime_gpu-1.30.0-cp312-…whl (the device's Python is 3.12), e.g. from
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux_2_28_x86_64 \
#     onnxruntime-gpu==1.30.0
# The wheel travels whole and unchanged (its sha256 is the one src/provision pins), so that on the device
# `tr118 provision` and the Action fetch it from a local server exactly as a runner fetches it from PyPI or a mirror.
# Node.js and onnxruntime-node travel in call 1 (../shared/tools/device-pack.sh). Each device call runs
#   bash .ortgpu/bin/step.sh K
# which moves its part to /tmp/acc (kept while the machine stays warm: about 30 s after a call) and checks every
# earlier part's sha256; the last call joins the wheel and checks its sha256.
set -euo pipefail
wheel=${1:?usage: ort-gpu-carry.sh WHEEL}
root=$(git rev-parse --show-toplevel); cd "$root"
for d in /.ortgpu/ /.carry/; do grep -qx "$d" .git/info/exclude 2>/dev/null || echo "$d" >> .git/info/exclude; done
rm -rf .ortgpu && mkdir -p .ortgpu/parts .ortgpu/bin
../shared/tools/device-pack.sh node_modules/onnxruntime-node node_modules/onnxruntime-common >/dev/null
checkout=$(git ls-files -co --exclude-standard -z | du -cb --files0-from=- | tail -1 | cut -f1)
cap=$(( 64 * 1024 * 1024 - checkout - 1500000 - 3000000 ))  # 3 MB: .ortgpu/bin, with the bundled bench
carry=$(du -cb .carry | tail -1 | cut -f1)
python3 - "$wheel" "$cap" "$carry" <<'PY'
import hashlib, os, sys
wheel, cap, carry = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = open(wheel, 'rb').read()
sha = lambda b: hashlib.sha256(b).hexdigest()
calls, off, n = [], 0, 0
room = cap - carry  # call 1 also carries Node.js and onnxruntime-node
while off < len(data):
    size = min(room, len(data) - off)
    part = f'.ortgpu/parts/whl.{n:02d}'
    open(part, 'wb').write(data[off:off + size])
    calls.append((part, sha(data[off:off + size]), size))
    off += size; n += 1; room = cap
with open('.ortgpu/bin/manifest.txt', 'w') as m:
    for k, (part, digest, size) in enumerate(calls, 1):
        m.write(f'{k} {part} {digest}\n')
open('.ortgpu/bin/wheel.txt', 'w').write(f'{os.path.basename(wheel)} {sha(data)}\n')
print(f'{len(calls)} calls; wheel {len(data)} B sha256 {sha(data)}')
PY
cat > .ortgpu/bin/step.sh <<'STEP'
#!/usr/bin/env bash
# Device side of one call:  bash .ortgpu/bin/step.sh K   (see scripts/device/ort-gpu-carry.sh)
K=$1; R=$PWD; B=$R/.ortgpu/bin; A=/tmp/acc; mkdir -p $A/parts
LAST=$(awk '{print $1}' $B/manifest.txt | sort -n | tail -1); broken=0
while read -r call rel sha; do
  [ "$call" = "$K" ] && { mv -f "$R/$rel" "$A/parts/" || broken=1; }
  if [ "$call" -le "$K" ]; then
    f=$A/parts/$(basename "$rel")
    if [ -f "$f" ] && [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$sha" ]; then echo "ok   part $call"; else echo "GONE part $call"; broken=1; fi
  fi
done < $B/manifest.txt
[ $broken = 1 ] && { echo "CHAIN BROKEN at step $K (the machine went cold?): start again at call 1"; exit 7; }
if [ "$K" = 1 ]; then cp -r .carry $A/carry && (cd $A && source carry/unpack.sh >/dev/null) || exit 8; fi
[ "$K" = "$LAST" ] || { echo "CHAIN OK through step $K of $LAST"; exit 0; }
read -r name sha < $B/wheel.txt
mkdir -p $A/wheel && cat $A/parts/whl.* > "$A/wheel/$name" && rm -rf $A/parts
[ "$(sha256sum "$A/wheel/$name" | cut -d' ' -f1)" = "$sha" ] || { echo "WHEEL SHA MISMATCH"; exit 9; }
echo "CHAIN OK: $A/wheel/$name ($(stat -c %s "$A/wheel/$name") B, sha256 ok); Node.js in /tmp/carry-node/bin, node_modules in $A"
STEP
npx esbuild bench/ort-harness.ts --bundle --platform=node --format=esm --target=node20 --log-level=warning --outfile=.ortgpu/bin/ort-harness.mjs --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
echo "carry per call: [\".ortgpu/parts/whl.NN\", \".ortgpu/bin\"] (call 1 also \".carry\"); command: bash .ortgpu/bin/step.sh K"
cat .ortgpu/bin/manifest.txt
