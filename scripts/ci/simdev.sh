#!/usr/bin/env bash
# Simulated devices, camera sources and the device manager: their tests, then the timing bench
# whose figures docs/benchmarks/simdev.md reports. Idempotent; safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/../.."
tests=()
for f in drivers/tests/sim_*.rs drivers/tests/camera_*.rs; do
    tests+=(--test "$(basename "$f" .rs)")
done
cargo test -p drivers --lib -- simulated:: camera:: manager::
cargo test -p drivers "${tests[@]}"
if [[ "${SIMDEV_BENCH:-1}" == 1 ]]; then
    cargo bench -p drivers --bench sim_devices
fi
