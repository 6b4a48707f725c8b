#!/usr/bin/env python3
"""Independent check of the Rust WSQ encoder against NIST NBIS.

Encodes real fingerprint images with `wsq_tool encode`, decodes the result
with the PyPI `wsq` package (a wrapper of the NBIS 5.0 decoder, used through
its Pillow plugin) and with `wsq_tool decode`, and requires:
  * NBIS accepts every file the Rust encoder writes, with the right size;
  * the NBIS decode and the Rust decode are identical pixel for pixel;
  * PSNR against the original is printed for the record.

Usage: nbis_crosscheck.py <wsq_tool binary> <shared fingerprint data dir>
Exit status is non-zero on any mismatch.
"""
import glob
import math
import os
import subprocess
import sys
import tempfile

import wsq  # noqa: F401  (registers the WSQ plugin with Pillow)
from PIL import Image


def psnr(a, b):
    se = sum((x - y) ** 2 for x, y in zip(a, b))
    return float("inf") if se == 0 else 10 * math.log10(255 * 255 / (se / len(a)))


def main():
    tool, shared = sys.argv[1], sys.argv[2]
    images = []
    for db in ("fvc2002/DB1_B", "fvc2002/DB2_B", "fvc2004/DB1_B", "fvc2004/DB2_B"):
        images += sorted(glob.glob(os.path.join(shared, db, "10[1-3]_1.tif")))
    images += sorted(glob.glob(os.path.join(shared, "nfiq2", "*.pgm")))
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in images:
            out = os.path.join(tmp, "x.wsq")
            pgm = os.path.join(tmp, "x.pgm")
            subprocess.run([tool, "encode", path, out], check=True)
            subprocess.run([tool, "decode", out, pgm], check=True)
            original = Image.open(path).convert("L")
            nbis = Image.open(out)
            nbis.load()
            nbis = nbis.convert("L")
            ours = Image.open(pgm).convert("L")
            same_size = nbis.size == original.size == ours.size
            identical = same_size and nbis.tobytes() == ours.tobytes()
            p = psnr(original.tobytes(), nbis.tobytes()) if same_size else float("nan")
            size = os.path.getsize(out)
            print(f"{os.path.relpath(path, shared)}: {size} bytes, NBIS decode "
                  f"{'identical to' if identical else 'DIFFERS from'} ours, PSNR {p:.2f} dB")
            failures += 0 if identical else 1
    print(f"{len(images)} images, {failures} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
