"""Wall-clock time, the one home of time zones: parse what users type (ISO 8601), format what
the diary shows (ISO 8601 with UTC offset), and the wearer's zones over time (Zones: one zone,
or a travel plan). Inside, every time is Unix ms (UTC)."""
import datetime as dt
import os

import numpy as np

from jerklog import JerklogError

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
except ImportError:  # pragma: no cover - Python < 3.9
    ZoneInfo = None

_QUARTER_MS = 900_000          # every real zone changes offset on a quarter hour (UTC)
_FAR = 2 ** 62


def zone(name: str | None) -> dt.tzinfo | None:
    """A tzinfo for an IANA zone name, or None for the computer's local time."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise JerklogError("unknown time zone %r (use an IANA name such as Europe/Berlin)"
                           % name)


# The times jerklog accepts: the years EDF+ can hold (its start date has a two-digit year,
# 1985-2084). A mistyped year outside them is refused where it is typed, so no diary, export or
# report ever spans decades because of one note.
EARLIEST_MS = 473_385_600_000     # 1985-01-01T00:00:00Z
LATEST_MS = 3_629_145_600_000     # 2085-01-01T00:00:00Z (exclusive)
YEARS = "1985-2084"


def check_time(ms: int, what: str = "time") -> int:
    """ms (Unix ms) if it lies in 1985-2084, else a JerklogError naming `what`."""
    if not EARLIEST_MS <= ms < LATEST_MS:
        raise JerklogError("%s %s is outside %s, the years jerklog (and EDF+) can hold"
                           % (what, format_ms(ms), YEARS))
    return ms


def parse_time(text: str, tz: dt.tzinfo | None = None, what: str = "time") -> int:
    """ISO 8601 date or date-time -> Unix ms, in 1985-2084. Without an offset it is local time
    (or tz)."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=tz) if tz else value.astimezone()
        ms = int(round(value.timestamp() * 1000))
    except (ValueError, OverflowError, OSError):
        raise JerklogError("%s %r is not an ISO 8601 time in %s such as 2026-11-20T22:30 or "
                           "2026-11-20T22:30:00+01:00" % (what, text, YEARS)) from None
    return check_time(ms, what)


def format_ms(ms: int, tz: dt.tzinfo | None = None) -> str:
    """Unix ms -> ISO 8601 local (or tz) time with millisecond precision and UTC offset.
    A time no calendar can show (a damaged or foreign store) is shown as its number."""
    try:
        base = dt.datetime.fromtimestamp(ms // 1000, tz=dt.timezone.utc)
        value = (base + dt.timedelta(milliseconds=ms % 1000)).astimezone(tz)
    except (ValueError, OverflowError, OSError):
        return "(Unix ms %d)" % ms
    return value.isoformat(timespec="milliseconds")


# -- the wearer's zones over time ----------------------------------------------------------
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


def offset_text(off_ms: int) -> str:
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
        return zone(z), z

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

    def index_at(self, ms: int) -> int:
        return int(np.searchsorted(self.starts, ms, side="right") - 1)

    def tz_at(self, ms: int) -> dt.tzinfo | None:
        return self.tzs[self.index_at(ms)]

    def name_at(self, ms: int) -> str:
        return self.names[self.index_at(ms)]

    def offsets_ms(self, ms) -> np.ndarray:
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

    def local_ms(self, ms) -> np.ndarray:
        ms = np.asarray(ms, dtype=np.int64)
        return ms + self.offsets_ms(ms)

    def parse_time(self, text: str, what: str = "time") -> int:
        """ISO 8601 -> Unix ms; without an offset, in the zone in force at that time."""
        ms = parse_time(text, self.tzs[0], what)
        for _ in range(2):  # settle on the zone in force at the instant found
            ms = parse_time(text, self.tz_at(ms), what)
        return ms

    def describe(self) -> str:
        if self.single:
            return self.names[0]
        parts = [self.names[0]]
        for start, name, tz in zip(self.starts[1:], self.names[1:], self.tzs[1:]):
            parts.append("from %s %s" % (format_iso(int(start), Zones([(None, tz)]))[:16],
                                         name))
        return ", ".join(parts)

    def __repr__(self):
        return "Zones(%s)" % self.describe()


def iso_times(ms, zones: "Zones") -> np.ndarray:
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


def format_iso(ms: int, zones=None, minutes: bool = False) -> str:
    """One Unix ms as ISO 8601 local time with offset (minutes=True: no seconds)."""
    text = str(iso_times(np.array([ms]), Zones(zones))[0])
    if minutes:
        return text[:16] + text[23:]
    return text
