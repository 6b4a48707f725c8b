#!/usr/bin/env bash
# Fetch the ONNX Runtime shared library that the `face` crate loads at run time (ort "load-dynamic").
#
# Why a script: the library is 29 MB and platform-specific, so it is not committed. It ships inside
# the official `onnxruntime` wheel on PyPI; we download that wheel (no install), check its sha256,
# unpack only libonnxruntime.so, check that too, and print the path of the .so on stdout.
# Callers do:   export ORT_DYLIB_PATH="$(scripts/fetch-onnxruntime.sh)"
#
# Idempotent: when the checked .so is already in the cache it only prints the path.
# Cache: ${STATION_CACHE:-$HOME/.cache/capture-station}/ort
set -euo pipefail

VERSION=1.31.1
WHEEL=onnxruntime-${VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl
WHEEL_SHA256=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f
SO=libonnxruntime.so.${VERSION}
SO_SHA256=fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3

CACHE=${STATION_CACHE:-$HOME/.cache/capture-station}
DIR=$CACHE/ort
mkdir -p "$DIR"

check() { # file sha256
    [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

if check "$DIR/$SO" "$SO_SHA256"; then
    echo "$DIR/$SO"
    exit 0
fi

if [ "$(uname -m)" != "x86_64" ] || [ "$(uname -s)" != "Linux" ]; then
    echo "fetch-onnxruntime.sh: only linux x86-64 is pinned here; set ORT_DYLIB_PATH to your own libonnxruntime (>= 1.24)" >&2
    exit 1
fi

PIP=""
for c in pip3 pip "python3 -m pip"; do
    if $c --version >/dev/null 2>&1; then PIP=$c; break; fi
done
if [ -z "$PIP" ]; then
    echo "fetch-onnxruntime.sh: pip is needed (apt-get install python3-pip)" >&2
    exit 1
fi

if ! check "$DIR/$WHEEL" "$WHEEL_SHA256"; then
    rm -f "$DIR/$WHEEL"
    # The platform flags make pip pick the same wheel whatever Python runs it; the .so inside does not use Python.
    $PIP download --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 --python-version 3.11 \
        -q -d "$DIR" "onnxruntime==$VERSION" >&2
    if ! check "$DIR/$WHEEL" "$WHEEL_SHA256"; then
        echo "fetch-onnxruntime.sh: $DIR/$WHEEL is missing or its sha256 is wrong (expected $WHEEL_SHA256)" >&2
        rm -f "$DIR/$WHEEL"
        exit 1
    fi
fi

# Unpack with Python's zipfile (always there with pip) so that `unzip` is not a requirement.
python3 - "$DIR/$WHEEL" "$DIR" "$SO" <<'PY'
import sys, zipfile, shutil, os
whl, out, so = sys.argv[1:4]
with zipfile.ZipFile(whl) as z:
    for member, target in ((f"onnxruntime/capi/{so}", so), ("onnxruntime/LICENSE", "LICENSE")):
        tmp = os.path.join(out, target + ".part")
        with z.open(member) as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(tmp, os.path.join(out, target))
PY

if ! check "$DIR/$SO" "$SO_SHA256"; then
    echo "fetch-onnxruntime.sh: unpacked $DIR/$SO has the wrong sha256 (expected $SO_SHA256)" >&2
    rm -f "$DIR/$SO"
    exit 1
fi
echo "$DIR/$SO"
