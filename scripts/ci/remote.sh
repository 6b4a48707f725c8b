#!/usr/bin/env bash
# Remote capture CI: the server's remote-capture tests (real HTTP, SQLite, ONNX inference) and the
# phone page end to end in Debian Chromium (playwright-core, fake camera from a real face photo).
# Installs what is missing (chromium, nodejs/npm, the npm packages from e2e/phone/package-lock.json,
# ONNX Runtime); idempotent; bounded (each step has a timeout); exits non-zero on any failure and
# ends with "scripts/ci/remote.sh: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."

passed=0
failed=0
finish() {
    echo "scripts/ci/remote.sh: $passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
    exit $?
}
die() { echo "scripts/ci/remote.sh: FAIL: $*" >&2; failed=$((failed + 1)); finish; }

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
if [ "${#need_apt[@]}" -gt 0 ]; then
    timeout 240 $SUDO apt-get -o DPkg::Lock::Timeout=120 install -y --no-install-recommends "${need_apt[@]}" >/dev/null \
        || { timeout 120 $SUDO apt-get update >/dev/null && timeout 240 $SUDO apt-get install -y --no-install-recommends "${need_apt[@]}" >/dev/null; } \
        || die "apt-get install ${need_apt[*]}"
fi

ORT_DYLIB_PATH=${ORT_DYLIB_PATH:-$(scripts/fetch-onnxruntime.sh)} || die "ONNX Runtime download"
export ORT_DYLIB_PATH
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/capture-station/target}

# 1. Server tests (each test is a real server on loopback).
out=$(timeout 600 cargo test -q -p server --test remote 2>&1)
rc=$?
echo "$out" | tail -n 20
n=$(echo "$out" | sed -n 's/^test result: .* \([0-9][0-9]*\) passed; \([0-9][0-9]*\) failed.*/\1 \2/p' | tail -n 1)
if [ -n "$n" ]; then
    passed=$((passed + ${n% *}))
    failed=$((failed + ${n#* }))
fi
[ "$rc" -eq 0 ] || { [ -n "$n" ] && [ "${n#* }" -gt 0 ]; } || failed=$((failed + 1))

# 2. The phone page in Chromium against `capture-station serve`.
timeout 900 cargo build -q -p capture-station || die "cargo build -p capture-station"
if [ ! -d e2e/phone/node_modules/playwright-core ] || [ e2e/phone/package-lock.json -nt e2e/phone/node_modules ]; then
    timeout 180 npm ci --prefix e2e/phone --no-audit --no-fund >/dev/null || die "npm ci --prefix e2e/phone"
fi
out=$(CAPTURE_STATION_BIN="$CARGO_TARGET_DIR/debug/capture-station" timeout 240 node e2e/phone/phone.test.mjs 2>&1)
rc=$?
echo "$out" | grep -v '^\s*$' | tail -n 25
n=$(echo "$out" | sed -n 's/^e2e\/phone: \([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1 \2/p' | tail -n 1)
if [ -n "$n" ]; then
    passed=$((passed + ${n% *}))
    failed=$((failed + ${n#* }))
fi
[ "$rc" -eq 0 ] || { [ -n "$n" ] && [ "${n#* }" -gt 0 ]; } || failed=$((failed + 1))

finish
