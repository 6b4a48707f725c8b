#!/usr/bin/env bash
# Serial (R30x/AS608) driver checks for CI: unit tests, the emulator/replay integration tests
# (real driver over a pty pair), and bounded seeded fuzzing of the packet decoder.
# Idempotent: builds into ${CARGO_TARGET_DIR:-target}, writes nothing else.
# R30X_FUZZ_ITERATIONS (default 100000) bounds the fuzzing.
set -euo pipefail
cd "$(dirname "$0")/../.."
export R30X_FUZZ_ITERATIONS="${R30X_FUZZ_ITERATIONS:-100000}"
cargo test -p drivers --lib serial::
cargo test -p drivers --test serial_emulator --test serial_replay
cargo test -p drivers --test serial_fuzz
