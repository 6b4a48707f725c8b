#!/usr/bin/env bash
# PostgreSQL CI: every server integration test (`cargo test -p server`: enroll, idempotency,
# people, operators, tokens, verify, remote capture, dedup, restart) against a real PostgreSQL.
# Starts a throwaway cluster (initdb in a temp dir, loopback on a free port, trust auth, run as the
# `postgres` user when this script runs as root since initdb/postgres refuse root), points
# SERVER_TEST_POSTGRES_URL at it (each test then creates a database of its own), and stops and
# removes the cluster on exit. Installs PostgreSQL with apt when initdb is missing; idempotent;
# exits non-zero on any failure and ends with "scripts/ci/postgres.sh: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."

NAME=scripts/ci/postgres.sh
passed=0
failed=0
finish() {
    echo "$NAME: $passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
    exit $?
}
die() { echo "$NAME: FAIL: $*" >&2; failed=$((failed + 1)); finish; }

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
pg_bin() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; else dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)"; fi
}
BIN=$(pg_bin)
if [ ! -x "$BIN/initdb" ]; then
    timeout 300 $SUDO apt-get -o DPkg::Lock::Timeout=120 install -y --no-install-recommends postgresql >/dev/null \
        || { timeout 120 $SUDO apt-get update >/dev/null && timeout 300 $SUDO apt-get install -y --no-install-recommends postgresql >/dev/null; } \
        || die "apt-get install postgresql"
    BIN=$(pg_bin)
    [ -x "$BIN/initdb" ] || die "initdb not found after installing postgresql"
fi

# initdb and postgres refuse to run as root: the cluster belongs to the postgres user then.
AS=()
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres || die "useradd postgres"
    AS=(runuser -u postgres --)
fi
DIR=$(mktemp -d /tmp/capture-station-pg.XXXXXX) || die "mktemp"
[ "$(id -u)" -eq 0 ] && chown postgres "$DIR"
cleanup() {
    "${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$DIR"
}
trap cleanup EXIT

"${AS[@]}" "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --no-sync >"$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log"; die "initdb"; }
# A random high port nobody answers on; should another process take it first, try another.
# fsync off: the cluster is thrown away after the run; durability is not what these tests measure.
started=0
for _ in 1 2 3 4 5; do
    PORT=$((20000 + RANDOM % 40000))
    (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && continue
    if "${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c max_connections=200" start >/dev/null; then
        started=1
        break
    fi
done
[ "$started" -eq 1 ] || { cat "$DIR/postgres.log"; die "pg_ctl start"; }
echo "$NAME: PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT"

ORT_DYLIB_PATH=${ORT_DYLIB_PATH:-$(scripts/fetch-onnxruntime.sh)} || die "ONNX Runtime download"
export ORT_DYLIB_PATH
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/capture-station/target}
export SERVER_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PORT/postgres"

out=$(timeout 1200 cargo test -p server --no-fail-fast 2>&1)
rc=$?
echo "$out" | grep -E '^(test |failures:|---- |thread |test result:)' | grep -v ' \.\.\. ok$' | tail -n 60
while read -r p f; do
    passed=$((passed + p))
    failed=$((failed + f))
done < <(echo "$out" | sed -n 's/^test result: .* \([0-9][0-9]*\) passed; \([0-9][0-9]*\) failed.*/\1 \2/p')
# A build failure or a crash reports no counts: count it as a failure.
[ "$rc" -eq 0 ] || [ "$failed" -gt 0 ] || failed=$((failed + 1))
finish
