"""GENEActiv ``.bin`` files (Activinsights), read in chunks of pages.

The format (GENEActiv instruction manual, "Decoding .bin files"): text lines (CRLF). A
header of "Key:value" lines starting with "Device Identity" (Device Unique Serial Code,
Device Type, Measurement Frequency "100 Hz", Device Location Code, Time Zone "GMT +01:00",
the calibration x/y/z gain and offset, Number of Pages), then pages of ten lines each:
"Recorded Data", then Key:value lines (Device Unique Serial Code, Sequence Number, Page
Time "YYYY-MM-DD hh:mm:ss:mmm", Unassigned, Temperature, Battery voltage, Device Status,
Measurement Frequency) and one line of hexadecimal data: 300 samples of 48 bits each, x, y, z
as 12-bit two's complement, light (10 bits), button (1 bit), 1 reserved, most significant bit
first. Acceleration in g = (raw * 100 - offset) / gain.

Checks: a page whose data line is not 3600 hex digits (or whose header is damaged) is skipped,
counted, and its 300 samples reported lost; missing sequence numbers are counted as lost
pages; a page time that goes back or jumps from where the previous page ended is a clock jump
(a new run of samples starts at the page's own time).
"""
import os

import numpy as np

from jerklog.recordings.logger import LoggerFile, to_grid
from jerklog.recordings.recording import days_from_civil, file_error

PAGE_SAMPLES = 300
PAGE_LINES = 10
CHUNK_PAGES = 1024   # pages decoded at once (~51 min at 100 Hz)
JUMP_S = 1.0         # a page time this far from where the previous page ended: a clock jump


def _wall_ms(text):
    """'2012-03-14 10:00:00:000' (the logger's wall clock) -> Unix ms read as UTC."""
    try:
        day, clock = text.strip().split(" ", 1)
        y, m, d = (int(x) for x in day.split("-"))
        hh, mm, ss, ms = (int(x) for x in clock.split(":"))
    except ValueError:
        return None
    if not (1 <= m <= 12 and 1 <= d <= 31 and hh < 24 and mm < 60 and ss < 61 and ms < 1000):
        return None
    return ((int(days_from_civil(y, m, d)) * 24 + hh) * 60 + mm) * 60000 + ss * 1000 + ms


def _zone_ms(text):
    """'GMT +01:00' -> 3600000; None if it is not that shape."""
    t = text.strip().upper().replace("GMT", "").replace("UTC", "").strip()
    if not t:
        return 0 if text.strip() else None
    sign = -1 if t.startswith("-") else 1
    try:
        hh, mm = (int(x) for x in t.lstrip("+-").split(":"))
    except ValueError:
        return None
    return sign * (hh * 60 + mm) * 60000


def _header(path, f):
    first = f.readline()
    if first.strip() != b"Device Identity":
        raise file_error(path, "not a GENEActiv .bin file: it starts with %r, not "
                         "'Device Identity'" % first[:20])
    head = {}
    while True:
        pos = f.tell()
        line = f.readline()
        if not line:
            break
        text = line.decode("latin-1").strip()
        if text == "Recorded Data":
            f.seek(pos)
            break
        key, sep, value = text.partition(":")
        if sep and key.strip() not in head:
            head[key.strip()] = value.strip()
    return head


def _number(text, what, path):
    try:
        return float(text.split()[0])
    except (AttributeError, IndexError, ValueError):
        raise file_error(path, "GENEActiv header: no %s" % what) from None


def open_geneactiv(path) -> LoggerFile:
    """Open a GENEActiv .bin: the header now, the pages in chunks()."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        head = _header(path, f)
        data_at = f.tell()
    rate = _number(head.get("Measurement Frequency"), "Measurement Frequency", path)
    gain = [_number(head.get("%s gain" % a), "%s gain" % a, path) for a in "xyz"]
    offset = [_number(head.get("%s offset" % a), "%s offset" % a, path) for a in "xyz"]
    if min(gain) <= 0:
        raise file_error(path, "GENEActiv header: a calibration gain is not positive")
    pages = int(_number(head.get("Number of Pages", "0"), "Number of Pages", path))
    serial = head.get("Device Unique Serial Code", "")
    checks = {"pages": 0, "bad_pages": 0, "sequence_gaps": 0, "time_jumps": 0,
              "lost_samples": 0}
    gain_a, offset_a = np.array(gain), np.array(offset)

    def chunks():
        state = {"t0": None, "next": None, "seq": None, "lost": 0}
        with open(path, "rb") as f:
            f.seek(data_at)
            batch = []
            while True:
                lines = [f.readline() for _ in range(PAGE_LINES)]
                if not lines[0]:
                    break
                checks["pages"] += 1
                batch.append(_page(lines))  # None: damaged, counted in _chunk
                if len(batch) >= CHUNK_PAGES:
                    out = _chunk(batch, rate, gain_a, offset_a, state, checks, lf)
                    batch = []
                    if out is not None:
                        yield out
            if batch:
                out = _chunk(batch, rate, gain_a, offset_a, state, checks, lf)
                if out is not None:
                    yield out

    lf = LoggerFile(path, "geneactiv", head.get("Device Type", "GENEActiv")[:31] or
                    "GENEActiv", serial, head.get("Start Time", "") + "|" +
                    head.get("Measurement Frequency", ""), None,
                    _zone_ms(head["Time Zone"]) if "Time Zone" in head else None, rate, False,
                    pages * PAGE_SAMPLES, chunks, location=head.get("Device Location Code", ""),
                    checks=checks)
    return lf


def _page(lines):
    """(sequence, page time ms, raw bytes of 300 samples) of one page, or None if damaged."""
    if lines[0].strip() != b"Recorded Data" or len(lines) < PAGE_LINES:
        return None
    fields = {}
    for line in lines[1:-1]:
        key, sep, value = line.decode("latin-1").partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    data = lines[-1].strip()
    if len(data) != 12 * PAGE_SAMPLES:
        return None
    try:
        raw = bytes.fromhex(data.decode("ascii"))
        seq = int(fields["Sequence Number"])
    except (ValueError, KeyError, UnicodeDecodeError):
        return None
    when = _wall_ms(fields.get("Page Time", ""))
    if when is None:
        return None
    return seq, when, raw


def _chunk(batch, rate, gain, offset, state, checks, lf):
    """Decode a list of pages into a Chunk on the recording's clock (None if none is left)."""
    keep_raw, t_parts, lost = [], [], []
    n = 0
    period = PAGE_SAMPLES / rate
    for page in batch:
        if page is None:  # damaged: its samples are lost, it held the next sequence number
            checks["bad_pages"] += 1
            checks["lost_samples"] += PAGE_SAMPLES
            state["lost"] += PAGE_SAMPLES
            if state["seq"] is not None:
                state["seq"] += 1
            continue
        seq, when, raw = page
        if state["seq"] is not None and seq != state["seq"] + 1:
            if seq > state["seq"] + 1:
                checks["sequence_gaps"] += 1
                missing = (seq - state["seq"] - 1) * PAGE_SAMPLES
                checks["lost_samples"] += missing
                state["lost"] += missing
        state["seq"] = seq
        start = when / 1000.0
        if state["t0"] is None:
            state["t0"] = start
            lf.start_ms = when
            state["lost"] = 0
        elif state["next"] is not None:
            expected = state["next"] + period * (state["lost"] // PAGE_SAMPLES)
            if start <= state["last"] or abs(start - expected) > JUMP_S:
                checks["time_jumps"] += 1
                if start <= state["last"]:
                    continue  # back in time: the page would overlap samples already out
        if state["lost"]:
            lost.append((n, state["lost"]))
            state["lost"] = 0
        t_parts.append(start - state["t0"] + np.arange(PAGE_SAMPLES) / rate)
        state["next"] = start + period
        state["last"] = start + (PAGE_SAMPLES - 1) / rate
        keep_raw.append(raw)
        n += PAGE_SAMPLES
    if not keep_raw:
        return None
    b = np.frombuffer(b"".join(keep_raw), dtype=np.uint8).reshape(-1, 6).astype(np.int64)
    v = (b[:, 0] << 40) | (b[:, 1] << 32) | (b[:, 2] << 24) | (b[:, 3] << 16) | \
        (b[:, 4] << 8) | b[:, 5]
    xyz = np.column_stack([(v >> s) & 0xFFF for s in (36, 24, 12)])
    xyz = np.where(xyz & 0x800, xyz - 0x1000, xyz)
    acc = (xyz * 100.0 - offset) / gain
    return to_grid(np.concatenate(t_parts), acc, None, lost)
