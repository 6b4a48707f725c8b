#!/usr/bin/env bash
# CI for the desktop app (src-tauri + ui + e2e/app), on a fresh Debian 12 machine or again on the
# same one (idempotent):
#   1. Debian packages for WebKitGTK, headless X and WebDriver; npm ci in ui/ and e2e/app/;
#      tauri-driver 2.1.0 when missing; ONNX Runtime (scripts/fetch-onnxruntime.sh).
#   2. svelte-check + vite build of the UI; `cargo test -p capture-station-app` (the committed
#      ui/src/bindings.ts must match the Rust DTOs) and the station app tests (app_support, app_face, app_remote: the last against a real server).
#   3. the app built with custom-protocol, driven through tauri-driver + WebKitWebDriver under
#      Xvfb by e2e/app/run.mjs (operator enrollment with the liveness challenge to synced, duplicate
#      rejected, a phone capture made in headless Chromium reviewed and approved in the admin view
#      with an operator refused, kiosk idle reset).
# Kills what it started; exits non-zero on any failure; last line `scripts/ci/app.sh: N passed, M failed`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
log() { echo "scripts/ci/app.sh: $*" >&2; }
PASSED=0; FAILED=0
step() { # name command...
    local name=$1; shift
    log "== $name"
    if "$@"; then PASSED=$((PASSED + 1)); else FAILED=$((FAILED + 1)); log "FAIL: $name"; fi
}

# ---- 1. prerequisites -------------------------------------------------------------------------
PACKAGES="build-essential pkg-config file curl unzip python3-pip libwebkit2gtk-4.1-dev librsvg2-dev
  libusb-1.0-0-dev libudev-dev libdbus-1-dev libclang-dev xvfb xauth webkit2gtk-driver imagemagick chromium nodejs npm"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# nodejs/npm may come from elsewhere (nodesource, nvm): only install them when node is absent.
if command -v node >/dev/null && command -v npm >/dev/null; then missing=$(echo "$missing" | sed 's/ nodejs//; s/ npm//'); fi
if [ -n "${missing// /}" ]; then
    log "installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 $SUDO apt-get update -q >&2
    # shellcheck disable=SC2086
    timeout 900 $SUDO apt-get install -y -q --no-install-recommends $missing >&2
fi
export ORT_DYLIB_PATH=${ORT_DYLIB_PATH:-$(scripts/fetch-onnxruntime.sh)}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/capture-station/target}
export PATH="$HOME/.cargo/bin:$PATH"
if ! tauri-driver --help 2>/dev/null | grep -q .; then
    log "installing tauri-driver 2.1.0"
    timeout 900 cargo install tauri-driver --locked --version 2.1.0 >&2
fi
timeout 300 npm ci --prefix ui --no-audit --no-fund >&2
timeout 300 npm ci --prefix e2e/app --no-audit --no-fund >&2
# The admin scenario drives the phone capture page with e2e/phone's playwright-core.
if [ ! -d e2e/phone/node_modules/playwright-core ] || [ e2e/phone/package-lock.json -nt e2e/phone/node_modules ]; then
    timeout 300 npm ci --prefix e2e/phone --no-audit --no-fund >&2
fi

# ---- 2. build and unit tests ----------------------------------------------------------------------
# Dependencies at opt-level 0 except the few that do heavy work at run time in the app (image
# codecs, password hashing, sealing, tensors): the Tauri/GTK stack then builds about twice as fast.
# The workspace's own opt-level 3 crates (face, drivers, fingerprint*) keep their settings.
CARGO_APP=(--config 'profile.dev.package."*".opt-level=0')
for p in image png fdeflate miniz_oxide crc32fast zune-jpeg argon2 blake2 chacha20poly1305 chacha20 poly1305 sha2 ndarray base64; do
    CARGO_APP+=(--config "profile.dev.package.$p.opt-level=2")
done
# station runs the camera preview per frame (and instantiates the image encoders it calls), so it
# is optimised too: unoptimised, the preview alone would cost more than the camera's frame time.
CARGO_APP+=(--config "profile.dev.package.station.opt-level=2")
step "ui: svelte-check" timeout 300 npm --prefix ui run check
step "ui: vite build" timeout 300 npm --prefix ui run build
step "station app tests (app_support, app_face, app_remote)" timeout 1800 cargo test -q -p station "${CARGO_APP[@]}" --lib app_
step "app crate tests (bindings current)" timeout 1800 cargo test -q -p capture-station-app "${CARGO_APP[@]}" --features custom-protocol
log "building the app with custom-protocol"
timeout 2400 cargo build -q -p capture-station-app "${CARGO_APP[@]}" --features custom-protocol
APP_BIN=$CARGO_TARGET_DIR/debug/capture-station-app
[ -x "$APP_BIN" ] || { log "no binary at $APP_BIN"; exit 1; }

# ---- 3. end to end under Xvfb ----------------------------------------------------------------------
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
DISPLAY_NUM=${APP_E2E_DISPLAY:-:97}
Xvfb "$DISPLAY_NUM" -screen 0 1280x900x24 -nolisten tcp >/dev/null 2>&1 &
PIDS+=($!)
export DISPLAY=$DISPLAY_NUM
for _ in $(seq 1 50); do xdpyinfo -display "$DISPLAY" >/dev/null 2>&1 && break; [ -e "/tmp/.X11-unix/X${DISPLAY_NUM#:}" ] && break; sleep 0.1; done
E2E_OUT=$(mktemp -d)
if APP_BIN=$APP_BIN SHOTS_DIR=${SHOTS_DIR:-$ROOT/docs/screenshots} METRICS_FILE=$E2E_OUT/metrics.json \
    timeout 900 node e2e/app/run.mjs | tee "$E2E_OUT/e2e.log" >&2; then
    :
fi
E2E_LINE=$(grep -E '^e2e/app: [0-9]+ passed, [0-9]+ failed' "$E2E_OUT/e2e.log" | tail -1 || true)
if [ -z "$E2E_LINE" ]; then
    log "FAIL: e2e run did not finish"
    FAILED=$((FAILED + 1))
else
    P=$(echo "$E2E_LINE" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed/\1/')
    F=$(echo "$E2E_LINE" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed/\2/')
    PASSED=$((PASSED + P)); FAILED=$((FAILED + F))
fi

echo "scripts/ci/app.sh: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
