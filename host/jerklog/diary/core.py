"""Diaries: where, how often, in what pattern and when the jerks happened, and how complete
the recording was, over any time range of the store.

Every definition (jerk, generalised/multifocal/focal, series, rhythm, sleep onset, waking,
night, recorded hours, medication windows) is written out in docs/diary.md; the names of
DiaryConfig's fields are the knobs that page refers to.

    d = Diary(store, from_ms, to_ms, tz="Europe/Berlin")
    d.events         one row per stored event (per sensor), with group, series, extent, when
    d.jerks          one row per jerk: events from several sensors within 50 ms are one jerk
    d.series         runs of jerks closer than series_gap_ms, with length, rate and rhythm
    d.per_day()      local days: recorded hours, counts, rates, day/night, extents
    d.summary()      the figures on the report's first page, as plain numbers

Times are Unix ms (UTC) inside; local dates and hours come from a Zones object, which may
change zone over time (travel). Nothing here writes the store.
"""
import dataclasses
import datetime as dt
import math
import os

import numpy as np
import pandas as pd

from jerklog import JerklogError
from jerklog.events import COLUMN_NAMES, format_value
from jerklog.files import atomic_output
from jerklog.localtime import parse_time
from jerklog.localtime import zone as zone_by_name

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
_QUARTER_MS = 900_000          # every real zone changes offset on a quarter hour (UTC)
_FAR = 2 ** 62

EXTENTS = ("generalised", "multifocal", "focal", "unclassified")
WHEN = ("rest", "active", "asleep", "sleep onset", "after waking", "unknown")
# A jerk seen by several sensors takes the most awake context any of them saw.
_CTX_CODE = {"unknown": 0, "asleep": 1, "rest": 2, "active": 3}
_CTX_NAME = np.array(["unknown", "asleep", "rest", "active"], dtype=object)
EXTRA_COLUMNS = ("series", "group", "extent", "when")


@dataclasses.dataclass
class DiaryConfig:
    """Every threshold the diary uses (docs/diary.md explains each)."""
    group_window_ms: int = 50            # events of several sensors this close: one jerk
    sure_confidence: float = 0.5         # a jerk this clear (its best sensor) is "sure"
    generalised_min_regions: int = 3     # ... seen by this many regions: generalised
    multifocal_window_ms: int = 30 * MINUTE_MS   # +- this around a one-region jerk ...
    multifocal_min_jerks: int = 2        # ... this many jerks in another region: multifocal
    series_gap_ms: int = 2000            # consecutive jerks at most this far apart chain
    series_min_jerks: int = 3            # a chain of at least this many jerks is a series
    rhythm_min_intervals: int = 3        # intervals a series needs before its CV is judged
    rhythmic_cv: float = 0.25            # CV of intervals at or below: rhythmic
    irregular_cv: float = 0.5            # at or above: irregular (random)
    night_start_hour: float = 22.0       # clock night, used when sleep was not recorded
    night_end_hour: float = 7.0
    sleep_merge_ms: int = 30 * MINUTE_MS      # asleep runs this close are one sleep
    min_sleep_ms: int = 2 * HOUR_MS           # a night uses recorded sleep if it has this much
    transition_max_gap_ms: int = 60 * MINUTE_MS  # onset/waking located only to within this
    onset_before_ms: int = 30 * MINUTE_MS     # 'sleep onset': this before the first asleep
    onset_after_ms: int = 10 * MINUTE_MS      # ... to this after it
    waking_after_ms: int = 30 * MINUTE_MS     # 'after waking': to this after the first awake
    medication_window_ms: int = 7 * DAY_MS    # rates this long before and after a change
    medication_min_hours: float = 24.0        # fewer recorded hours in a window: flagged
    trigger_window_ms: int = 60_000           # jerks within +- this of a trigger mark
    trend_min_day_hours: float = 6.0          # days recorded at least this long make the trend
    trend_min_days: int = 3
    trend_change_pct: float = 20.0            # fitted change over the period: rising/falling
    gap_min_ms: int = 15 * MINUTE_MS          # unrecorded stretches this long are listed gaps
    coverage_step_ms: int = 10 * MINUTE_MS    # heartbeats read about one per this much uptime


# -- time zones -----------------------------------------------------------------------------
def _local_name():
    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        try:
            link = os.path.realpath("/etc/localtime")
            if "zoneinfo/" in link:
                name = link.split("zoneinfo/", 1)[1]
        except OSError:
            name = ""
    return "local time" + (" (%s)" % name if name else "")


def _offset_ms(tz, ms):
    """UTC offset in ms of zone tz (None: this computer's) at Unix ms."""
    base = dt.datetime.fromtimestamp(ms // 1000, tz=dt.timezone.utc)
    return int(base.astimezone(tz).utcoffset().total_seconds() * 1000)


def offset_text(off_ms):
    """+01:00 style offset text, as datetime.isoformat writes it."""
    sign = "-" if off_ms < 0 else "+"
    s = abs(int(off_ms)) // 1000
    text = "%s%02d:%02d" % (sign, s // 3600, s // 60 % 60)
    return text + (":%02d" % (s % 60) if s % 60 else "")


class Zones:
    """The wearer's time zone over time: one zone, or a travel plan of zone changes.

    spec: None (this computer's zone), an IANA name, a tzinfo, a Zones, a list of
    (start, zone) pairs (start: Unix ms, ISO text or None for 'from the beginning'), or text
    'Europe/Berlin,2026-07-01T08:00=America/New_York,2026-07-15T18:00=Europe/Berlin'
    where a change time without an offset is read in the zone in force before it.
    """

    def __init__(self, spec=None):
        if isinstance(spec, Zones):
            self.starts, self.tzs, self.names = spec.starts, spec.tzs, spec.names
            self._cache = spec._cache
            return
        if isinstance(spec, str) and ("," in spec or "=" in spec):
            spec = self._parse_plan(spec)
        if spec is None or spec == "" or isinstance(spec, (str, dt.tzinfo)):
            spec = [(None, spec)]
        starts, tzs, names = [], [], []
        for start, z in spec:
            tz, name = self._zone(z)
            if start is None:
                if starts:
                    raise JerklogError("only the first time zone may lack a start time")
                start_ms = -_FAR
            elif isinstance(start, str):
                start_ms = parse_time(start, tzs[-1] if tzs else tz, "time zone change")
            else:
                start_ms = int(start)
            if starts and start_ms <= starts[-1]:
                raise JerklogError("time zone changes must be in time order")
            starts.append(start_ms)
            tzs.append(tz)
            names.append(name)
        if not starts:
            starts, tzs, names = [-_FAR], [None], [_local_name()]
        self.starts = np.array(starts, dtype=np.int64)
        self.tzs = tzs
        self.names = names
        self._cache = {}

    @staticmethod
    def _zone(z):
        if z is None or z == "" or z == "local":
            return None, _local_name()
        if isinstance(z, dt.tzinfo):
            return z, str(getattr(z, "key", None) or z)
        return zone_by_name(z), z

    @staticmethod
    def _parse_plan(text):
        items = [p.strip() for p in text.split(",") if p.strip()]
        plan = []
        for i, item in enumerate(items):
            if "=" in item:
                when, z = item.rsplit("=", 1)
                plan.append((when.strip(), z.strip()))
            elif i == 0:
                plan.append((None, item))
            else:
                raise JerklogError("time zone change %r: write TIME=ZONE, e.g. "
                                   "2026-07-01T08:00=America/New_York" % item)
        if plan and plan[0][0] is not None:
            plan.insert(0, (None, None))
        return plan

    @property
    def single(self):
        return len(self.tzs) == 1

    def index_at(self, ms):
        return int(np.searchsorted(self.starts, ms, side="right") - 1)

    def tz_at(self, ms):
        return self.tzs[self.index_at(ms)]

    def name_at(self, ms):
        return self.names[self.index_at(ms)]

    def offsets_ms(self, ms):
        """UTC offset (ms) in force at each Unix ms of an array."""
        ms = np.asarray(ms, dtype=np.int64)
        if ms.size == 0:
            return np.zeros(0, dtype=np.int64)
        nz = len(self.tzs)
        zi = np.searchsorted(self.starts, ms, side="right") - 1
        key = np.floor_divide(ms, _QUARTER_MS) * nz + zi
        uk, inv = np.unique(key, return_inverse=True)
        cache = self._cache
        vals = []
        for k in uk.tolist():
            v = cache.get(k)
            if v is None:
                v = cache[k] = _offset_ms(self.tzs[k % nz], (k // nz) * _QUARTER_MS)
            vals.append(v)
        vals = np.array(vals, dtype=np.int64)
        return vals[inv.reshape(ms.shape)]

    def local_ms(self, ms):
        ms = np.asarray(ms, dtype=np.int64)
        return ms + self.offsets_ms(ms)

    def parse_time(self, text, what="time"):
        """ISO 8601 -> Unix ms; without an offset, in the zone in force at that time."""
        ms = parse_time(text, self.tzs[0], what)
        for _ in range(2):  # settle on the zone in force at the instant found
            ms = parse_time(text, self.tz_at(ms), what)
        return ms

    def describe(self):
        if self.single:
            return self.names[0]
        parts = [self.names[0]]
        for start, name, tz in zip(self.starts[1:], self.names[1:], self.tzs[1:]):
            parts.append("from %s %s" % (format_iso(int(start), Zones([(None, tz)]))[:16],
                                         name))
        return ", ".join(parts)

    def __repr__(self):
        return "Zones(%s)" % self.describe()


def iso_times(ms, zones):
    """ISO 8601 local times with UTC offset, millisecond precision, for an array of Unix ms
    (as timefmt.format_ms, vectorised)."""
    ms = np.asarray(ms, dtype=np.int64)
    if ms.size == 0:
        return np.zeros(0, dtype="U29")
    off = zones.offsets_ms(ms)
    text = np.datetime_as_string((ms + off).astype("datetime64[ms]"), unit="ms")
    uo, inv = np.unique(off, return_inverse=True)
    suffix = np.array([offset_text(o) for o in uo.tolist()])[inv.reshape(ms.shape)]
    return np.char.add(text, suffix)


def format_iso(ms, zones=None, minutes=False):
    """One Unix ms as ISO 8601 local time with offset (minutes=True: no seconds)."""
    text = str(iso_times(np.array([ms]), Zones(zones))[0])
    if minutes:
        return text[:16] + text[23:]
    return text


def _day_text(day_index):
    return str(np.datetime64(int(day_index), "D"))


# -- reading the store ------------------------------------------------------------------------
def _read_events(store, lo, hi, boots):
    """Events with time_ms in [lo, hi) in the store's order (time, device, seq), with their
    boot's region, epoch and clock."""
    names = ["device_id", "boot_id", "seq", "t_ms", "time_ms"] + list(COLUMN_NAMES)
    where = "WHERE time_ms >= ? AND time_ms < ?"
    total = store.db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    inside = store.db.execute("SELECT COUNT(*) FROM events " + where, (lo, hi)).fetchone()[0]
    scan = inside > total * 0.3   # most of the table: a plain scan and a sort here is faster
    if scan:
        cur = store.db.execute("SELECT %s FROM events NOT INDEXED %s" % (", ".join(names),
                                                                         where), (lo, hi))
    else:
        cur = store.db.execute("SELECT %s FROM events %s ORDER BY time_ms, device_id, seq"
                               % (", ".join(names), where), (lo, hi))
    df = pd.DataFrame.from_records(cur.fetchall(), columns=names)
    for c in ("device_id", "boot_id", "seq", "t_ms", "time_ms"):
        df[c] = df[c].astype(np.int64)
    for c in ("duration_ms", "peak_g", "peak_dps", "confidence", "activity_g"):
        df[c] = pd.to_numeric(df[c]).astype(float)
    if scan and len(df):
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
    cur = store.db.execute(
        "SELECT device_id, boot_id, seq, uptime_ms, samples, dropped, events, host_ms "
        "FROM heartbeats WHERE uptime_ms %% %d < %d" % (int(step_ms), int(keep)))
    rows = cur.fetchall()
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


def _extent_of_data(store):
    vals = []
    row = store.db.execute("SELECT MIN(time_ms), MAX(time_ms) FROM events").fetchone()
    vals.append(row)
    row = store.db.execute("SELECT MIN(epoch_ms), MAX(epoch_ms + uptime_ms) FROM boots "
                           "WHERE epoch_ms IS NOT NULL").fetchone()
    vals.append(row)
    row = store.db.execute("SELECT MIN(time_ms), MAX(time_ms) FROM notes").fetchone()
    vals.append(row)
    mins = [v[0] for v in vals if v[0] is not None]
    maxs = [v[1] for v in vals if v[1] is not None]
    if not mins:
        return None, None
    return int(min(mins)), int(max(maxs)) + 1


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


# -- the minute grid: recorded time ----------------------------------------------------------
def _spread(acc, diff, a, b, f, g0, n):
    """Add f * (overlap in ms) of intervals [a, b) to the per-minute totals of a grid."""
    a = np.clip(a - g0, 0, n * MINUTE_MS)
    b = np.clip(b - g0, 0, n * MINUTE_MS)
    keep = b > a
    a, b, f = a[keep], b[keep], f[keep]
    ma, mb = a // MINUTE_MS, b // MINUTE_MS
    same = ma == mb
    np.add.at(acc, ma[same], f[same] * (b[same] - a[same]))
    o = ~same
    ma, mb, a, b, f = ma[o], mb[o], a[o], b[o], f[o]
    np.add.at(acc, ma, f * ((ma + 1) * MINUTE_MS - a))
    tail = mb < n
    np.add.at(acc, mb[tail], f[tail] * (b[tail] - mb[tail] * MINUTE_MS))
    np.add.at(diff, ma + 1, f * MINUTE_MS)
    np.add.at(diff, mb, -f * MINUTE_MS)


def _unwrap(col):
    """Undo u32 wrap-around of a counter that only grows (uptime, samples, ...)."""
    d = np.diff(col)
    if not (d < 0).any():
        return col
    wraps = np.concatenate([[0], np.cumsum(d < -(1 << 31))])
    return col + wraps * (1 << 32)


# -- the diary -----------------------------------------------------------------------------------
class Diary:
    """Everything the diary says about [from_ms, to_ms) of a store (None: all of it)."""

    def __init__(self, store, from_ms=None, to_ms=None, tz=None, config=None):
        self.config = config or DiaryConfig()
        self.zones = Zones(tz)
        if from_ms is None or to_ms is None:
            lo_d, hi_d = _extent_of_data(store)
            if lo_d is None:
                lo_d = hi_d = 0
            from_ms = lo_d if from_ms is None else from_ms
            to_ms = max(hi_d, from_ms) if to_ms is None else to_ms
        if to_ms < from_ms:
            raise JerklogError("the end of the diary's range is before its start")
        self.from_ms, self.to_ms = int(from_ms), int(to_ms)
        self._memo = {}
        notes = pd.DataFrame(store.notes(self.from_ms, self.to_ms),
                             columns=["id", "time_ms", "kind", "name", "dose", "text",
                                      "created_ms", "device_id"])
        self.notes = notes.astype(object).where(notes.notna(), None)
        cfg = self.config
        pad = max(DAY_MS, cfg.multifocal_window_ms, cfg.transition_max_gap_ms * 2)
        if (notes["kind"] == "medication").any():
            pad = max(pad, cfg.medication_window_ms)
        self._lo, self._hi = self.from_ms - pad, self.to_ms + pad
        self.boots = _read_boots(store)
        self.board_logs = store.board_logs()
        self.clock_corrections = store.clock_corrections()
        self._all = _read_events(store, self._lo, self._hi, self.boots)
        self._sites()
        self._grid()
        self._coverage(store)
        self._jerks()
        self._sleep()
        self._label_events()

    # -- set-up ------------------------------------------------------------------------------
    def _sites(self):
        ev, boots = self._all, self.boots
        reg = ev["region"]
        valid = reg.notna() & (reg.astype(str).str.strip() != "") & (reg != "unknown")
        ev["site"] = reg.where(valid, "device " + ev["device_id"].astype(str)).astype(object)
        boot_sites = {(int(b.device_id), int(b.boot_id)): _site_name(b.region, int(b.device_id))
                      for b in boots.itertuples()}
        self._boot_site = boot_sites
        names = sorted(set(ev["site"]) | set(boot_sites.values()))
        if len(names) > 62:
            raise JerklogError("more than 62 body regions in one diary")
        self.sites = names
        self._site_code = {s: i for i, s in enumerate(names)}
        ev["site_code"] = ev["site"].map(self._site_code).astype(np.int64)

    def _grid(self):
        self._g0 = (self._lo // MINUTE_MS) * MINUTE_MS
        self._n = max(1, -(-(self._hi - self._g0) // MINUTE_MS))
        starts = self._g0 + np.arange(self._n, dtype=np.int64) * MINUTE_MS
        self._min_start = starts
        local = self.zones.local_ms(starts)
        self._min_local = local
        self._min_day = np.floor_divide(local, DAY_MS)
        # Weight of each minute inside [from, to): partial at the two ends.
        w = (np.minimum(starts + MINUTE_MS, self.to_ms) - np.maximum(starts, self.from_ms))
        self._min_w = np.clip(w, 0, MINUTE_MS) / MINUTE_MS

    def _minute(self, ms):
        return np.clip((np.asarray(ms, dtype=np.int64) - self._g0) // MINUTE_MS, 0,
                       self._n - 1)

    def _coverage(self, store):
        """Recorded time per region and minute, from the boards' cumulative counters.

        A boot runs from uptime 0 (counters 0) through its heartbeats to its latest
        counters; between two points the fraction recorded is the samples counted over the
        samples its rate should have given (docs/diary.md, 'recorded time')."""
        n, g0 = self._n, self._g0
        ns = len(self.sites)
        self._estimated_boots = []
        ev = self._all
        step = self.config.coverage_step_ms
        heartbeats = _read_heartbeats(store, step)
        has_events = set(zip(ev["device_id"].tolist(), ev["boot_id"].tolist()))
        points, boot_index, spans = [], {}, []
        for b in self.boots.itertuples():
            dev, boot = int(b.device_id), int(b.boot_id)
            site = self._boot_site.get((dev, boot))
            if site not in self._site_code:
                continue
            epoch = None if pd.isna(b.epoch_ms) else int(b.epoch_ms)
            up = None if pd.isna(b.uptime_ms) else int(b.uptime_ms)
            if epoch is not None and (epoch >= self._hi or (up is not None and
                                                             epoch + up < self._lo)):
                continue
            rows = heartbeats.get((dev, boot), np.zeros((0, 5), dtype=np.int64))
            if up is not None and (not len(rows) or up > rows[-1, 0]):
                # The boot's latest counters (updated by every heartbeat, kept or not).
                last = [up] + [0 if pd.isna(v) else int(v)
                               for v in (b.samples, b.dropped, b.events)]
                last.append(int(rows[-1, 4]) + up - int(rows[-1, 0]) if len(rows) else
                            int(b.first_seen_ms))
                rows = np.vstack([rows, np.array([last], dtype=np.int64)])
            if not len(rows):
                if (dev, boot) in has_events:
                    spans.append((dev, boot))
                continue
            cols = [_unwrap(rows[:, i]) for i in range(4)]
            t = epoch + cols[0] if epoch is not None else rows[:, 4]
            t0 = epoch if epoch is not None else int(rows[0, 4] - cols[0][0])
            # The boot started at uptime 0 with its counters at 0.
            rate = 0.0 if pd.isna(b.rate_hz) else float(b.rate_hz)
            boot_index[(dev, boot)] = len(points)
            points.append((self._site_code[site], rate, np.concatenate([[t0], t]),
                           *[np.concatenate([[0], c]) for c in cols]))
        acc = np.zeros((ns, n))
        diff = np.zeros((ns, n + 1))
        # Counters spread evenly over their interval: [sum, its difference array] per region.
        drop = [np.zeros((ns, n)), np.zeros((ns, n + 1))]
        samp = [np.zeros((ns, n)), np.zeros((ns, n + 1))]
        missing = [np.zeros((ns, n)), np.zeros((ns, n + 1))]
        if points:
            lens = [len(p[2]) for p in points]
            bidx = np.repeat(np.arange(len(points)), lens)
            T, U, S, DR, E = [np.concatenate([p[i] for p in points]) for i in range(2, 7)]
            site_of = np.array([p[0] for p in points], dtype=np.int64)[bidx[1:]]
            rate = np.array([p[1] for p in points])[bidx[1:]]
            same = bidx[1:] == bidx[:-1]
            a, bb = T[:-1], T[1:]
            dup = np.diff(U).astype(float)
            dsamp = np.diff(S).astype(float)
            expected = dup * rate / 1000.0
            with np.errstate(divide="ignore", invalid="ignore"):
                f = np.where(rate > 0,
                             np.where(expected > 0, np.clip(dsamp / expected, 0, 1), 0.0),
                             (dsamp > 0).astype(float))
            f = np.where(same, f, 0.0)
            # Events the board counted but the store lacks (not yet collected from its log).
            stored = np.zeros(len(a))
            if len(ev) and boot_index:
                keys = pd.MultiIndex.from_arrays([ev["device_id"], ev["boot_id"]])
                lookup = pd.Series(list(boot_index.values()),
                                   index=pd.MultiIndex.from_tuples(list(boot_index)))
                k = lookup.reindex(keys).to_numpy()
                ok = ~np.isnan(k)
                ek = k[ok].astype(np.int64) * (1 << 44) + ev["t_ms"].to_numpy()[ok]
                pk = bidx * (1 << 44) + U
                pos = np.searchsorted(pk, ek, side="left") - 1
                good = (pos >= 0) & (pos < len(a))
                good[good] &= same[pos[good]]
                stored = np.bincount(pos[good], minlength=len(a)).astype(float)
            lack = np.where(same, np.maximum(np.diff(E) - stored, 0), 0)
            inside = same & (a >= self._lo) & (bb < self._hi)
            span = np.maximum(bb - a, 1).astype(float)
            ddrop = np.diff(DR)
            for s in range(ns):
                sel = same & (site_of == s)
                if not sel.any():
                    continue
                A, B = a[sel], bb[sel]
                _spread(acc[s], diff[s], A, B, f[sel], g0, n)
                _spread(drop[0][s], drop[1][s], A, B, ddrop[sel] / span[sel], g0, n)
                _spread(samp[0][s], samp[1][s], A, B, dsamp[sel] / span[sel], g0, n)
                sel &= inside
                _spread(missing[0][s], missing[1][s], a[sel], bb[sel], lack[sel] / span[sel],
                        g0, n)
        for dev, boot in spans:
            # No counters at all: the span of its events, flagged as an estimate.
            t = ev.loc[(ev.device_id == dev) & (ev.boot_id == boot), "time_ms"].to_numpy()
            s = self._site_code[self._boot_site[(dev, boot)]]
            _spread(acc[s], diff[s], t[:1], t[-1:] + 1, np.ones(1), g0, n)
            self._estimated_boots.append((dev, boot))
        cov = acc + np.cumsum(diff, axis=1)[:, :n]
        self.cov = np.clip(cov / MINUTE_MS, 0.0, 1.0)    # fraction of each minute recorded
        self.cov_any = self.cov.max(axis=0) if ns else np.zeros(n)
        self._drop, self._samp, self._missing = [
            x[0] + np.cumsum(x[1], axis=1)[:, :n] for x in (drop, samp, missing)]

    def _jerks(self):
        cfg = self.config
        ev = self._all
        is_jerk = (ev["kind"] != "trigger").to_numpy()
        ev["is_jerk"] = is_jerk
        jv = ev[is_jerk]
        t = jv["time_ms"].to_numpy()
        n = len(t)
        gid = np.zeros(n, dtype=np.int64)
        g, start, window = -1, None, cfg.group_window_ms
        for i, ti in enumerate(t.tolist()):
            if g < 0 or ti - start > window:
                g += 1
                start = ti
            gid[i] = g
        ng = g + 1
        starts = np.flatnonzero(np.diff(np.concatenate([[-1], gid]))) if n else np.zeros(0,
                                                                                     int)
        bits = (np.int64(1) << jv["site_code"].to_numpy().astype(np.int64)) if n else \
            np.zeros(0, np.int64)
        ctx = jv["context"].map(_CTX_CODE).fillna(0).to_numpy().astype(np.int64)
        G = pd.DataFrame({"time_ms": t[starts] if n else np.zeros(0, np.int64)})
        if n:
            G["n_events"] = np.diff(np.concatenate([starts, [n]]))
            G["site_mask"] = np.bitwise_or.reduceat(bits, starts)
            G["ctx"] = np.maximum.reduceat(ctx, starts)
            for col in ("peak_g", "peak_dps", "duration_ms", "confidence"):
                v = jv[col].to_numpy(dtype=float)
                G[col] = pd.Series(v).groupby(gid).max().to_numpy()
            G["kind"] = jv["kind"].to_numpy()[starts]
        else:
            for col in ("n_events", "site_mask", "ctx"):
                G[col] = np.zeros(0, np.int64)
            for col in ("peak_g", "peak_dps", "duration_ms", "confidence"):
                G[col] = np.zeros(0)
            G["kind"] = np.zeros(0, dtype=object)
        ev["gid"] = -1
        ev.loc[is_jerk, "gid"] = gid
        G["n_regions"] = _popcount(G["site_mask"].to_numpy())
        # Regions recording at that minute (a region that saw the jerk was recording).
        m = self._minute(G["time_ms"].to_numpy())
        worn = np.zeros(ng, dtype=np.int64)
        for s in range(len(self.sites)):
            worn |= np.where(self.cov[s][m] > 0, np.int64(1) << s, 0)
        worn |= G["site_mask"].to_numpy()
        G["n_worn"] = _popcount(worn)
        self._classify(G)
        um, inv = np.unique(G["site_mask"].to_numpy(), return_inverse=True)
        G["site_text"] = np.array([self._mask_text(m_) for m_ in um.tolist()] + [""],
                                  dtype=object)[inv.reshape(-1)] if ng else \
            np.zeros(0, dtype=object)
        # Series: runs of jerks closer than series_gap_ms.
        tg = G["time_ms"].to_numpy()
        gaps = np.diff(tg)
        run = np.concatenate([[0], np.cumsum(gaps > cfg.series_gap_ms)]) if ng else \
            np.zeros(0, np.int64)
        size = np.bincount(run)[run] if ng else np.zeros(0, np.int64)
        in_series = size >= cfg.series_min_jerks
        G["run"] = run
        G["series_raw"] = np.where(in_series, run, -1)
        G["iti_ms"] = np.concatenate([[np.nan], gaps.astype(float)]) if ng else np.zeros(0)
        G["in_range"] = (tg >= self.from_ms) & (tg < self.to_ms)
        G["minute"] = m
        self._G = G

    def _mask_text(self, mask):
        return "+".join(s for i, s in enumerate(self.sites) if (int(mask) >> i) & 1)

    def _classify(self, G):
        cfg = self.config
        nr, nw = G["n_regions"].to_numpy(), G["n_worn"].to_numpy()
        gen = (nr >= cfg.generalised_min_regions) | ((nw >= 2) & (nr >= nw))
        uncl = ~gen & (nw <= 1)
        multi = ~gen & (nr >= 2)
        single = ~gen & ~uncl & (nr == 1)
        t = G["time_ms"].to_numpy()
        mask = G["site_mask"].to_numpy()
        ng = ~gen
        W = cfg.multifocal_window_ms
        per_site = [np.sort(t[ng & (((mask >> s) & 1) == 1)]) for s in range(len(self.sites))]
        for s in range(len(self.sites)):
            idx = np.flatnonzero(single & (mask == (np.int64(1) << s)))
            if not len(idx):
                continue
            ts = t[idx]
            hit = np.zeros(len(idx), dtype=bool)
            for o in range(len(self.sites)):
                if o == s or not len(per_site[o]):
                    continue
                cnt = (np.searchsorted(per_site[o], ts + W, side="right")
                       - np.searchsorted(per_site[o], ts - W, side="left"))
                hit |= cnt >= cfg.multifocal_min_jerks
            multi[idx[hit]] = True
        extent = np.full(len(t), "focal", dtype=object)
        extent[multi] = "multifocal"
        extent[uncl] = "unclassified"
        extent[gen] = "generalised"
        G["extent"] = extent

    def _sleep(self):
        """Sleep episodes from the asleep context, their onset and waking, and night."""
        cfg = self.config
        G = self._G
        ctx = G["ctx"].to_numpy()
        t = G["time_ms"].to_numpy()
        known = ctx > 0
        tk, ak = t[known], ctx[known] == _CTX_CODE["asleep"]
        episodes = []
        if ak.any():
            edges = np.diff(np.concatenate([[0], ak.astype(np.int8), [0]]))
            r_start, r_end = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
            runs = []
            for s_, e_ in zip(r_start.tolist(), r_end.tolist()):
                if runs and tk[s_] - tk[runs[-1][1]] <= cfg.sleep_merge_ms:
                    runs[-1][1] = e_
                else:
                    runs.append([s_, e_])
            for s_, e_ in runs:
                b, c = int(tk[s_]), int(tk[e_])
                a = int(tk[s_ - 1]) if s_ > 0 else None
                d = int(tk[e_ + 1]) if e_ + 1 < len(tk) else None
                onset_ok = a is not None and b - a <= cfg.transition_max_gap_ms
                wake_ok = d is not None and d - c <= cfg.transition_max_gap_ms
                episodes.append(dict(
                    first_asleep_ms=b, last_asleep_ms=c, last_awake_before_ms=a,
                    first_awake_after_ms=d, onset_located=onset_ok, waking_located=wake_ok,
                    onset_ms=(a + b) // 2 if onset_ok else b,
                    waking_ms=(c + d) // 2 if wake_ok else c))
        S = pd.DataFrame(episodes, columns=[
            "first_asleep_ms", "last_asleep_ms", "last_awake_before_ms",
            "first_awake_after_ms", "onset_located", "waking_located", "onset_ms",
            "waking_ms"])
        # 'when': the jerk's own context, or sleep onset / after waking around transitions.
        when = _CTX_NAME[ctx].copy()
        for e in S.itertuples():
            if e.waking_located:
                lo = np.searchsorted(t, e.last_asleep_ms, side="right")
                hi = np.searchsorted(t, e.first_awake_after_ms + cfg.waking_after_ms,
                                     side="right")
                when[lo:hi] = "after waking"
        for e in S.itertuples():
            if e.onset_located:
                lo = np.searchsorted(t, e.first_asleep_ms - cfg.onset_before_ms, side="left")
                hi = np.searchsorted(t, e.first_asleep_ms + cfg.onset_after_ms, side="right")
                when[lo:hi] = "sleep onset"
        G["when"] = when
        # Night: recorded sleep where a night has enough of it, else the clock's night hours.
        n = self._n
        hour = (self._min_local % DAY_MS) / HOUR_MS
        ns_, ne_ = cfg.night_start_hour, cfg.night_end_hour
        clock = ((hour >= ns_) | (hour < ne_)) if ns_ > ne_ else ((hour >= ns_) & (hour < ne_))
        key = np.floor_divide(self._min_local - 12 * HOUR_MS, DAY_MS)
        self._night_key = key
        sleep = np.zeros(n)
        sdiff = np.zeros(n + 1)
        if len(S):
            a = S["onset_ms"].to_numpy(dtype=np.int64)
            b = S["waking_ms"].to_numpy(dtype=np.int64) + 1
            _spread(sleep, sdiff, a, b, np.ones(len(a)), self._g0, n)
        sleep = (sleep + np.cumsum(sdiff)[:n]) >= MINUTE_MS / 2
        k0 = key.min()
        sleep_minutes = np.bincount(key - k0, weights=sleep.astype(float))
        use_sleep = sleep_minutes * MINUTE_MS >= cfg.min_sleep_ms
        self._use_sleep = use_sleep
        self._k0 = k0
        self.night = np.where(use_sleep[key - k0], sleep, clock)
        G["night"] = self.night[G["minute"].to_numpy()]
        S["night_of"] = [_day_text(np.floor_divide(v - 12 * HOUR_MS + off, DAY_MS))
                         for v, off in zip(S["onset_ms"].tolist(),
                                           self.zones.offsets_ms(S["onset_ms"].to_numpy(
                                               dtype=np.int64)).tolist())]
        in_r = (S["last_asleep_ms"] >= self.from_ms) & (S["first_asleep_ms"] < self.to_ms)
        self.sleep = S[in_r].reset_index(drop=True)

    def _label_events(self):
        G, ev = self._G, self._all
        rng = G["in_range"].to_numpy()
        multi = G["n_events"].to_numpy() >= 2
        group_no = np.where(rng & multi, np.cumsum(rng & multi), 0)
        sraw = G["series_raw"].to_numpy()
        ok = rng & (sraw >= 0)
        series_no = np.zeros(len(G), dtype=np.int64)
        if ok.any():
            codes, _ = pd.factorize(sraw[ok])
            series_no[ok] = codes + 1
        G["group"] = group_no
        G["series"] = series_no
        gid = ev["gid"].to_numpy()
        has = gid >= 0
        for col in ("group", "series"):
            v = np.zeros(len(ev), dtype=np.int64)
            v[has] = G[col].to_numpy()[gid[has]]
            ev[col] = v
        for col in ("extent", "when"):
            v = np.full(len(ev), "", dtype=object)
            v[has] = G[col].to_numpy()[gid[has]]
            ev[col] = v
        night = np.zeros(len(ev), dtype=bool)
        night[has] = G["night"].to_numpy()[gid[has]]
        ev["night"] = night
        tm = ev["time_ms"].to_numpy()
        ev_in = (tm >= self.from_ms) & (tm < self.to_ms)
        self.events = ev[ev_in].reset_index(drop=True)
        self.jerks = G[rng].reset_index(drop=True)
        seen = set(self.events["site"])
        inside = self._min_w > 0
        # Regions that recorded or saw something in the range (the store may know more).
        self.active_sites = [s_ for i, s_ in enumerate(self.sites)
                             if s_ in seen or (self.cov[i] * inside).sum() > 0]
        self.series = self._series_table()
        ev_local = self.zones.local_ms(self.events["time_ms"].to_numpy())
        self.events["day"] = np.floor_divide(ev_local, DAY_MS)
        self.events["hour"] = (ev_local % DAY_MS) // HOUR_MS
        jl = self.zones.local_ms(self.jerks["time_ms"].to_numpy())
        self.jerks["day"] = np.floor_divide(jl, DAY_MS)
        self.jerks["hour"] = (jl % DAY_MS) // HOUR_MS

    def _series_table(self):
        cfg = self.config
        J = self._G[self._G["series"] > 0]
        cols = ["series", "start_ms", "end_ms", "jerks", "duration_s", "rate_hz",
                "median_interval_ms", "cv", "rhythm", "extent"]
        if J.empty:
            return pd.DataFrame(columns=cols)
        grp = J.groupby("series", sort=True)
        start = grp["time_ms"].min()
        end = grp["time_ms"].max()
        n = grp.size()
        # Intervals inside a series: each member's gap to the previous jerk, but the first's.
        inner = J[J["series_raw"].eq(J["series_raw"].shift())]
        ig = inner.groupby("series")["iti_ms"]
        mean = ig.mean().reindex(n.index)
        std = ig.std(ddof=0).reindex(n.index)
        med = ig.median().reindex(n.index)
        cv = std / mean
        n_int = (n - 1)
        cv = cv.where(n_int >= 2)
        rhythm = np.where(n_int < cfg.rhythm_min_intervals, "too short",
                          np.where(cv <= cfg.rhythmic_cv, "rhythmic",
                                   np.where(cv >= cfg.irregular_cv, "irregular",
                                            "semi-regular")))
        dur = (end - start) / 1000.0
        extent = J.groupby(["series", "extent"]).size().unstack(fill_value=0).idxmax(axis=1)
        extent = extent.reindex(n.index)
        return pd.DataFrame({"series": n.index, "start_ms": start.to_numpy(),
                             "end_ms": end.to_numpy(), "jerks": n.to_numpy(),
                             "duration_s": dur.to_numpy(),
                             "rate_hz": np.where(dur > 0, n_int / dur.replace(0, np.nan), np.nan),
                             "median_interval_ms": med.to_numpy(), "cv": cv.to_numpy(),
                             "rhythm": rhythm, "extent": extent.to_numpy()})

    # -- recorded time -----------------------------------------------------------------------
    def recorded_hours(self, site=None, mask=None):
        """Hours recorded in the range by a region (None: by any sensor), optionally only
        minutes where mask is true."""
        cov = self.cov_any if site is None else self.cov[self._site_code[site]]
        w = cov * self._min_w
        if mask is not None:
            w = w * mask
        return float(w.sum() / 60.0)

    @property
    def period_hours(self):
        return (self.to_ms - self.from_ms) / HOUR_MS

    def _in_range_days(self):
        w = self._min_w > 0
        return np.unique(self._min_day[w])

    # -- frequency ---------------------------------------------------------------------------
    def per_day(self):
        """One row per local date: recorded hours, jerks, rates, extents, day and night."""
        if ("per_day",) in self._memo:
            return self._memo[("per_day",)]
        self._memo[("per_day",)] = out = self._per_day()
        return out

    def _per_day(self):
        days = self._in_range_days()
        if not len(days):
            return pd.DataFrame()
        d0 = days[0]
        nd = int(days[-1] - d0 + 1)
        w = self._min_w
        idx = self._min_day - d0
        ok = (w > 0) & (idx >= 0) & (idx < nd)
        hours = np.bincount(idx[ok], weights=(self.cov_any * w)[ok], minlength=nd) / 60
        period = np.bincount(idx[ok], weights=w[ok], minlength=nd) / 60
        night_h = np.bincount(idx[ok], weights=(self.cov_any * w * self.night)[ok],
                              minlength=nd) / 60
        J = self.jerks
        jd = (J["day"].to_numpy() - d0).astype(np.int64)
        out = pd.DataFrame(index=pd.RangeIndex(nd))
        out["date"] = [_day_text(d0 + i) for i in range(nd)]
        first = np.full(nd, -1, dtype=np.int64)
        sel = np.flatnonzero(ok)
        first_pos = np.unique(idx[sel], return_index=True)
        first[first_pos[0]] = self._min_start[sel[first_pos[1]]]
        out["day_start"] = [format_iso(max(int(v), self.from_ms), self.zones)
                            if v >= 0 else "" for v in first]
        offs = {}
        for i, o in zip(idx[ok].tolist(), (self._min_local - self._min_start)[ok].tolist()):
            offs.setdefault(i, set()).add(o)
        out["utc_offset"] = [" ".join(offset_text(o) for o in sorted(offs.get(i, ())))
                             for i in range(nd)]
        out["period_hours"] = period
        out["hours"] = hours
        out["jerks"] = np.bincount(jd, minlength=nd)
        out["per_hour"] = np.where(hours > 0, out["jerks"] / np.maximum(hours, 1e-9), np.nan)
        for ex in EXTENTS:
            out[ex] = np.bincount(jd, weights=(J["extent"] == ex).to_numpy(), minlength=nd)
        nightj = J["night"].to_numpy().astype(bool)
        out["day_jerks"] = np.bincount(jd[~nightj], minlength=nd)
        out["night_jerks"] = np.bincount(jd[nightj], minlength=nd)
        out["day_hours"] = hours - night_h
        out["night_hours"] = night_h
        out["in_series"] = np.bincount(jd, weights=(J["series"] > 0).to_numpy(), minlength=nd)
        out["negative"] = np.bincount(jd, weights=(J["kind"] == "negative").to_numpy(),
                                      minlength=nd)
        ev = self.events
        trig = ev[ev["kind"] == "trigger"]
        out["triggers"] = np.bincount((trig["day"].to_numpy() - d0).astype(np.int64),
                                      minlength=nd)[:nd]
        meds = self.medication_notes()
        mtext = {}
        for r in meds.itertuples():
            mtext.setdefault(int(r.day - d0), []).append(r.label)
        out["medication"] = ["; ".join(mtext.get(i, [])) for i in range(nd)]
        for c in ("jerks", "day_jerks", "night_jerks", "in_series", "negative", "triggers") + \
                EXTENTS:
            out[c] = out[c].astype(np.int64)
        return out

    def per_day_region(self):
        """One row per local date and region (with anything recorded or seen): hours,
        the region's events by extent, day/night and context, strength, dropped samples,
        events missing. The summary CSV's region rows."""
        key = ("per_day_region",)
        if key in self._memo:
            return self._memo[key]
        days = self._in_range_days()
        if not len(days):
            return pd.DataFrame()
        d0 = days[0]
        nd = int(days[-1] - d0 + 1)
        ns = len(self.sites)
        w = self._min_w
        idx = self._min_day - d0
        ok = (w > 0) & (idx >= 0) & (idx < nd)
        inside = w

        def per_site(values):
            out = np.stack([np.bincount(idx[ok], weights=values[s][ok], minlength=nd)[:nd]
                            for s in range(ns)]) if ns else np.zeros((0, nd))
            return np.clip(out, 0, None)

        hours = per_site(self.cov * w) / 60
        dropped = per_site(self._drop * inside)
        samples = per_site(self._samp * inside)
        missing = per_site(self._missing * inside)
        ev = self.events
        E = ev[ev["is_jerk"]]
        cell = E["site_code"].to_numpy() * nd + (E["day"].to_numpy() - d0).astype(np.int64)
        size = ns * nd

        def count(mask=None):
            wts = None if mask is None else np.asarray(mask, dtype=float)
            return np.bincount(cell, weights=wts, minlength=size)[:size].reshape(ns, nd)

        cols = dict(events=count())
        for ex in EXTENTS:
            cols[ex] = count(E["extent"] == ex)
        cols["in_series"] = count(E["series"] > 0)
        cols["night"] = count(E["night"])
        cols["day"] = cols["events"] - cols["night"]
        for wname in WHEN:
            cols[wname] = count(E["when"] == wname)
        cols["negative"] = count(E["kind"] == "negative")
        cols["sure"] = count(E["confidence"] >= self.config.sure_confidence)
        stats = E.assign(cell=cell).groupby("cell").agg(
            peak_g_median=("peak_g", "median"), peak_g_max=("peak_g", "max"),
            peak_dps_median=("peak_dps", "median"),
            duration_ms_median=("duration_ms", "median"))
        sc, di = np.meshgrid(np.arange(ns), np.arange(nd), indexing="ij")
        keep = (hours > 0) | (cols["events"] > 0) | (samples > 0)
        sc, di = sc[keep], di[keep]
        devices = {site: " ".join(str(d) for d in sorted(
            {d for (d, b), s_ in self._boot_site.items() if s_ == site})) for site in self.sites}
        out = pd.DataFrame({"date": [_day_text(d0 + i) for i in di.tolist()],
                            "region": [self.sites[i] for i in sc.tolist()],
                            "devices": [devices[self.sites[i]] for i in sc.tolist()],
                            "hours": hours[keep]})
        out["events"] = cols["events"][keep].astype(np.int64)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["per_hour"] = np.where(out["hours"] > 0, out["events"] / out["hours"], np.nan)
        for c in list(EXTENTS) + ["in_series", "day", "night"] + list(WHEN) + ["negative",
                                                                                "sure"]:
            out[c] = cols[c][keep].astype(np.int64)
        st = stats.reindex(sc * nd + di)
        for c in stats.columns:
            out[c] = st[c].to_numpy()
        out["samples"] = np.rint(samples[keep]).astype(np.int64)
        out["dropped_samples"] = np.rint(dropped[keep]).astype(np.int64)
        tot = out["samples"] + out["dropped_samples"]
        out["dropped_pct"] = np.where(tot > 0, 100.0 * out["dropped_samples"] /
                                      tot.where(tot > 0, 1), np.nan)
        out["events_missing"] = np.rint(missing[keep]).astype(np.int64)
        out = out.sort_values(["date", "region"], kind="stable").reset_index(drop=True)
        self._memo[key] = out
        return out

    def per_minute(self):
        """Jerks per clock minute (Unix minute start -> count), minutes with any jerk."""
        m = (self.jerks["time_ms"].to_numpy() // MINUTE_MS) * MINUTE_MS
        return pd.Series(m).value_counts().sort_index()

    def hour_matrix(self, site=None):
        """(dates, counts[day, hour], recorded_hours[day, hour]) for a region's events
        (site=None: all jerks)."""
        days = self._in_range_days()
        if not len(days):
            return [], np.zeros((0, 24)), np.zeros((0, 24))
        d0 = days[0]
        nd = int(days[-1] - d0 + 1)
        w = self._min_w
        ok = w > 0
        hour = (self._min_local % DAY_MS) // HOUR_MS
        cell = (self._min_day - d0) * 24 + hour
        cov = self.cov_any if site is None else self.cov[self._site_code[site]]
        hours = np.bincount(cell[ok], weights=(cov * w)[ok], minlength=nd * 24)[:nd * 24] / 60
        if site is None:
            J = self.jerks
        else:
            J = self.events[(self.events["site"] == site) & self.events["is_jerk"]]
        c = (J["day"].to_numpy() - d0) * 24 + J["hour"].to_numpy()
        counts = np.bincount(c.astype(np.int64), minlength=nd * 24)[:nd * 24]
        dates = [_day_text(d0 + i) for i in range(nd)]
        return dates, counts.reshape(nd, 24), hours.reshape(nd, 24)

    def frequency(self):
        cfg = self.config
        J = self.jerks
        n = len(J)
        hours = self.recorded_hours()
        night_h = self.recorded_hours(mask=self.night)
        day_h = hours - night_h
        nj = int(J["night"].sum()) if n else 0
        pm = self.per_minute()
        ph = J.groupby(["day", "hour"]).size() if n else pd.Series(dtype=int)
        days = self.per_day()
        full = days[days["hours"] >= cfg.trend_min_day_hours] if len(days) else days
        per_day_rates = (full["jerks"] / full["hours"] * 24) if len(full) else pd.Series([])
        k0 = self._k0
        keys = self._night_key
        wmask = (self._min_w > 0) & (self.cov_any > 0)
        nights = np.unique(keys[wmask]) if wmask.any() else np.zeros(0, np.int64)
        from_sleep = int(self._use_sleep[nights - k0].sum()) if len(nights) else 0
        out = dict(
            jerks=n, events=int(self.events["is_jerk"].sum()),
            sure=int((J["confidence"] >= cfg.sure_confidence).sum()) if n else 0,
            negative=int((J["kind"] == "negative").sum()) if n else 0,
            hours=hours, per_hour=n / hours if hours > 0 else None,
            per_24h=n / hours * 24 if hours > 0 else None,
            max_per_minute=int(pm.max()) if len(pm) else 0,
            max_minute_ms=int(pm.idxmax()) if len(pm) else None,
            minutes_5_or_more=int((pm >= 5).sum()) if len(pm) else 0,
            max_per_hour=int(ph.max()) if len(ph) else 0,
            day_jerks=n - nj, night_jerks=nj, day_hours=day_h, night_hours=night_h,
            day_per_hour=(n - nj) / day_h if day_h > 0 else None,
            night_per_hour=nj / night_h if night_h > 0 else None,
            nights=len(nights), nights_from_sleep=from_sleep,
            nights_from_clock=len(nights) - from_sleep,
            per_day_median=float(per_day_rates.median()) if len(per_day_rates) else None,
            per_day_min=float(per_day_rates.min()) if len(per_day_rates) else None,
            per_day_max=float(per_day_rates.max()) if len(per_day_rates) else None,
            full_days=len(full))
        if len(ph):
            (d, h) = ph.idxmax()
            t = int(J["time_ms"][(J["day"] == d) & (J["hour"] == h)].iloc[0])
            off = int(self.zones.offsets_ms(np.array([t]))[0])
            out["max_hour"] = "%s %02d:00 %s" % (_day_text(d), h, offset_text(off))
        else:
            out["max_hour"] = None
        return out

    def trend(self):
        """Daily rate (jerks per recorded hour) across days recorded long enough."""
        cfg = self.config
        days = self.per_day()
        out = dict(days=0, slope_per_week=None, change_pct_per_week=None, first_rate=None,
                   last_rate=None, direction="not enough days")
        if not len(days):
            return out
        ok = days[days["hours"] >= cfg.trend_min_day_hours]
        out["days"] = len(ok)
        if len(ok) < cfg.trend_min_days:
            return out
        x = ok.index.to_numpy(dtype=float)
        y = (ok["jerks"] / ok["hours"]).to_numpy()
        slope = float(np.polyfit(x, y, 1)[0]) if np.ptp(x) > 0 else 0.0
        half = len(ok) // 2
        first, last = float(y[:half].mean()), float(y[len(ok) - half:].mean())
        mean = float(y.mean())
        pct = 100.0 * slope * 7 / mean if mean > 0 else 0.0
        span = float(np.ptp(x))
        over = 100.0 * slope * span / mean if mean > 0 else 0.0
        cut = cfg.trend_change_pct
        out.update(slope_per_week=slope * 7, change_pct_per_week=pct, change_pct=over,
                   first_rate=first, last_rate=last, half_days=half,
                   direction=("rising" if over >= cut else "falling" if over <= -cut else
                              "stable"))
        return out

    # -- pattern -----------------------------------------------------------------------------
    def intervals(self):
        """Intervals between consecutive jerks inside the range, ms."""
        t = self.jerks["time_ms"].to_numpy()
        return np.diff(t)

    def rhythm(self):
        cfg = self.config
        S = self.series
        J = self.jerks
        iti = self.intervals()
        judged = S[S["rhythm"] != "too short"] if len(S) else S
        out = dict(series=len(S),
                   jerks_in_series=int((J["series"] > 0).sum()) if len(J) else 0,
                   length_median=float(S["jerks"].median()) if len(S) else None,
                   length_min=int(S["jerks"].min()) if len(S) else None,
                   length_max=int(S["jerks"].max()) if len(S) else None,
                   duration_median_s=float(S["duration_s"].median()) if len(S) else None,
                   duration_min_s=float(S["duration_s"].min()) if len(S) else None,
                   duration_max_s=float(S["duration_s"].max()) if len(S) else None,
                   rate_median_hz=float(S["rate_hz"].median()) if len(S) else None,
                   cv_median=float(judged["cv"].median()) if len(judged) else None,
                   judged=len(judged),
                   interval_median_s=float(np.median(iti)) / 1000 if len(iti) else None,
                   interval_cv=float(iti.std() / iti.mean()) if len(iti) > 1 and
                   iti.mean() > 0 else None,
                   gap_s=cfg.series_gap_ms / 1000, min_jerks=cfg.series_min_jerks)
        for r in ("rhythmic", "semi-regular", "irregular", "too short"):
            out[r.replace("-", "_").replace(" ", "_")] = int((S["rhythm"] == r).sum()) \
                if len(S) else 0
        out["pct_in_series"] = 100.0 * out["jerks_in_series"] / len(J) if len(J) else None
        if out["judged"]:
            cvm = out["cv_median"]
            out["verdict"] = ("rhythmic" if cvm <= cfg.rhythmic_cv else "irregular"
                              if cvm >= cfg.irregular_cv else "semi-regular")
        else:
            out["verdict"] = "no series long enough to judge"
        return out

    # -- where -------------------------------------------------------------------------------
    def regions(self):
        """Per region: its events, how many of them were part of generalised, multifocal,
        focal or unclassified jerks, its recorded hours and rate."""
        ev = self.events[self.events["is_jerk"]]
        rows = []
        for site in self.sites:
            g = ev[ev["site"] == site]
            h = self.recorded_hours(site)
            devs = sorted({d for (d, b), s in self._boot_site.items() if s == site})
            row = dict(region=site, devices=" ".join(str(d) for d in devs), events=len(g),
                       hours=h, per_hour=len(g) / h if h > 0 else None)
            for ex in EXTENTS:
                row[ex] = int((g["extent"] == ex).sum())
            if h > 0 or len(g):
                rows.append(row)
        return pd.DataFrame(rows, columns=["region", "devices", "events", "hours",
                                           "per_hour"] + list(EXTENTS))

    def extents(self):
        J = self.jerks
        return {ex: int((J["extent"] == ex).sum()) for ex in EXTENTS}

    # -- when --------------------------------------------------------------------------------
    def contexts(self):
        J = self.jerks
        out = {w: int((J["when"] == w).sum()) for w in WHEN}
        S = self.sleep
        out["sleeps"] = len(S)
        out["onsets_located"] = int(S["onset_located"].sum()) if len(S) else 0
        out["wakings_located"] = int(S["waking_located"].sum()) if len(S) else 0
        return out

    # -- how strong --------------------------------------------------------------------------
    def strength(self, site=None):
        ev = self.events[self.events["is_jerk"]]
        if site is not None:
            ev = ev[ev["site"] == site]
        out = {}
        for col in ("peak_g", "peak_dps", "duration_ms"):
            v = ev[col].dropna().to_numpy(dtype=float)
            out[col] = dict(n=len(v), median=float(np.median(v)) if len(v) else None,
                            min=float(v.min()) if len(v) else None,
                            max=float(v.max()) if len(v) else None,
                            p10=float(np.percentile(v, 10)) if len(v) else None,
                            p90=float(np.percentile(v, 90)) if len(v) else None)
        return out

    # -- notes: medication, triggers ---------------------------------------------------------
    def medication_notes(self):
        N = self.notes[self.notes["kind"] == "medication"].copy()
        t = N["time_ms"].to_numpy(dtype=np.int64)
        N["day"] = np.floor_divide(self.zones.local_ms(t), DAY_MS)
        N["label"] = [" ".join(str(x) for x in (n, d) if isinstance(x, str) and x)
                      for n, d in zip(N["name"], N["dose"])]
        return N

    def medication(self):
        """Jerk rate in the window before and after each medication note."""
        cfg = self.config
        W = cfg.medication_window_ms
        G = self._G
        t_all = G["time_ms"].to_numpy()
        rows = []
        cum = np.concatenate([[0.0], np.cumsum(self.cov_any)])

        def hours(a, b):
            ma = int(np.clip((a - self._g0) // MINUTE_MS, 0, self._n))
            mb = int(np.clip((b - self._g0) // MINUTE_MS, 0, self._n))
            return (cum[mb] - cum[ma]) / 60.0

        for r in self.medication_notes().itertuples():
            t = int(r.time_ms)
            nb = int(np.searchsorted(t_all, t) - np.searchsorted(t_all, t - W))
            na = int(np.searchsorted(t_all, t + W) - np.searchsorted(t_all, t))
            hb, ha = hours(t - W, t), hours(t, t + W)
            rb = nb / hb if hb > 0 else None
            ra = na / ha if ha > 0 else None
            change = (100.0 * (ra - rb) / rb) if rb and ra is not None else None
            rows.append(dict(id=int(r.id), time_ms=t, name=r.name, dose=r.dose, label=r.label,
                             before_jerks=nb, before_hours=hb, before_per_hour=rb,
                             after_jerks=na, after_hours=ha, after_per_hour=ra,
                             change_pct=change,
                             few_data=(hb < cfg.medication_min_hours or
                                       ha < cfg.medication_min_hours)))
        return pd.DataFrame(rows, columns=[
            "id", "time_ms", "name", "dose", "label", "before_jerks", "before_hours",
            "before_per_hour", "after_jerks", "after_hours", "after_per_hour", "change_pct",
            "few_data"])

    def trigger_marks(self):
        """Trigger marks: the boards' trigger button and trigger notes, by time."""
        ev = self.events[self.events["kind"] == "trigger"]
        marks = [dict(time_ms=int(t), source="button", site=s, text="")
                 for t, s in zip(ev["time_ms"], ev["site"])]
        N = self.notes[self.notes["kind"] == "trigger"]
        for t, name, text in zip(N["time_ms"], N["name"], N["text"]):
            words = [x for x in (name, text) if isinstance(x, str) and x]
            marks.append(dict(time_ms=int(t), source="note", site="", text=": ".join(words)))
        return pd.DataFrame(sorted(marks, key=lambda m: m["time_ms"]),
                            columns=["time_ms", "source", "site", "text"])

    def triggers(self):
        cfg = self.config
        M = self.trigger_marks()
        J = self.jerks
        W = cfg.trigger_window_ms
        out = dict(marks=len(M), button=int((M["source"] == "button").sum()),
                   notes=int((M["source"] == "note").sum()), window_s=W / 1000,
                   jerks_near=0, expected_near=None)
        if len(M) and len(J):
            mt = np.sort(M["time_ms"].to_numpy(dtype=np.int64))
            t = J["time_ms"].to_numpy()
            i = np.searchsorted(mt, t)
            d_after = np.abs(t - mt[np.clip(i - 1, 0, len(mt) - 1)])
            d_before = np.abs(mt[np.clip(i, 0, len(mt) - 1)] - t)
            out["jerks_near"] = int((np.minimum(d_after, d_before) <= W).sum())
            hours = self.recorded_hours()
            if hours > 0:
                out["expected_near"] = len(J) / (hours * HOUR_MS) * 2 * W * len(M)
        return out

    # -- data quality ------------------------------------------------------------------------
    def gaps(self, site=None):
        """Stretches of at least gap_min_ms inside the range with nothing recorded by a
        region (None: by no sensor at all), as (start_ms, end_ms) pairs."""
        cov = self.cov_any if site is None else self.cov[self._site_code[site]]
        inside = self._min_w > 0
        empty = (cov <= 0) & inside
        edges = np.diff(np.concatenate([[0], empty.astype(np.int8), [0]]))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        out = []
        for a, b in zip(starts.tolist(), ends.tolist()):
            sa = max(int(self._min_start[a]), self.from_ms)
            sb = min(int(self._g0 + b * MINUTE_MS), self.to_ms)
            if sb - sa >= self.config.gap_min_ms:
                out.append((sa, sb))
        return out

    def quality(self):
        """Recorded hours, gaps, dropped samples, missing events, clocks, battery."""
        if ("quality",) not in self._memo:
            self._memo[("quality",)] = self._quality()
        return dict(self._memo[("quality",)])

    def _quality(self):
        w = self._min_w
        out = dict(period_hours=self.period_hours, hours=self.recorded_hours(),
                   battery="unknown", regions=[])
        out["pct"] = 100.0 * out["hours"] / out["period_hours"] if out["period_hours"] else None
        g = self.gaps()
        out["gaps"] = len(g)
        out["gap_hours"] = sum(b - a for a, b in g) / HOUR_MS
        out["longest_gap"] = max(g, key=lambda x: x[1] - x[0]) if g else None
        tot_d = tot_s = tot_m = 0
        for s, site in enumerate(self.sites):
            d = round(max(float((self._drop[s] * w).sum()), 0.0))
            sm = round(max(float((self._samp[s] * w).sum()), 0.0))
            mi = round(max(float((self._missing[s] * w).sum()), 0.0))
            tot_d, tot_s, tot_m = tot_d + d, tot_s + sm, tot_m + mi
            h = self.recorded_hours(site)
            sg = self.gaps(site)
            if site not in self.active_sites:
                continue
            out["regions"].append(dict(
                region=site, hours=h,
                pct=100.0 * h / self.period_hours if self.period_hours else None,
                gaps=len(sg), gap_hours=sum(b - a for a, b in sg) / HOUR_MS,
                dropped=int(d), samples=int(sm),
                dropped_pct=100.0 * d / (d + sm) if d + sm else None,
                events_missing=int(mi), battery="unknown"))
        out["dropped"] = int(tot_d)
        out["samples"] = int(tot_s)
        out["dropped_pct"] = 100.0 * tot_d / (tot_d + tot_s) if tot_d + tot_s else None
        out["events_missing"] = int(tot_m)
        J = self.jerks
        out["jerks_outside_recorded"] = int((self.cov_any[J["minute"].to_numpy()] <= 0).sum()) \
            if len(J) else 0
        out.update(self.clocks())
        out["estimated_boots"] = len(self._estimated_boots)
        logs = self.board_logs
        # Events a board's full on-board log dropped before a computer collected them.
        out["log_dropped"] = sum(r["dropped"] or 0 for r in logs)
        out["log_dropped_devices"] = [r["device_id"] for r in logs if r["dropped"]]
        return out

    def clocks(self):
        """How the boards' times were set, and events stored before a clock correction."""
        ev = self.events
        B = self.boots
        used = set(zip(ev["device_id"].tolist(), ev["boot_id"].tolist()))
        kinds = {"device": 0, "host": 0, "unknown": 0}
        for b in B.itertuples():
            if (int(b.device_id), int(b.boot_id)) in used:
                c = b.clock if isinstance(b.clock, str) else "unknown"
                kinds[c if c in kinds else "unknown"] += 1
        shift = (ev["time_ms"] - ev["t_ms"] - ev["boot_epoch_ms"]).to_numpy(dtype=float)
        shifted = np.isfinite(shift) & (shift != 0)
        return dict(clock_corrections=len(self.clock_corrections),
                    boots_device_clock=kinds["device"], boots_host_clock=kinds["host"],
                    boots_unknown_clock=kinds["unknown"],
                    events_shifted=int(shifted.sum()),
                    max_shift_ms=float(np.abs(shift[shifted]).max()) if shifted.any() else 0.0)

    def quality_by_day(self):
        """Per region and local date: hours recorded, dropped samples, events missing."""
        P = self.per_day_region()
        if P.empty:
            return P
        return P[["date", "region", "devices", "hours", "samples", "dropped_samples",
                  "dropped_pct", "events_missing"]].assign(battery="unknown")

    # -- everything for the first page ---------------------------------------------------------
    def summary(self):
        return dict(
            from_ms=self.from_ms, to_ms=self.to_ms, zones=self.zones.describe(),
            sites=list(self.active_sites), frequency=self.frequency(), trend=self.trend(),
            extents=self.extents(), regions=self.regions().to_dict("records"),
            rhythm=self.rhythm(), contexts=self.contexts(), strength=self.strength(),
            medication=self.medication().to_dict("records"), triggers=self.triggers(),
            notes=len(self.notes), quality=self.quality(), config=self.config)


# -- exports ---------------------------------------------------------------------------------
def _fmt_col(values):
    """format_value over a column (a Series or list), computed once per distinct value."""
    if not isinstance(values, pd.Series):
        values = pd.Series(values, dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = np.array([format_value(v.item() if hasattr(v, "item") else v)
                     for v in uniques] + [""], dtype=object)
    return text[codes].tolist()


def event_table(diary):
    """The event diary as text columns: the export columns, then series, group, extent and
    when (empty where they do not apply). Rows in store order."""
    from jerklog.events import DIARY_COLUMNS
    ev = diary.events
    cols = {}
    for c in DIARY_COLUMNS + EXTRA_COLUMNS:
        if c == "time":
            cols[c] = iso_times(ev["time_ms"].to_numpy(), diary.zones).tolist()
        elif c == "device":
            cols[c] = _fmt_col(ev["device_id"])
        elif c == "boot":
            cols[c] = _fmt_col(ev["boot_id"])
        elif c == "region":
            cols[c] = [r if isinstance(r, str) and r else "unknown"
                       for r in ev["region"].tolist()]
        elif c in ("series", "group"):
            cols[c] = ["" if v == 0 else str(v) for v in ev[c].tolist()]
        elif c in ("extent", "when"):
            cols[c] = ev[c].tolist()
        else:
            cols[c] = _fmt_col(ev[c])
    return cols


def _csv_field(v):
    if any(ch in v for ch in ',"\r\n'):
        return '"%s"' % v.replace('"', '""')
    return v


def _write_columns(f, cols):
    """Write text columns as CSV (RFC 4180 quoting, as the csv module's minimal quoting)."""
    names = list(cols)
    for c in names:
        vals = cols[c]
        uniq = set(vals) if c not in ("time",) else ()
        if any(_csv_field(v) != v for v in uniq):
            q = {v: _csv_field(v) for v in uniq}
            cols[c] = [q[v] for v in vals]
    f.write(",".join(_csv_field(c) for c in names) + "\n")
    rows = zip(*(cols[c] for c in names))
    chunk = []
    for row in rows:
        chunk.append(",".join(row))
        if len(chunk) == 50000:
            f.write("\n".join(chunk) + "\n")
            chunk = []
    if chunk:
        f.write("\n".join(chunk) + "\n")


def write_events_csv(store, out_path, from_ms=None, to_ms=None, tz=None, config=None,
                     diary=None):
    """Write the event diary (export.DIARY_COLUMNS + series, group, extent, when)
    atomically; return the number of rows. export.write_diary_csv can delegate here."""
    d = diary or Diary(store, from_ms, to_ms, tz, config)
    cols = event_table(d)
    with atomic_output(out_path, newline="") as f:
        _write_columns(f, cols)
    return len(d.events)


SUMMARY_COLUMNS = (
    "date", "day_start", "utc_offset", "time_zone", "region", "devices", "hours", "events",
    "sure", "per_hour", "generalised", "multifocal", "focal", "unclassified", "in_series", "series",
    "day", "night", "rest", "active", "asleep", "sleep_onset", "after_waking",
    "unknown_context", "negative", "triggers", "peak_g_median", "peak_g_max",
    "peak_dps_median", "duration_ms_median", "samples", "dropped_samples", "dropped_pct",
    "events_missing", "battery", "medication")


def summary_table(diary):
    """Rows of the summary CSV: per local date an 'all' row (jerks, each counted once), then
    one row per region (that region's events)."""
    D = diary.per_day()
    if D.empty:
        return []
    R = diary.per_day_region()
    J = diary.jerks
    by_day = {k: g for k, g in J.groupby("day")} if len(J) else {}
    series_by_day = {}
    for s in diary.series.itertuples():
        off = diary.zones.offsets_ms(np.array([s.start_ms]))[0]
        series_by_day.setdefault(_day_text((s.start_ms + off) // DAY_MS), 0)
        series_by_day[_day_text((s.start_ms + off) // DAY_MS)] += 1
    rows = []
    regions = {k: g for k, g in R.groupby("date")} if len(R) else {}
    zone_names = {}
    for i, day in enumerate(D["date"]):
        start = D["day_start"].iloc[i]
        if start:
            zone_names[day] = diary.zones.name_at(parse_time(start))
    for r in D.itertuples():
        day_num = np.datetime64(r.date, "D").astype(np.int64)
        g = by_day.get(day_num, J.iloc[0:0])
        ctx = {w: int((g["when"] == w).sum()) for w in WHEN}
        row = dict(date=r.date, day_start=r.day_start, utc_offset=r.utc_offset,
                   time_zone=zone_names.get(r.date, ""), region="all", hours=r.hours,
                   events=r.jerks, sure=int((g["confidence"] >= diary.config.sure_confidence)
                                            .sum()), per_hour=r.per_hour, generalised=r.generalised,
                   multifocal=r.multifocal, focal=r.focal, unclassified=r.unclassified,
                   in_series=r.in_series, series=series_by_day.get(r.date, 0),
                   day=r.day_jerks, night=r.night_jerks, rest=ctx["rest"],
                   active=ctx["active"], asleep=ctx["asleep"], sleep_onset=ctx["sleep onset"],
                   after_waking=ctx["after waking"], unknown_context=ctx["unknown"],
                   negative=r.negative, triggers=r.triggers,
                   peak_g_median=g["peak_g"].median() if len(g) else None,
                   peak_g_max=g["peak_g"].max() if len(g) else None,
                   peak_dps_median=g["peak_dps"].median() if len(g) else None,
                   duration_ms_median=g["duration_ms"].median() if len(g) else None,
                   battery="unknown", medication=r.medication)
        reg = regions.get(r.date)
        if reg is not None:
            row["samples"] = int(reg["samples"].sum())
            row["dropped_samples"] = int(reg["dropped_samples"].sum())
            tot = row["samples"] + row["dropped_samples"]
            row["dropped_pct"] = 100.0 * row["dropped_samples"] / tot if tot else None
            row["events_missing"] = int(reg["events_missing"].sum())
        rows.append(row)
        if reg is not None:
            for x in reg.to_dict("records"):
                x = dict(x, day_start=r.day_start, utc_offset=r.utc_offset,
                         time_zone=row["time_zone"], sleep_onset=x.pop("sleep onset"),
                         after_waking=x.pop("after waking"), unknown_context=x.pop("unknown"),
                         series="", triggers="", battery="unknown", medication="")
                rows.append(x)
    return rows


def _fmt_summary(v, col):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (float, np.floating)):
        digits = 3 if col in ("hours", "per_hour", "dropped_pct") else 4
        return format_value(round(float(v), digits))
    if isinstance(v, (np.integer,)):
        return str(int(v))
    return format_value(v)


def write_summary_csv(store, out_path, from_ms=None, to_ms=None, tz=None, config=None,
                      diary=None):
    """Write the per-day, per-region summary CSV atomically; return the number of rows."""
    import csv
    d = diary or Diary(store, from_ms, to_ms, tz, config)
    rows = summary_table(d)
    with atomic_output(out_path, newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(SUMMARY_COLUMNS)
        for r in rows:
            w.writerow([_fmt_summary(r.get(c), c) for c in SUMMARY_COLUMNS])
    return len(rows)
