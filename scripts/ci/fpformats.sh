#!/usr/bin/env bash
# Fuzzes the fingerprint-formats parsers (WSQ decoder, template readers,
# image header probes) with cargo-fuzz for a bounded time per target.
#
# Idempotent: installs cargo-fuzz only when missing, keeps its build in
# $CARGO_TARGET_DIR (or ~/.cache) outside the clone, and copies seed inputs
# from ../shared into a throw-away corpus (shared data is never written into
# the repository). Exits non-zero when a target crashes or fails to build.
#
# Then, when PyPI is reachable, an independent cross-check: images encoded by
# our WSQ encoder are decoded by NIST NBIS (PyPI package `wsq`) and must equal
# our own decode pixel for pixel.
#
# Measured on the 2-core workplace machine: cargo-fuzz install 71 s (once),
# cold fuzz build 39 s, FUZZ_SECONDS (default 30) per target for 3 targets,
# NBIS cross-check about 15 s: about 3.5 min cold, 2 min warm.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MAIN_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
CRATE="$ROOT/biometrics/fingerprint-formats"
SHARED="${SHARED_DATA:-$ROOT/../shared/data/fingerprint}"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-30}"
TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/capture-station/target}/fuzz-fpformats"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fpformats: installing cargo-fuzz"
    cargo install cargo-fuzz --locked --version 0.13.2
fi

# libFuzzer instrumentation needs nightly-only flags; this unlocks them on
# the stable toolchain, which is the only one installed here.
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="$TARGET_DIR"

cd "$CRATE"
cargo fuzz build -O

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

seed() { # seed <target> <files...>
    local dir="$WORK/seeds-$1"
    mkdir -p "$dir" "$WORK/corpus-$1"
    shift
    for f in "$@"; do
        [ -f "$f" ] && cp "$f" "$dir/"
    done
    return 0
}
if [ -d "$SHARED" ]; then
    seed wsq_decode "$SHARED"/wsq/vectors/*.wsq "$SHARED"/wsq/fvc-encoded/*.wsq
    seed template_read "$SHARED"/templates/*/*
    seed image_load "$SHARED"/nfiq2/SFinGe_Test01.pgm "$SHARED"/wsq/vectors/libbiomeval-img.wsq \
        "$SHARED"/wsq/vectors/libbiomeval-img.decoded.png "$SHARED"/sourceafis-images/probe.jpeg \
        "$SHARED"/fvc2002/DB1_B/101_1.tif
else
    echo "fpformats: $SHARED not found, fuzzing from empty corpora"
    for t in wsq_decode template_read image_load; do seed "$t"; done
fi

status=0
for target in wsq_decode template_read image_load; do
    echo "fpformats: fuzzing $target for ${SECONDS_PER_TARGET}s"
    if ! cargo fuzz run -O "$target" "$WORK/corpus-$target" "$WORK/seeds-$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -rss_limit_mb=2048 \
        -timeout=10 -print_final_stats=1 2>"$WORK/$target.log"; then
        echo "fpformats: $target FAILED"; tail -n 60 "$WORK/$target.log"
        status=1
    else
        grep -E "stat::number_of_executed_units|Done" "$WORK/$target.log" | tail -n 2 || true
    fi
done

# --- NBIS cross-check (skipped, not failed, when PyPI cannot be reached) ---
if [ -d "$SHARED" ] && command -v python3 >/dev/null 2>&1; then
    VENV="${XDG_CACHE_HOME:-$HOME/.cache}/capture-station/venv-wsq"
    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import wsq, PIL" 2>/dev/null; then
        python3 -m venv "$VENV" && timeout 120 "$VENV/bin/pip" install -q wsq pillow || VENV=""
    fi
    if [ -n "$VENV" ]; then
        unset RUSTC_BOOTSTRAP
        CARGO_TARGET_DIR="$MAIN_TARGET_DIR" cargo build -q -p fingerprint-formats --example wsq_tool
        if ! "$VENV/bin/python" "$CRATE/tools/nbis_crosscheck.py" "$MAIN_TARGET_DIR/debug/examples/wsq_tool" "$SHARED"; then
            echo "fpformats: NBIS cross-check FAILED"
            status=1
        fi
    else
        echo "fpformats: PyPI package wsq unavailable, NBIS cross-check skipped"
    fi
fi
exit "$status"
