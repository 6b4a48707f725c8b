#!/usr/bin/env bash
# Benchmark (not a test): the LEADER neural minutiae extractor (ONNX, crate
# biometrics/fingerprint-leader) against the engine's native extractor, both
# scored by the engine's matcher on the same FVC set-B pairs (all-impostor
# protocol). Prints per DB and extractor: EER, FMR100, FMR1000, FVC 45-impostor
# EER, ms/image; writes a DET plot (native solid, LEADER dashed).
# LEADER takes 0.4-0.8 s per image on 2 threads: about 5 min for the four DBs.
#
# Usage: scripts/bench/fp-extractors.sh [OUT_DIR]   (default: a temp dir, kept)
# Env:   SHARED_DATA (default ../shared/data/fingerprint), FP_LEADER_MODEL
#        (default: models/, then ../shared/models/), CARGO_TARGET_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHARED="${SHARED_DATA:-$ROOT/../shared/data/fingerprint}"
OUT="${1:-$(mktemp -d)}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
mkdir -p "$OUT"
ORT_DYLIB_PATH="$("$ROOT/scripts/fetch-onnxruntime.sh")"
export ORT_DYLIB_PATH

dbs=()
for db in fvc2002/DB1_B fvc2002/DB2_B fvc2004/DB1_B fvc2004/DB2_B; do
    [ -d "$SHARED/$db" ] && dbs+=(--fvc "$SHARED/$db")
done
if [ ${#dbs[@]} -eq 0 ]; then
    echo "fp-extractors: no FVC data under $SHARED" >&2
    exit 1
fi

cd "$ROOT"
cargo build --release -j2 -p fingerprint-leader --bin fingerprint-leader
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$TARGET/release/fingerprint-leader" eval --extractor both "${dbs[@]}" \
    --det "$OUT/fp-extractors-det.png" --scores "$OUT/fp-extractors-scores.json"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "outputs in $OUT"
