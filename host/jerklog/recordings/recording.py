"""The one in-memory recording type, and the one writer of the raw recording CSV.

A Recording is what a file held, in physical units: t (s), acceleration (g), rotation
(deg/s), with its rate, source and body region. Readers of other loggers (axivity.py,
daphnet.py, rawfile.py for the raw CSV) make one; the sim board and the detector take it on
the board's integer grid (rawfile.RawSamples: us, mg, 0.1 deg/s).

The raw recording CSV: header ``t,ax,ay,az`` (plus ``,gx,gy,gz`` with a gyroscope), t in
seconds, acceleration in g, rotation in deg/s, one sample a line.
"""
import os
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from jerklog import JerklogError

CHUNK = 20_000  # lines formatted at once by write_raw_csv


@dataclass(eq=False)
class Recording:
    """One tri-axial recording.

    name      short identifier (file stem, plus ``_<location>`` for Daphnet)
    t         float64 (N,), seconds from the first sample, strictly increasing
    acc       float64 (N, 3), acceleration in g
    gyro      float64 (N, 3) in deg/s, or None when the device has no gyroscope
    rate_hz   nominal sample rate (the configured one, not the measured one)
    source    path of the file it came from
    location  'wrist', 'ankle', 'thigh', 'trunk', ... or 'unknown'
    bad_blocks   number of CWA blocks skipped (0 for other formats)
    start_epoch  absolute time of the first sample, seconds since 1970 as recorded by the
                 device clock (CWA: the logger's local time read as UTC), or None
    info      format-specific details (device, ranges, block counts, measured rate, ...)
    """

    name: str
    t: np.ndarray
    acc: np.ndarray
    gyro: Optional[np.ndarray]
    rate_hz: float
    source: str
    location: str = "unknown"
    bad_blocks: int = 0
    start_epoch: Optional[float] = None
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        self.t = np.ascontiguousarray(self.t, dtype=np.float64)
        self.acc = np.ascontiguousarray(self.acc, dtype=np.float64)
        if self.t.ndim != 1:
            raise ValueError(f"{self.name}: t must be 1-D, got shape {self.t.shape}")
        n = self.t.shape[0]
        if self.acc.shape != (n, 3):
            raise ValueError(f"{self.name}: acc must have shape ({n}, 3), got {self.acc.shape}")
        if self.gyro is not None:
            self.gyro = np.ascontiguousarray(self.gyro, dtype=np.float64)
            if self.gyro.shape != (n, 3):
                raise ValueError(
                    f"{self.name}: gyro must have shape ({n}, 3), got {self.gyro.shape}")
        self.rate_hz = float(self.rate_hz)

    @property
    def n_samples(self) -> int:
        return int(self.t.shape[0])

    @property
    def duration_s(self) -> float:
        return float(self.t[-1] - self.t[0]) if self.t.size else 0.0

    def __repr__(self):
        g = "gyro" if self.gyro is not None else "no gyro"
        return (f"Recording({self.name!r}, {self.n_samples} samples, {self.duration_s:.1f} s, "
                f"{self.rate_hz:g} Hz, {g}, location={self.location!r})")


class RecordingError(JerklogError, ValueError):
    """A recording file that cannot be read; the message starts with the file's path."""


def file_error(path, what):
    return RecordingError(f"{os.fspath(path)}: {what}")


def days_from_civil(y, m, d):
    """Days since 1970-01-01 of proleptic Gregorian dates (vectorised, H. Hinnant)."""
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def write_raw_csv(rec: Recording, path, decimals=(6, 4, 2)) -> None:
    """Write rec as a raw recording CSV, streamed in chunks.

    decimals: (t in s, acceleration in g, rotation in deg/s). The default keeps 0.1 mg and
    0.01 deg/s; (6, 3, 1) writes the board's integer grid (us, mg, 0.1 deg/s) exactly."""
    path = os.fspath(path)
    dt_, da, dg = decimals
    cols = [rec.t[:, None], rec.acc]
    row = ["%%.%df" % dt_] + ["%%.%df" % da] * 3
    header = "t,ax,ay,az"
    if rec.gyro is not None:
        cols.append(rec.gyro)
        row += ["%%.%df" % dg] * 3
        header += ",gx,gy,gz"
    row = ",".join(row) + "\n"
    table = np.hstack(cols)
    if not np.all(np.isfinite(table)):
        raise file_error(path, "%s has values that are not finite numbers" % rec.name)
    with open(path, "w", newline="\n") as f:
        f.write(header + "\n")
        for a in range(0, len(table), CHUNK):
            block = table[a:a + CHUNK]
            f.write((row * len(block)) % tuple(block.ravel().tolist()))
