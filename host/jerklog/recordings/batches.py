"""The sample stream `import` feeds the board's loop (sim/import_board.py): a JSON line, then
batches of BATCH samples laid out as the loop's own buffers, so the MicroPython side reads
them with readinto and does no per-sample work before the detector.

A batch: int32 n, int32 dropped (samples lost so far), int32 t_ms x BATCH (ms since the
first sample), int16 x 6 x BATCH (ax, ay, az in mg; gx, gy, gz in 0.1 deg/s); little-endian,
1,032 bytes for 64 samples. A batch with n = 0 ends the stream.
"""
import json

import numpy as np

from jerklog.firmware import app, rawcsv
from jerklog.recordings.recording import file_error

BATCH = app.BATCH          # samples the board's loop reads at once (its buffers' length)
T_MS_MAX = 2 ** 31 - 1     # the loop's times are int32 ms: 24.8 days
_BATCH = np.dtype([("n", "<i4"), ("dropped", "<i4"), ("t", "<i4", (BATCH,)),
                   ("v", "<i2", (BATCH, 6))])


def rate_of(t_us) -> int:
    """The rate (Hz) a board and `analyze` take for these times: the median of the first 64
    intervals (rawcsv.estimate_rate_hz)."""
    return rawcsv.estimate_rate_hz([int(x) for x in t_us[:rawcsv.RATE_PROBE]])


def config_line(**cfg) -> bytes:
    return (json.dumps(dict(cfg, batch=BATCH), sort_keys=True) + "\n").encode()


class BatchWriter:
    """Turns Chunks into batches and hands their bytes to write(bytes)."""

    def __init__(self, write, path=""):
        self._write = write
        self._path = path
        self._rest = None       # samples short of a full batch, kept for the next chunk
        self.samples = 0        # samples written
        self.dropped = 0        # samples the logger lost, so far

    def add(self, chunk) -> None:
        n = len(chunk.t_us)
        if n == 0:
            return
        t_ms = (chunk.t_us + 500) // 1000          # rawcsv.to_ms: the nearest ms
        if t_ms[-1] > T_MS_MAX:
            raise file_error(self._path, "recordings longer than 24 days are not supported "
                             "(the board's clock is int32 ms)")
        v = np.zeros((n, 6), dtype=np.int64)
        v[:, 0:3] = chunk.acc_mg
        if chunk.gyro_ddps is not None:
            v[:, 3:6] = chunk.gyro_ddps
        dropped = np.zeros(n, dtype=np.int64)
        for i, k in chunk.lost:
            dropped[i] += k
        dropped = self.dropped + np.cumsum(dropped)
        self.dropped = int(dropped[-1])
        if self._rest is not None:
            rt, rv, rd = self._rest
            t_ms, v, dropped = (np.concatenate((rt, t_ms)), np.concatenate((rv, v)),
                                np.concatenate((rd, dropped)))
        full = len(t_ms) // BATCH * BATCH
        self._rest = (t_ms[full:], v[full:], dropped[full:]) if full < len(t_ms) else None
        if full:
            self._emit(t_ms[:full], v[:full], dropped[:full])

    def _emit(self, t_ms, v, dropped):
        n = len(t_ms)
        k = -(-n // BATCH)
        out = np.zeros(k, dtype=_BATCH)
        out["n"] = BATCH
        out["n"][-1] = n - (k - 1) * BATCH
        last = np.minimum(np.arange(1, k + 1) * BATCH, n) - 1
        out["dropped"] = dropped[last]  # a board reports its count as of the batch it read
        t = np.zeros(k * BATCH, dtype=np.int64)
        t[:n] = t_ms
        out["t"] = t.reshape(k, BATCH)
        vv = np.zeros((k * BATCH, 6), dtype=np.int64)
        vv[:n] = v
        out["v"] = vv.reshape(k, BATCH, 6)
        self._write(out.tobytes())
        self.samples += n

    def close(self) -> None:
        """Write what is left and the end of the stream."""
        if self._rest is not None:
            self._emit(*self._rest)
            self._rest = None
        self._write(bytes(8))  # n = 0
