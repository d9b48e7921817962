"""Wall-clock times: parse what users type, format what the diary shows (ISO 8601 + offset)."""
import datetime as dt

from jerklog import JerklogError

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
except ImportError:  # pragma: no cover - Python < 3.9
    ZoneInfo = None


def zone(name):
    """A tzinfo for an IANA zone name, or None for the computer's local time."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise JerklogError("unknown time zone %r (use an IANA name such as Europe/Berlin)"
                           % name)


def parse_time(text, tz=None, what="time"):
    """ISO 8601 date or date-time -> Unix ms. Without an offset it is local time (or tz)."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise JerklogError("%s %r is not an ISO 8601 time such as 2026-11-20T22:30 or "
                           "2026-11-20T22:30:00+01:00" % (what, text))
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz) if tz else value.astimezone()
    return int(round(value.timestamp() * 1000))


def format_ms(ms, tz=None):
    """Unix ms -> ISO 8601 local (or tz) time with millisecond precision and UTC offset."""
    base = dt.datetime.fromtimestamp(ms // 1000, tz=dt.timezone.utc)
    value = (base + dt.timedelta(milliseconds=ms % 1000)).astimezone(tz)
    return value.isoformat(timespec="milliseconds")
