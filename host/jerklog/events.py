"""The event record: one definition from which the events CSV, the store and the diary derive.

The wire carries integers (see jerklog_firmware.protocol.EVENT_FMT); here each becomes a
column with a unit. Columns are listed in the order they appear in every CSV.
"""
from jerklog.firmware import protocol

AXIS_NAMES = {1: "+x", -1: "-x", 2: "+y", -2: "-y", 3: "+z", -3: "-z", 0: ""}


class Column:
    """name, SQL type, unit ('' if none), description, and how to get it from a wire record."""

    def __init__(self, name, sql, unit, doc, from_wire):
        self.name = name
        self.sql = sql
        self.unit = unit
        self.doc = doc
        self.from_wire = from_wire


# Measured properties of one event, shared by `analyze`, the store and `export`.
EVENT_COLUMNS = (
    Column("duration_ms", "INTEGER", "ms",
           "time the event stayed above half its trigger level",
           lambda r: r["duration_ms"]),
    Column("peak_g", "REAL", "g", "peak dynamic acceleration magnitude (gravity removed)",
           lambda r: r["peak_mg"] / 1000.0),
    Column("peak_dps", "REAL", "deg/s", "peak rotation rate magnitude (empty without gyro)",
           lambda r: r["peak_ddps"] / 10.0),
    Column("kind", "TEXT", "", "jerk, negative (lapse against gravity) or trigger (button)",
           lambda r: protocol.KIND_NAMES.get(r["kind"], "unknown")),
    Column("axis", "TEXT", "", "dominant axis and sign of the acceleration at the peak, "
           "sensor frame", lambda r: AXIS_NAMES.get(r["axis"], "")),
    Column("context", "TEXT", "", "rest, active or asleep, from the seconds before the event",
           lambda r: protocol.CONTEXT_NAMES.get(r["context"], "unknown")),
    Column("posture", "TEXT", "", "upright or lying, from gravity (trunk and thigh sensors)",
           lambda r: protocol.POSTURE_NAMES.get(r["posture"], "unknown")),
    Column("confidence", "REAL", "", "0..1: how clearly the event stands out from background",
           lambda r: round(r["confidence"] / 255.0, 3)),
    Column("activity_g", "REAL", "g", "background before the event (median 100 ms peak, 3 s)",
           lambda r: r["activity_mg"] / 1000.0),
)
COLUMN_NAMES = tuple(c.name for c in EVENT_COLUMNS)
# The diary CSV (`jerklog export --format csv`): where and when, the event, its identity.
DIARY_COLUMNS = ("time", "device", "region") + COLUMN_NAMES + ("boot", "seq")


def from_wire(record: dict, has_gyro: bool = True) -> dict:
    """Dict of EVENT_COLUMNS values from a decoded event record (or detector output)."""
    row = {c.name: c.from_wire(record) for c in EVENT_COLUMNS}
    if not has_gyro:
        row["peak_dps"] = None
    return row


def from_detector(det) -> dict:
    """The finished event held by a Detector, as a wire-style dict."""
    return {name: getattr(det, "ev_" + name) for name in protocol.EVENT_FIELDS}


def format_value(value) -> str:
    """CSV text for a column value: empty for None, compact decimals for floats."""
    if value is None:
        return ""
    if isinstance(value, float):
        return ("%.4f" % value).rstrip("0").rstrip(".") if value != int(value) else "%d" % value
    return str(value)
