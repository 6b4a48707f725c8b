#!/usr/bin/env bash
# Benchmark (not a test): NBIS mindtct + bozorth3 (C, compiled by the nbis-rs
# crate) beside our pure-Rust fingerprint engine, in one run over the same FVC
# set-B images and the same pairs (all 280 genuine + 2,880 impostor pairs per DB).
# Prints per DB: EER, FMR100, FMR1000, FVC 45-impostor EER, extraction ms/image
# and comparisons/s on one core (wall and thread CPU time) for both engines, and
# writes a DET plot with both.
#
# The crate benches/nbis-reference has its own workspace, so the workspace build
# and scripts/test never compile the C code. First build ~6-25 min on the 2-core
# machine (nbis-rs pulls image's full codec set and uniffi); the run ~2 min.
#
# Usage: scripts/bench/nbis-reference.sh [OUT_DIR]   (default: a temp dir, kept)
# Env:   SHARED_DATA (default ../shared/data/fingerprint), CARGO_TARGET_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHARED="${SHARED_DATA:-$ROOT/../shared/data/fingerprint}"
OUT="${1:-$(mktemp -d)}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
mkdir -p "$OUT"

dbs=()
for db in fvc2002/DB1_B fvc2002/DB2_B fvc2004/DB1_B fvc2004/DB2_B; do
    if [ -d "$SHARED/$db" ]; then
        dbs+=(--fvc "$SHARED/$db")
    else
        echo "nbis-reference: $SHARED/$db missing, skipped" >&2
    fi
done
if [ ${#dbs[@]} -eq 0 ]; then
    echo "nbis-reference: no FVC data under $SHARED" >&2
    exit 1
fi

cargo build --release --locked -j2 \
    --manifest-path "$ROOT/benches/nbis-reference/Cargo.toml" --target-dir "$TARGET"

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(uname -srm), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo)"
echo "commit: $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet -- biometrics/fingerprint || echo ' (fingerprint crate modified)')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$TARGET/release/nbis-reference" "${dbs[@]}" --det "$OUT/nbis-reference-det.png" \
    --scores "$OUT/nbis-reference-scores.json"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "outputs in $OUT"
