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
npx esbuild bench/ort-harness.ts --bundle --platform=node --format=esm --target=node20 --log-level=warning \
  --outfile=.ortgpu/ort-harness.mjs --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
cp "$wheel" .ortgpu/
# CHECKOUT_BYTES: the size of the checkout the carry calls will travel with, when it is not this one (a slimmer
# checkout for the carry calls leaves more room per call, so fewer calls)
checkout=${CHECKOUT_BYTES:-$(git ls-files -co --exclude-standard -z | du -cb --files0-from=- | tail -1 | cut -f1)}
cap=$(( 64 * 1024 * 1024 - checkout - 1500000 - 100000 ))  # 100 kB: .ortgpu/bin (scripts, manifest)
# Every file of the payload is one byte stream cut into parts that fill the calls in order; the device joins each
# file's parts and checks its sha256. Call k carries .ortgpu/parts/k/ and .ortgpu/bin.
python3 - "$cap" .carry/node-*.xz .carry/tree.tar.xz .carry/unpack.sh .ortgpu/ort-harness.mjs ".ortgpu/$(basename "$wheel")" <<'PY'
import hashlib, os, sys
cap, files = int(sys.argv[1]), sys.argv[2:]
sha = lambda b: hashlib.sha256(b).hexdigest()
call, room, n = 1, cap, 0
with open('.ortgpu/bin/manifest.txt', 'w') as m, open('.ortgpu/bin/files.txt', 'w') as t:
    for f in files:
        data = open(f, 'rb').read(); off = 0
        t.write(f'{os.path.basename(f)} {sha(data)} {len(data)}\n')
        while off < len(data):
            if room < 1_000_000: call, room = call + 1, cap
            size = min(room, len(data) - off)
            os.makedirs(f'.ortgpu/parts/{call}', exist_ok=True)
            part = f'.ortgpu/parts/{call}/{n:03d}.{os.path.basename(f)}'
            open(part, 'wb').write(data[off:off + size])
            m.write(f'{call} {part} {sha(data[off:off + size])} {os.path.basename(f)}\n')
            off += size; room -= size; n += 1
print(f'{call} calls of at most {cap} B of payload (checkout {os.environ.get("CHECKOUT", "?")} B travels too)')
PY
rm .ortgpu/ort-harness.mjs ".ortgpu/$(basename "$wheel")"
cat > .ortgpu/bin/step.sh <<'STEP'
#!/usr/bin/env bash
# Device side of one call:  bash .ortgpu/bin/step.sh K   (see scripts/device/ort-gpu-carry.sh)
K=$1; R=$PWD; B=$R/.ortgpu/bin; A=/tmp/acc; mkdir -p $A/parts
LAST=$(awk '{print $1}' $B/manifest.txt | sort -n | tail -1); broken=0
while read -r call rel sha target; do
  [ "$call" = "$K" ] && { mv -f "$R/$rel" "$A/parts/" || broken=1; }
  if [ "$call" -le "$K" ]; then
    f=$A/parts/$(basename "$rel")
    [ -f "$f" ] && [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$sha" ] || { echo "GONE $rel"; broken=1; }
  fi
done < $B/manifest.txt
[ $broken = 1 ] && { echo "CHAIN BROKEN at step $K (the machine went cold?): start again at call 1"; exit 7; }
[ "$K" = "$LAST" ] || { echo "CHAIN OK through step $K of $LAST"; exit 0; }
mkdir -p $A/files $A/wheel
while read -r name sha size; do
  cat $A/parts/*."$name" > "$A/files/$name"
  [ "$(sha256sum "$A/files/$name" | cut -d' ' -f1)" = "$sha" ] || { echo "SHA MISMATCH $name"; exit 9; }
done < $B/files.txt
rm -rf $A/parts; mv $A/files/*.whl $A/wheel/
mkdir -p $A/carry/.carry && mv $A/files/node-*.xz $A/files/tree.tar.xz $A/files/unpack.sh $A/carry/.carry/
(cd $A/carry && source .carry/unpack.sh) && mv $A/carry/node_modules $A/ || exit 8
echo "CHAIN OK: $(ls $A/wheel) (sha256 ok), Node.js $(/tmp/carry-node/bin/node --version), $(ls $A/node_modules), $(ls $A/files)"
STEP
echo "call K: carry [\".ortgpu/parts/K\", \".ortgpu/bin\"], command: bash .ortgpu/bin/step.sh K"
cat .ortgpu/bin/manifest.txt
