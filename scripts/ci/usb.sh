#!/usr/bin/env bash
# USB scanner tier: replays the libfprint recordings (nb1010 and aes3500 from .ioctl, both U.are.U
# models from their original .pcapng and from a re-recorded session) through the real libusb path under
# umockdev (rusb enumerate -> open by id -> claim -> transfers -> image == capture.png), plus the
# in-process replay suite and the seeded parser/replay mutation test. Idempotent; bounded to
# about 4 minutes; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

# System packages (fresh Debian 12): umockdev for the emulation, libusb headers for rusb.
need=()
dpkg -s umockdev >/dev/null 2>&1 || need+=(umockdev)
dpkg -s libusb-1.0-0-dev >/dev/null 2>&1 || need+=(libusb-1.0-0-dev)
dpkg -s pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${need[@]}"
  else
    echo "usb.sh: missing packages: ${need[*]} (run as root or install them)" >&2
    exit 1
  fi
fi

# A missing umockdev must fail here, not skip.
export USB_REQUIRE_UMOCKDEV=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
timeout 240 cargo test -p drivers --test usb_umockdev --test usb_replay --test usb_devices -- --test-threads=2 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
passed=$(sed -n 's/^test result: .* \([0-9]*\) passed; .*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
failed=$(sed -n 's/^test result: .* \([0-9]*\) failed;.*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
# A build error or a timeout produces no test summary; count it as a failure.
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "scripts/ci/usb.sh: $passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
