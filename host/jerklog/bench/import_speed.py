"""How fast `jerklog import` runs on a long Axivity recording, and how much memory it takes.

    python -m jerklog.bench.import_speed [--days 1.0] [--src FILE.cwa]

writes a .cwa of --days days into a temporary folder (the blocks of a real AX3 test file
played again and again, with running sequence ids, timestamps and checksums: a file the
reader checks as any other), imports it into a fresh store with `jerklog import`, and prints
x real time (recorded seconds per wall second) and the peak resident memory of the importer
and of the board's loop (MiB).
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

from jerklog.recordings import axivity as ax

BLOCK_S = 1.2   # 120 packed samples at 100 Hz


def _packed(secs):
    """Unix seconds (int64 array) -> CWA packed timestamps (the wall clock, read as UTC)."""
    d = secs.astype("datetime64[s]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    mo = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (d - d.astype("datetime64[M]")).astype("timedelta64[D]").astype(np.int64) + 1
    s = (d - d.astype("datetime64[D]")).astype(np.int64)
    return (((y - 2000) << 26) | (mo << 22) | (day << 17) | ((s // 3600) << 12)
            | (((s // 60) % 60) << 6) | (s % 60)).astype(np.uint32)


def synth_cwa(src, dst, days, start_s=1_767_225_600):
    """Write a .cwa of `days` days at 100 Hz from the blocks of src (an AX3 packed file)."""
    with open(src, "rb") as f:
        data = f.read()
    header = data[:ax.CWA_HEADER_SIZE]
    blocks = np.frombuffer(data, dtype=ax._CWA_BLOCK, offset=ax.CWA_HEADER_SIZE).copy()
    n_total = int(days * 86400 / BLOCK_S)
    step = 4096
    with open(dst, "wb") as out:
        out.write(header)
        for a in range(0, n_total, step):
            k = np.arange(a, min(n_total, a + step))
            b = blocks[k % len(blocks)].copy()
            t = start_s + k * BLOCK_S
            whole = np.floor(t).astype(np.int64)
            frac = np.round((t - whole) * 32768).astype(np.int64) & 0x7FFF
            b["sequence_id"] = k
            b["timestamp"] = _packed(whole)
            b["device_fractional"] = 0x8000 | frac
            # the firmware pre-shifts timestampOffset by the fraction's samples (axivity.py)
            b["timestamp_offset"] = -((frac << 1) * 100 >> 16)
            b["sample_count"] = 120
            b["events"] = 0  # no "logging resumed" at each repetition of the source
            b["checksum"] = 0
            words = b.view("<u2").reshape(len(b), ax.CWA_BLOCK_SIZE // 2)
            b["checksum"] = (-words.sum(axis=1, dtype=np.int64)) & 0xFFFF
            out.write(b.tobytes())
    return n_total * 120


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--days", type=float, default=1.0)
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("--src", default=os.path.join(here, "..", "..", "..", "..", "shared",
                                                 "data", "real", "axivity",
                                                 "ax3_testfile.cwa"))
    p.add_argument("--region", default="left_wrist")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="jerklog-import-bench-") as tmp:
        cwa = os.path.join(tmp, "long.cwa")
        samples = synth_cwa(args.src, cwa, args.days)
        db = os.path.join(tmp, "store.sqlite3")
        t0 = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "jerklog", "import", cwa, "--region",
                               args.region, "--db", db], stderr=subprocess.PIPE, text=True)
        wall = time.monotonic() - t0
        if proc.returncode:
            print(proc.stderr, file=sys.stderr)
            return proc.returncode
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
        seconds = samples / 100.0
        print("import of %.2f days at 100 Hz (%d samples, %.0f MB .cwa): %.1f s, %.0fx real "
              "time, %.2f us a sample; peak RSS of the largest process %.0f MiB"
              % (args.days, samples, os.path.getsize(cwa) / 1e6, wall, seconds / wall,
                 wall / samples * 1e6, peak))
        line = proc.stderr.strip().splitlines()[-1]
        print(line)
        if "board loop" in line:
            us = float(line.split("board loop ")[1].split(" us")[0])
            print("the board's loop alone (one core): %.2f us a sample, %.0fx real time at "
                  "100 Hz" % (us, 1e6 / (us * 100)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
