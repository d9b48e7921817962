"""A logger's file as `import` reads it: who recorded it, its clock, and its samples in chunks
on the board's integer grid (us, mg, 0.1 deg/s), so a recording of any length streams.

Every reader (cwa_stream, gt3x, geneactiv, and the raw CSV here) returns a LoggerFile;
formats.open_logger picks the reader from the file's name.
"""
import os
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

import numpy as np

from jerklog.recordings.recording import file_error

CHUNK_SAMPLES = 1 << 18   # samples a reader hands out at once (~3 min at 1.6 kHz, 44 min at 100 Hz)
INT16 = 32767             # the sample stream's limit: +-32.767 g, +-3276.7 deg/s


@dataclass(eq=False)
class Chunk:
    """Consecutive samples on the board's grid.

    t_us      int64 (n,), us since the recording's first sample, strictly increasing
    acc_mg    int64 (n, 3), acceleration in mg
    gyro_ddps int64 (n, 3) in 0.1 deg/s, or None
    lost      [(i, samples)]: samples the logger lost just before sample i (a bad block)
    """

    t_us: np.ndarray
    acc_mg: np.ndarray
    gyro_ddps: Optional[np.ndarray] = None
    lost: list = field(default_factory=list)


@dataclass(eq=False)
class LoggerFile:
    """One logger's recording, opened: what is known before any sample is read, and chunks().

    format       'cwa', 'gt3x', 'geneactiv' or 'csv'
    model        the logger's model ('AX3', 'AX6', 'GT3X+', 'GENEActiv 1.1', ...)
    serial       the logger's serial number or device id, as the file states it ('' if none)
    session      what tells this recording from others of the same logger (session id,
                 start time): part of the boot's identity
    start_ms     the logger's clock at the first sample, Unix ms read as if it were UTC (the
                 wall time the logger showed)
    utc_offset_ms  the logger clock's offset from UTC as the file states it, or None
    rate_hz      the configured rate, Hz
    has_gyro     whether samples carry rotation
    samples      how many samples the file holds (an estimate where the format keeps none)
    location     body location written in the file ('' if none)
    checks       what the format's own checks found (bad blocks, gaps, jumps, ...), counts
                 filled in while chunks() runs
    """

    path: str
    format: str
    model: str
    serial: str
    session: str
    start_ms: Optional[int]
    utc_offset_ms: Optional[int]
    rate_hz: float
    has_gyro: bool
    samples: int
    chunks: Callable[[], Iterator[Chunk]]
    location: str = ""
    checks: dict = field(default_factory=dict)


def _round(x, scale):
    """x * scale to the nearest integer, halves away from zero (RawSamples.from_units)."""
    x = np.asarray(x, dtype=np.float64) * scale
    return (np.sign(x) * np.floor(np.abs(x) + 0.5)).astype(np.int64)


def to_grid(t_s, acc_g, gyro_dps=None, lost=()) -> Chunk:
    """A chunk from physical units: t (s since the first sample), g, deg/s; clipped to the
    stream's int16 range (a logger's full scale is inside it)."""
    acc = np.clip(_round(acc_g, 1e3), -INT16, INT16)
    gyro = None if gyro_dps is None else np.clip(_round(gyro_dps, 10), -INT16, INT16)
    return Chunk(_round(t_s, 1e6), acc, gyro, list(lost))


def sniff(path, magic: bytes, what: str) -> None:
    """A JerklogError in one line unless the file starts with magic."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(magic))
    except OSError as e:
        raise file_error(path, "cannot read: %s" % (e.strerror or e))
    if head != magic:
        raise file_error(path, "not %s: it starts with %r, not %r" % (what, head, magic))


# -- the raw recording CSV ----------------------------------------------------------------
def open_csv(path, units="g") -> LoggerFile:
    """A raw recording CSV (README: t in s, g, deg/s). It has no clock of its own: the caller
    gives the start (start_ms None here). Parsed by the firmware's own rawcsv."""
    from jerklog.recordings import rawfile
    f, reader = rawfile.open_raw(path, units)  # checks the header and the first samples
    f.close()
    size = os.path.getsize(path)
    per_line = 40 if reader.has_gyro else 25

    def chunks():
        t0 = None
        for rd, rows in rawfile.iter_rows(path, units):
            if t0 is None:
                t0 = rd.t0_us
            yield Chunk(rows[:, 0] - t0, rows[:, 1:4].copy(),
                        rows[:, 4:7].copy() if rd.has_gyro else None)

    return LoggerFile(path, "csv", "raw CSV", "", "", None, None, reader.rate_hz,
                      reader.has_gyro, size // per_line, chunks)
