"""The sim board: plays a raw recording as if it came from an IMU's FIFO.

Used under the MicroPython unix port (and by host tests). Two inputs:
  * a raw recording CSV (the project's contract; see rawcsv), parsed exactly;
  * a sim stream (.jls), the same samples already as integers, which the host writes from a
    CSV or a generated scenario: 16-byte header, then 16 bytes per sample, read in batches
    with readinto like FIFO bytes. It replays long recordings several times faster.
Device time is the recording's own clock (ms since its first sample), so an event's time on
the device equals its time in the file.
"""
from . import rawcsv

STREAM_MAGIC = b"JLSIM1"
STREAM_HEADER = "<6sHB7x"   # magic, rate Hz, flags (bit 0: gyro)
HEADER_BYTES = 16
SAMPLE_FMT = "<i6h"         # t ms since first sample; ax, ay, az mg; gx, gy, gz 0.1 deg/s
SAMPLE_BYTES = 16


def _s16(lo, hi):
    v = lo | (hi << 8)
    return v - 65536 if v & 0x8000 else v


class SimBoard:
    name = "sim"

    def __init__(self, path, sensor="sim", batch=32):
        self.sensor = sensor
        self.dropped = 0        # a file drops nothing
        self.finished = False
        if path.endswith(".jls"):
            import struct
            self._f = open(path, "rb")
            head = self._f.read(HEADER_BYTES)
            if len(head) != HEADER_BYTES:
                raise ValueError("%s: truncated sim stream header" % path)
            magic, self.rate_hz, flags = struct.unpack(STREAM_HEADER, head)
            if magic != STREAM_MAGIC:
                raise ValueError("%s: not a jerklog sim stream" % path)
            self.has_gyro = bool(flags & 1)
            self._bytes = bytearray(SAMPLE_BYTES * batch)
            self.read_into = self._read_stream
        else:
            self._f = open(path, "r")
            self._reader = rawcsv.RawReader(self._f)
            self.rate_hz = self._reader.rate_hz
            self.has_gyro = self._reader.has_gyro
            self.read_into = self._read_csv

    def _read_stream(self, times, samples):
        """Fill times[i] (ms) and samples[6i:6i+6] (mg, 0.1 deg/s); return the count."""
        b = self._bytes
        got = self._f.readinto(b)
        n = min(got // SAMPLE_BYTES, len(times))
        i = 0
        while i < n:
            o = i * SAMPLE_BYTES
            t = b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)
            times[i] = t - (1 << 32) if t & 0x80000000 else t
            j = 6 * i
            samples[j] = _s16(b[o + 4], b[o + 5])
            samples[j + 1] = _s16(b[o + 6], b[o + 7])
            samples[j + 2] = _s16(b[o + 8], b[o + 9])
            samples[j + 3] = _s16(b[o + 10], b[o + 11])
            samples[j + 4] = _s16(b[o + 12], b[o + 13])
            samples[j + 5] = _s16(b[o + 14], b[o + 15])
            i += 1
        if got < len(b):
            self.finished = True
            self._f.close()
        return n

    def _read_csv(self, times, samples):
        """As _read_stream, from the CSV."""
        reader = self._reader
        t0 = reader.t0_us
        n = 0
        cap = len(times)
        while n < cap:
            row = reader.next_row()
            if row is None:
                self.finished = True
                self._f.close()
                break
            times[n] = rawcsv.to_ms(row[0], t0)
            j = 6 * n
            samples[j] = row[1]
            samples[j + 1] = row[2]
            samples[j + 2] = row[3]
            samples[j + 3] = row[4]
            samples[j + 4] = row[5]
            samples[j + 5] = row[6]
            n += 1
        return n
