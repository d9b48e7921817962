"""Raw streaming: the waveforms a board sends in raw mode (CMD_RAW), kept in files.

One file per (device, boot) beside the store, private: a 16-byte header (b"JLRAW1", two
zero bytes, device id u32, boot id u32), then each RAW frame's seq u32 and body as it came
(t_ms u32, n u8, period_us u16, n x 6 int16). Appending is all the recorder does; reading
turns a file into sample times and values for plots or export.
"""
import os
import struct

import numpy as np

from jerklog.files import private_dir
from jerklog.firmware import protocol

MAGIC = b"JLRAW1"
HEADER = "<6s2xII"


class RawSink:
    """Appends raw frames to per-boot files under directory (created private)."""

    def __init__(self, directory):
        self.directory = directory
        self._files = {}
        self.samples = 0
        self.frames = 0

    def path(self, device_id, boot_id):
        return os.path.join(self.directory, "%d-%d.jlraw" % (device_id, boot_id))

    def write(self, rec):
        key = (rec["device_id"], rec["boot_id"])
        f = self._files.get(key)
        if f is None:
            private_dir(self.directory)
            path = self.path(*key)
            new = not os.path.exists(path)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            f = self._files[key] = os.fdopen(fd, "ab", buffering=65536)
            if new:
                f.write(struct.pack(HEADER, MAGIC, key[0], key[1]))
        f.write(struct.pack("<IIBH", rec["seq"], rec["t_ms"], rec["n"], rec["period_us"]))
        f.write(rec["samples"])
        self.samples += rec["n"]
        self.frames += 1

    def flush(self):
        for f in self._files.values():
            f.flush()

    def close(self):
        for f in self._files.values():
            f.close()
        self._files = {}


def read_raw(path):
    """(t_ms float array, values int16 array (n, 6) in mg and 0.1 deg/s) of a raw file."""
    with open(path, "rb") as f:
        data = f.read()
    magic, _, _ = struct.unpack_from(HEADER, data, 0)
    if magic != MAGIC:
        raise ValueError("%s is not a jerklog raw file" % path)
    o = struct.calcsize(HEADER)
    times, values = [], []
    while o + 11 <= len(data):
        _, t_ms, n, period_us = struct.unpack_from("<IIBH", data, o)
        o += 11
        block = np.frombuffer(data, "<i2", 6 * n, o).reshape(n, 6)
        o += 12 * n
        times.append(t_ms + np.arange(n) * (period_us / 1000.0))
        values.append(block)
    if not times:
        return np.zeros(0), np.zeros((0, 6), dtype=np.int16)
    return np.concatenate(times), np.concatenate(values)


assert protocol.RAW_SAMPLES * 12 + 20 <= protocol.MAX_PAYLOAD
