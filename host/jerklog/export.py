"""Exports from the store. The CSV event diary: one row per event, columns from events.py."""
from .events import COLUMN_NAMES, format_value
from .paths import atomic_output
from .timefmt import format_ms

DIARY_COLUMNS = ("time", "device", "region") + COLUMN_NAMES + ("boot", "seq")


def write_diary_csv(store, out_path, from_ms=None, to_ms=None, tz=None):
    """Write the event diary atomically; return the number of rows."""
    n = 0
    with atomic_output(out_path, newline="") as f:
        f.write(",".join(DIARY_COLUMNS) + "\n")
        for ev in store.events(from_ms, to_ms):
            ev["time"] = format_ms(ev["time_ms"], tz)
            ev["device"] = ev["device_id"]
            ev["boot"] = ev["boot_id"]
            ev["region"] = ev["region"] or "unknown"
            f.write(",".join(format_value(ev[c]) for c in DIARY_COLUMNS) + "\n")
            n += 1
    return n
