#!/usr/bin/env bash
# Downloads the real photographs used by the face evaluation (examples/eval.rs) from package
# registries into ${STATION_CACHE:-$HOME/.cache/capture-station}/face-eval and prints that folder.
# They are NOT committed (only the public-domain astronaut is, in tests/data/):
#   - scikit-image 0.26.0 wheel  -> skimage/data/astronaut.png (NASA, public domain)
#   - face_recognition 1.3.0 sdist -> tests/test_images/{obama,obama2,obama3,biden}.jpg (White House photos)
#   - npm @vladmandic/face-api 1.7.15 -> package/demo/sample1..6.jpg (group photos, 22 faces)
# Idempotent: files already present are kept.
set -euo pipefail
CACHE=${STATION_CACHE:-$HOME/.cache/capture-station}
OUT=$CACHE/face-eval
DL=$OUT/downloads
mkdir -p "$OUT/photos" "$DL"
PIP=pip3; command -v pip3 >/dev/null || PIP="python3 -m pip"
if [ ! -f "$OUT/photos/astronaut.png" ]; then
    $PIP download --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 --python-version 3.11 \
        -q -d "$DL" scikit-image==0.26.0 >&2
    python3 - "$DL" "$OUT/photos" <<'PY'
import sys, zipfile, glob
z = zipfile.ZipFile(glob.glob(sys.argv[1] + "/scikit_image-0.26.0-*.whl")[0])
open(sys.argv[2] + "/astronaut.png", "wb").write(z.read("skimage/data/astronaut.png"))
PY
fi
if [ ! -f "$OUT/photos/obama.jpg" ]; then
    $PIP download --no-deps --no-binary :all: -q -d "$DL" face_recognition==1.3.0 >&2
    tar -xzf "$DL/face_recognition-1.3.0.tar.gz" -C "$DL" face_recognition-1.3.0/tests/test_images
    for f in obama obama2 obama3 biden; do
        cp "$DL/face_recognition-1.3.0/tests/test_images/$f.jpg" "$OUT/photos/"
    done
fi
if [ ! -f "$OUT/photos/sample6.jpg" ] && command -v npm >/dev/null; then
    (cd "$DL" && npm pack -q @vladmandic/face-api@1.7.15 >/dev/null 2>&1)
    tar -xzf "$DL/vladmandic-face-api-1.7.15.tgz" -C "$DL" package/demo
    cp "$DL"/package/demo/sample[1-6].jpg "$OUT/photos/"
fi
echo "$OUT/photos"
