#!/usr/bin/env bash
# Extra CI checks for the face pipeline (run by scripts/test after `cargo test --workspace`).
# 1. model files match models/SHA256SUMS (the crate refuses them otherwise, but say so early and plainly);
# 2. ONNX Runtime is present (fetch-onnxruntime.sh is idempotent and sha256-checks it);
# 3. the `face` CLI end to end on the committed public-domain photos: analyze, verify, autocapture,
#    liveness — checking the JSON answers, not only the exit codes.
# Idempotent; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() { echo "scripts/ci/face.sh: FAIL: $*" >&2; exit 1; }

(cd models && sha256sum --quiet -c SHA256SUMS) || fail "models/ do not match models/SHA256SUMS"

ORT_DYLIB_PATH=${ORT_DYLIB_PATH:-$(scripts/fetch-onnxruntime.sh)}
export ORT_DYLIB_PATH
[ -f "$ORT_DYLIB_PATH" ] || fail "ONNX Runtime not found at $ORT_DYLIB_PATH"

cargo build -q -p face --bin face
BIN=${CARGO_TARGET_DIR:-target}/debug/face
DATA=biometrics/face/tests/data
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {'d': d}))" "$@"; }

"$BIN" analyze "$DATA/astronaut.png" > "$TMP/analyze.json"
[ "$(json "$TMP/analyze.json" "len(d['faces'])")" = 1 ] || fail "analyze: expected one face"
[ "$(json "$TMP/analyze.json" "'TOO_FAR' in [f['code'] for f in d['feedback']]")" = True ] || fail "analyze: expected TOO_FAR"

"$BIN" verify "$DATA/astronaut.png" "$DATA/astronaut.png" > "$TMP/same.json"
[ "$(json "$TMP/same.json" "d['is_match'] and d['distance'] < 0.05")" = True ] || fail "verify: same image must match"
"$BIN" verify "$DATA/astronaut.png" "$DATA/obama.jpg" > "$TMP/diff.json"
[ "$(json "$TMP/diff.json" "d['is_match']")" = False ] || fail "verify: different people must not match"

# The same photo repeated: autocapture never fires (face too small), liveness says SPOOF.
mkdir -p "$TMP/frames"
for i in 01 02 03 04 05 06 07 08 09 10 11 12; do cp "$DATA/astronaut.png" "$TMP/frames/f$i.png"; done
"$BIN" autocapture "$TMP/frames" --min-frames 3 --out "$TMP/enrolled.png" > "$TMP/ac.json"
[ "$(json "$TMP/ac.json" "d['captured'] is False and len(d['frameResults']) == 12")" = True ] || fail "autocapture: must not fire on TOO_FAR frames"
"$BIN" liveness "$TMP/frames" > "$TMP/live.json"
[ "$(json "$TMP/live.json" "d['liveness_result']['decision']")" = SPOOF ] || fail "liveness: repeated photo must be SPOOF"

# Errors: missing runtime names the fetch script.
if ORT_DYLIB_PATH=/nonexistent/libonnxruntime.so "$BIN" analyze "$DATA/astronaut.png" 2> "$TMP/err.txt"; then
    fail "missing runtime must fail"
fi
grep -q "fetch-onnxruntime.sh" "$TMP/err.txt" || fail "missing-runtime error must name scripts/fetch-onnxruntime.sh"

echo "scripts/ci/face.sh: 8 passed, 0 failed"
