"""Reading the store into the frames the diary works on (events with their boot's region and
clock, thinned heartbeats, boots), and the small helpers those frames need."""
import numpy as np
import pandas as pd

from jerklog.diary.config import DAY_MS, MINUTE_MS
from jerklog.events import COLUMN_NAMES


def _day_text(day_index):
    return str(np.datetime64(int(day_index), "D"))


def _read_events(store, lo, hi, boots):
    """Events with time_ms in [lo, hi) in the store's order (time, device, seq), with their
    boot's region, epoch and clock."""
    names = ["device_id", "boot_id", "seq", "t_ms", "time_ms"] + list(COLUMN_NAMES)
    rows, ordered = store.event_rows(names, lo, hi)
    df = pd.DataFrame.from_records(rows, columns=names)
    for c in ("device_id", "boot_id", "seq", "t_ms", "time_ms"):
        df[c] = df[c].astype(np.int64)
    for c in ("duration_ms", "peak_g", "peak_dps", "confidence", "activity_g"):
        df[c] = pd.to_numeric(df[c]).astype(float)
    if not ordered and len(df):
        order = np.lexsort((df["seq"].to_numpy(), df["device_id"].to_numpy(),
                            df["time_ms"].to_numpy()))
        df = df.iloc[order].reset_index(drop=True)
    if len(boots):
        info = boots.set_index(["device_id", "boot_id"])[["region", "epoch_ms", "clock"]]
        got = info.reindex(pd.MultiIndex.from_arrays([df["device_id"], df["boot_id"]]))
        df["region"] = got["region"].to_numpy(dtype=object)
        df["boot_epoch_ms"] = pd.to_numeric(got["epoch_ms"]).to_numpy(dtype=float)
        df["clock"] = got["clock"].to_numpy(dtype=object)
    else:
        df["region"] = np.full(len(df), None, dtype=object)
        df["boot_epoch_ms"] = np.full(len(df), np.nan)
        df["clock"] = np.full(len(df), None, dtype=object)
    for c in ("kind", "axis", "context", "posture"):
        df[c] = df[c].astype(object)
    return df


def _read_heartbeats(store, step_ms):
    """All heartbeats thinned to about one per step_ms of uptime (the counters are
    cumulative, so fewer points lose only where, inside a step, a stall happened), as
    {(device_id, boot_id): int64 rows (uptime, samples, dropped, events, host)} by seq."""
    keep = MINUTE_MS if step_ms > MINUTE_MS else step_ms
    rows = store.heartbeat_rows(step_ms, keep)
    if not rows:
        return {}
    arr = np.array(rows, dtype=object)
    arr[arr == None] = 0  # noqa: E711  (elementwise)
    arr = arr.astype(np.int64)
    arr = arr[np.lexsort((arr[:, 2], arr[:, 1], arr[:, 0]))]
    key = arr[:, 0] * (1 << 32) + arr[:, 1]
    cuts = np.flatnonzero(np.diff(key)) + 1
    return {(int(p[0, 0]), int(p[0, 1])): p[:, 3:] for p in np.split(arr, cuts)}


def _read_boots(store):
    boots = pd.DataFrame(store.boots())
    if boots.empty:
        boots = pd.DataFrame(columns=["device_id", "boot_id", "first_seen_ms", "epoch_ms",
                                      "clock", "region", "rate_hz", "uptime_ms", "samples",
                                      "dropped", "events"])
    return boots


# Notes this close to a recording widen the diary's default range (a medication change the
# week before); notes further away do not: one mistyped year must not stretch every diary.
NOTE_REACH_MS = 31 * DAY_MS


def _extent_of_data(store):
    """The default range [first, last + 1) of a diary: the recording, widened by the notes
    within NOTE_REACH_MS of it; a store with notes only: the notes."""
    lo, hi = store.recorded_extent()
    if lo is None:
        lo, hi = store.notes_extent()
        return (None, None) if lo is None else (lo, hi + 1)
    n_lo, n_hi = store.notes_extent(lo - NOTE_REACH_MS, hi + NOTE_REACH_MS + 1)
    if n_lo is not None:
        lo, hi = min(lo, n_lo), max(hi, n_hi)
    return lo, hi + 1


def _site_name(region, device_id):
    if isinstance(region, str) and region.strip() and region != "unknown":
        return region
    return "device %d" % device_id


def _popcount(x):
    x = np.asarray(x, dtype=np.int64)
    n = np.zeros(x.shape, dtype=np.int64)
    for k in range(63):
        n += (x >> k) & 1
    return n
