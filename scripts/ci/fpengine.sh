#!/usr/bin/env bash
# Short FVC evaluation of the `fingerprint` crate: builds the release CLI and
# evaluates FVC2002 DB1_B and DB2_B (all 280 genuine / 2,880 impostor pairs
# each). Fails when either EER exceeds 4 % (measured 2.15 % / 2.50 %; the margin
# absorbs small numeric differences across CPUs) or when the DET plot is not
# written. Reads data from ../shared; writes only to a temporary folder.
# About 1 min on the 2-core workplace machine (release build ~40 s cold).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHARED="${SHARED_DATA:-$ROOT/../shared/data/fingerprint}"
MAX_EER="${FPENGINE_MAX_EER:-4.0}"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

cd "$ROOT"
cargo build --release -p fingerprint --bin fingerprint
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/fingerprint"

status=0
for db in fvc2002/DB1_B fvc2002/DB2_B; do
    "$BIN" eval --fvc "$SHARED/$db" --det "$OUT/det.png" | tee "$OUT/eval.txt"
    eer=$(sed -n 's/^EER \([0-9.]*\)%$/\1/p' "$OUT/eval.txt")
    if [ -z "$eer" ] || [ ! -s "$OUT/det.png" ]; then
        echo "fpengine: $db: no EER line or DET plot" >&2
        status=1
    elif awk -v e="$eer" -v m="$MAX_EER" 'BEGIN { exit !(e > m) }'; then
        echo "fpengine: $db: EER $eer% above $MAX_EER%" >&2
        status=1
    else
        echo "fpengine: $db: EER $eer% (limit $MAX_EER%)"
    fi
done
exit $status
