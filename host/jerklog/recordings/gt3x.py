"""ActiGraph ``.gt3x`` files (GT3X+, wGT3X-BT, GT9X Link; firmware >= 3.0), read in chunks.

The format, as ActiGraph documents it (github actigraph/GT3X-File-Format):

* a zip archive holding ``info.txt`` ("Key: value" lines: Serial Number, Firmware, Sample
  Rate in Hz, Start Date in .NET ticks, TimeZone as [-]HH:MM:SS where the software wrote it)
  and ``log.bin``;
* log.bin is a sequence of records: separator 0x1E, type u8, timestamp u32 (Unix seconds of
  the device clock, which runs in local time), payload size u16, payload, then a checksum: the
  one's complement of the XOR of header and payload bytes;
* ACTIVITY (type 0x00) holds one second of samples as 12-bit two's complement values in
  y, x, z order, packed big-endian (36 bits a sample; an odd count leaves a spare nibble);
  ACTIVITY2 (0x1A) as int16 little-endian x, y, z; a 1-byte payload of either is a USB
  connection event, not samples;
* PARAMETERS (0x15): 8-byte key/value pairs (address u16, key u16, value u32); address 0 key
  55 is ACCEL_SCALE in LSB/g as a 24-bit fraction and 8-bit exponent float. Without it,
  info.txt's "Acceleration Scale" (which ActiLife writes), else NEO and CLE serials use
  341 LSB/g, MOS 256 LSB/g;
* wGT3X-BT (MOS) firmware 1.6.0 swapped x and y (x' = y, y' = -x): put back here.

Checks: a record whose checksum fails is skipped and counted, and its second of samples is
reported lost; a second that repeats or goes back is dropped and counted as a clock jump;
missing seconds are gaps (the logger's idle sleep writes nothing while it lies still).
The older NHANES format (activity.bin, no log.bin) is refused.
"""
import os
import zipfile

import numpy as np

from jerklog.recordings.logger import LoggerFile, to_grid
from jerklog.recordings.recording import file_error

SEPARATOR = 0x1E
ACTIVITY, PARAMETERS, ACTIVITY2 = 0x00, 0x15, 0x1A
TICKS_1970 = 621355968000000000   # .NET ticks (100 ns since 0001-01-01) at the Unix epoch
READ_BYTES = 1 << 22              # log.bin read this much at a time
CHUNK_SECONDS = 3600              # activity records decoded at once


def _info(text):
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def _offset_ms(text):
    """'-05:00:00' or '01:00:00' -> ms; None if absent or not that shape."""
    if not text:
        return None
    sign = -1 if text.startswith("-") else 1
    try:
        parts = [int(p) for p in text.lstrip("+-").split(":")]
    except ValueError:
        return None
    parts += [0] * (3 - len(parts))
    return sign * ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1000


def ssp_float(value):
    """ActiGraph's float in a u32: signed 24-bit fraction / 2^23 times 2^(signed 8-bit exp)."""
    if value in (0x007FFFFF, 0x00800000):
        return float("inf") if value == 0x007FFFFF else float("-inf")
    exp = (value >> 24) & 0xFF
    exp = exp - 256 if exp & 0x80 else exp
    frac = value & 0xFFFFFF
    frac = frac - (1 << 24) if frac & 0x800000 else frac
    return frac / 8388608.0 * 2.0 ** exp


def _records(stream, counts):
    """Yield (type, timestamp, payload) of every record whose checksum holds. A bad one is
    counted in counts['bad_records'] (and 'bad_activity' for a second of samples), and the
    reader finds the next separator; bytes between records that are not zero are counted in
    'skipped_bytes' (zeros there are harmless, the format notes)."""
    buf, pos, eof, resyncing = b"", 0, False, False
    while True:
        if not eof and len(buf) - pos < 8 + 65536 + 1:  # room for the longest record
            more = stream.read(READ_BYTES)
            eof = not more
            buf, pos = buf[pos:] + more, 0
        if pos >= len(buf):
            return
        if buf[pos] != SEPARATOR:
            nxt = buf.find(bytes([SEPARATOR]), pos)
            nxt = len(buf) if nxt < 0 else nxt
            gap = buf[pos:nxt]
            counts["skipped_bytes"] += len(gap) - gap.count(0)
            pos = nxt
            continue
        end = pos + 8 + (buf[pos + 6] | (buf[pos + 7] << 8)) if len(buf) - pos >= 8 else None
        if end is None or end >= len(buf):  # the file ends inside this record
            counts["truncated_bytes"] += len(buf) - pos
            return
        rec = buf[pos:end + 1]
        check = int(np.bitwise_xor.reduce(np.frombuffer(rec, dtype=np.uint8, count=end - pos)))
        if (~check) & 0xFF != rec[-1]:
            # A damaged record whose length still leads to the next separator is skipped
            # whole; otherwise its length is damaged too: look for the next separator.
            whole = end + 1 == len(buf) or buf[end + 1] == SEPARATOR
            if whole or not resyncing:
                counts["bad_records"] += 1
                if rec[1] in (ACTIVITY, ACTIVITY2):
                    counts["bad_activity"] += 1
            if whole:
                pos, resyncing = end + 1, False
            else:
                counts["skipped_bytes"] += 1
                pos, resyncing = pos + 1, True
            continue
        resyncing = False
        yield rec[1], int.from_bytes(rec[2:6], "little"), rec[8:-1]
        pos = end + 1


def _unpack12(payload, n):
    """n samples of 12-bit big-endian y, x, z -> int64 (n, 3) in x, y, z order."""
    b = np.frombuffer(payload, dtype=np.uint8)
    nib = np.empty(2 * b.size, dtype=np.int64)
    nib[0::2] = b >> 4
    nib[1::2] = b & 0x0F
    nib = nib[: 9 * n].reshape(3 * n, 3)
    v = (nib[:, 0] << 8) | (nib[:, 1] << 4) | nib[:, 2]
    v = np.where(v & 0x800, v - 0x1000, v).reshape(n, 3)
    return v[:, [1, 0, 2]]


def _samples(kind, payload, rate):
    """The samples of one activity record, int64 (n, 3) x, y, z in counts; None for a USB
    event record."""
    if len(payload) <= 1:
        return None
    if kind == ACTIVITY:
        n = min(len(payload) * 8 // 36, rate)
        return _unpack12(payload, n)
    n = min(len(payload) // 6, rate)
    return np.frombuffer(payload[: 6 * n], dtype="<i2").reshape(n, 3).astype(np.int64)


def open_gt3x(path) -> LoggerFile:
    """Open a .gt3x file: info.txt now, log.bin in chunks()."""
    path = os.fspath(path)
    if not zipfile.is_zipfile(path):
        raise file_error(path, "not an ActiGraph .gt3x file: not a zip archive")
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        if "log.bin" not in names:
            if "activity.bin" in names:
                raise file_error(path, "an older ActiGraph .gt3x (NHANES format, "
                                 "activity.bin): not supported")
            raise file_error(path, "not an ActiGraph .gt3x file: no log.bin in the archive")
        if "info.txt" not in names:
            raise file_error(path, "not an ActiGraph .gt3x file: no info.txt in the archive")
        info = _info(z.read("info.txt").decode("utf-8-sig", "replace"))
        log_size = z.getinfo("log.bin").file_size
    serial = info.get("Serial Number", "")
    try:
        rate = int(round(float(info["Sample Rate"])))
        start_ticks = int(info["Start Date"])
    except (KeyError, ValueError):
        raise file_error(path, "info.txt lacks a Sample Rate or Start Date") from None
    firmware = info.get("Firmware", "")
    scale = 256.0 if serial.startswith("MOS") else 341.0
    try:  # not in the documented info.txt, but ActiLife writes it and readers take it
        scale = float(info["Acceleration Scale"]) or scale
    except (KeyError, ValueError):
        pass
    # wGT3X-BT firmware 1.6.0 (compared as numbers: the one version literal is jerklog's own)
    swap_xy = serial.startswith("MOS") and firmware.split(".") == ["1", "6", "0"]
    checks = {"records": 0, "bad_records": 0, "bad_activity": 0, "skipped_bytes": 0,
              "truncated_bytes": 0, "gaps": 0, "time_jumps": 0, "lost_samples": 0,
              "usb_events": 0}

    def chunks():
        nonlocal scale
        t0 = None
        last = None
        lost = 0
        parts, times = [], []
        with zipfile.ZipFile(path) as z, z.open("log.bin") as stream:
            for kind, ts, payload in _records(stream, checks):
                checks["records"] += 1
                if kind == PARAMETERS:
                    scale = _scale(payload, scale)
                    continue
                if kind not in (ACTIVITY, ACTIVITY2):
                    continue
                s = _samples(kind, payload, rate)
                if s is None:
                    checks["usb_events"] += 1
                    continue
                bad = checks["bad_activity"]
                if bad:
                    lost += bad * rate
                    checks["lost_samples"] += bad * rate
                    checks["bad_activity"] = 0
                if last is not None and ts <= last:
                    checks["time_jumps"] += 1
                    continue
                if last is not None and ts > last + 1:
                    checks["gaps"] += 1
                if t0 is None:
                    t0 = ts
                    lf.start_ms = ts * 1000
                    lost = 0  # nothing is lost before the first sample
                last = ts
                parts.append((s, lost))
                lost = 0
                times.append(ts - t0)
                if len(parts) >= CHUNK_SECONDS:
                    yield _chunk(parts, times, rate, scale, swap_xy)
                    parts, times = [], []
        if parts:
            yield _chunk(parts, times, rate, scale, swap_xy)

    lf = LoggerFile(path, "gt3x", _model(serial), serial, str(start_ticks), None,
                    _offset_ms(info.get("TimeZone")), float(rate), False,
                    log_size // (8 + rate * 9 // 2 + 1) * rate, chunks, checks=checks)
    return lf


def _scale(payload, default):
    kv = np.frombuffer(payload[: len(payload) // 8 * 8], dtype=[("addr", "<u2"),
                                                                 ("key", "<u2"),
                                                                 ("value", "<u4")])
    hit = kv[(kv["addr"] == 0) & (kv["key"] == 55)]
    if hit.size:
        v = ssp_float(int(hit["value"][0]))
        if np.isfinite(v) and v > 0:
            return v
    return default


def _model(serial):
    for prefix, name in (("NEO", "GT3X+"), ("CLE", "wGT3X+"), ("MOS", "wGT3X-BT"),
                         ("MRA", "ActiSleep+"), ("TAS", "GT9X Link")):
        if serial.startswith(prefix):
            return name
    return "ActiGraph"


def _chunk(parts, times, rate, scale, swap_xy):
    counts = [len(s) for s, _ in parts]
    acc = np.concatenate([s for s, _ in parts]) / scale
    if swap_xy:
        acc = np.column_stack((acc[:, 1], -acc[:, 0], acc[:, 2]))
    t = np.repeat(np.asarray(times, dtype=np.float64), counts) + np.concatenate(
        [np.arange(c) / rate for c in counts])
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    lost = [(int(i), k) for i, (_, k) in zip(starts, parts) if k]
    return to_grid(t, np.round(acc, 3), None, lost)
