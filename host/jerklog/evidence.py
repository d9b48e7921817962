"""The evidence record: one candidate the board judged, kept or dropped, with its waveform.

A board sends each candidate in parts (docs/protocol.md, "Evidence"); the store keeps the
parts until the last arrives and then one row per candidate. This module holds what both the
store and the host's judgement need: the columns of that row, how the parts join, and the
waveform decoded into numbers with units.
"""
import numpy as np

from jerklog.events import EVENT_COLUMNS, from_wire
from jerklog.firmware import protocol

VERDICT_NAMES = protocol.VERDICT_NAMES
KEPT = VERDICT_NAMES[protocol.VERDICT_KEPT]

# The columns a joined candidate has beside the event columns (the board's features).
SHAPE_FIELDS = protocol.WAVE_FIELDS  # pre, n, period_us, stride, axes

# The part-0 fields the ingest keeps until the candidate is whole: the features and wave
# shape as on the wire, plus the unwrapped uptime and the mapped UTC time of the peak.
HEAD_FIELDS = protocol.EVIDENCE_FIELDS + protocol.WAVE_FIELDS


def head_of(record: dict, t_ms: int, time_ms: int, has_gyro: bool) -> dict:
    """The part-0 record's fields to keep until the last part: wire integers, t_ms (device
    uptime of the peak, ms, unwrapped), time_ms (Unix ms, UTC) and whether the boot has a
    gyroscope."""
    head = {name: record[name] for name in HEAD_FIELDS}
    head.update(t_ms=t_ms, time_ms=time_ms, has_gyro=bool(has_gyro))
    return head


def join(parts: list) -> dict | None:
    """One candidate from its parts [(part, last, head, wave bytes)] (any order), or None
    while a part is missing. The row: event columns (units as in events.py), verdict (name),
    level_g, the wave shape, the joined wave bytes, t_ms and time_ms."""
    parts = sorted(parts, key=lambda p: p[0])
    if not parts or parts[0][0] != 0 or not parts[-1][1]:
        return None
    if [p[0] for p in parts] != list(range(len(parts))):
        return None  # a part in the middle is missing (or a last part came twice)
    head = parts[0][2]
    row = from_wire(head, head["has_gyro"])
    row.update(t_ms=head["t_ms"], time_ms=head["time_ms"],
               verdict=VERDICT_NAMES.get(head["verdict"], "unknown"),
               level_g=head["level_mg"] / 1000.0)
    for name in SHAPE_FIELDS:
        row[name] = head[name]
    row["wave"] = b"".join(bytes(p[3]) for p in parts)
    return row


# The evidence table's columns after its key (device_id, boot_id, cand) and seq, in order.
ROW_COLUMNS = (("t_ms", "INTEGER"), ("time_ms", "INTEGER")) + tuple(
    (c.name, c.sql) for c in EVENT_COLUMNS) + (
    ("verdict", "TEXT"), ("level_g", "REAL")) + tuple(
    (name, "INTEGER") for name in SHAPE_FIELDS) + (("wave", "BLOB"),)


def decode_wave(data: bytes, n: int, axes: int) -> np.ndarray | None:
    """The waveform as an (n, axes) int array: ax, ay, az in mg, then gx, gy, gz in
    0.1 deg/s; None when the bytes do not hold exactly n samples (damaged evidence)."""
    values = protocol.decode_wave(data, n, axes)
    if values is None:
        return None
    return np.array(values, dtype=np.int32).reshape(n, axes)


class Wave:
    """A candidate's decoded waveform with its time axis.

    acc_g: (n, 3) acceleration, g; gyro_dps: (n, 3) rotation rate, deg/s, or None;
    t_ms: (n,) time of each sample relative to the peak's sample, ms; pre: index of the
    peak's sample."""

    def __init__(self, row: dict):
        values = decode_wave(row["wave"], row["n"], row["axes"])
        if values is None:
            raise ValueError("damaged waveform")
        self.acc_g = values[:, :3] / 1000.0
        self.gyro_dps = values[:, 3:6] / 10.0 if row["axes"] == 6 else None
        self.pre = row["pre"]
        self.period_ms = row["period_us"] / 1000.0
        self.t_ms = (np.arange(row["n"]) - self.pre) * self.period_ms
