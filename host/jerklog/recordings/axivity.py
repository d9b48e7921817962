"""Axivity AX3 / AX6 ``.cwa`` files (OpenMovement's continuous wave accelerometry format),
read into a Recording by load_cwa.

CWA format summary (all little-endian, structures tightly packed; see OpenMovement
``Docs/ax3/cwa.h``):

* Header block "MD" at offset 0, 1024 bytes: hardware type @4 (0x64 = AX6, else AX3),
  device id @5 (u16) + upper device id @11 (u16, 0xffff = 0), session id @7 (u32),
  sensor config @35 (0x00/0xff = accelerometer only, else low nibble n: gyro range
  8000/2^n deg/s), sampling-rate code @36 (rate = 3200 / 2^(15 - (code & 15)) Hz,
  accel range = 16 >> (code >> 6) g), firmware revision @41, metadata @64..511
  (URL-encoded name=value pairs, ``_p`` = body location).
* Data blocks "AX", 512 bytes each from offset 1024: packet length @2 (508),
  deviceFractional @4 (top bit set: low 15 bits are a fraction of a second, shifted left
  once to a 16-bit fraction), session id @6, sequence id @10, packed RTC timestamp @14
  (YYYYYYMM MMDDDDDh hhhhmmmm mmssssss, year since 2000), light/scale @18
  (AAAGGGLLLLLLLLLL: accel scale 1/2^(8+A) g, gyro range 8000/2^G deg/s, light),
  events @22 (bit 0 = logging resumed), rate code @24, numAxesBPS @25 (high nibble:
  3/6/9 axes; low nibble: 0 = 3x10-bit packed + 2-bit exponent in one u32, 2 = int16 per
  axis; 6 axes are Gx,Gy,Gz,Ax,Ay,Az), timestampOffset @26 (i16: index of the sample,
  relative to the first sample of the block, at which the timestamp holds), sample count
  @28, 480 bytes of samples @30, checksum @510 (the 16-bit wrapping sum of all 256
  words of the block is zero).
* With a fractional timestamp the firmware pre-shifted timestampOffset by
  ``(fraction16 * int(rate)) >> 16`` samples for old readers; this is added back, and the
  block's reference time becomes ``timestamp + fraction16 / 65536``.
"""
import os
import urllib.parse

import numpy as np

from jerklog.recordings.recording import Recording, days_from_civil, file_error

CWA_HEADER_SIZE = 1024
CWA_BLOCK_SIZE = 512

# One data block, 512 bytes.
_CWA_BLOCK = np.dtype([
    ("magic", "S2"),              # @0   b"AX"
    ("length", "<u2"),            # @2   508
    ("device_fractional", "<u2"),  # @4
    ("session_id", "<u4"),        # @6
    ("sequence_id", "<u4"),       # @10
    ("timestamp", "<u4"),         # @14  packed RTC time
    ("light_scale", "<u2"),       # @18  AAAGGGLLLLLLLLLL
    ("temperature", "<u2"),       # @20
    ("events", "u1"),             # @22
    ("battery", "u1"),            # @23
    ("rate_code", "u1"),          # @24
    ("axes_bps", "u1"),           # @25
    ("timestamp_offset", "<i2"),  # @26
    ("sample_count", "<u2"),      # @28
    ("data", "V480"),             # @30
    ("checksum", "<u2"),          # @510
])
assert _CWA_BLOCK.itemsize == CWA_BLOCK_SIZE

def _body_location(text):
    """The board's region name for a logger's free-text location ('unknown' if none)."""
    from jerklog import regions
    return regions.parse(text, default="unknown")


def _cwa_metadata(raw):
    text = raw.rstrip(b"\x20\x00\xff").decode("latin-1")
    try:
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, encoding="utf-8",
                                       errors="replace")
    except ValueError:
        return {}
    return dict(pairs)


def _cwa_time(packed):
    """Packed CWA timestamps -> (seconds since 1970 as int64, valid mask)."""
    v = packed.astype(np.int64)
    year = ((v >> 26) & 0x3F) + 2000
    month = (v >> 22) & 0x0F
    day = (v >> 17) & 0x1F
    hour = (v >> 12) & 0x1F
    minute = (v >> 6) & 0x3F
    second = v & 0x3F
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    mdays = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0, 0, 0])[month]
    mdays = mdays + ((month == 2) & leap)
    valid = ((packed != 0) & (packed != 0xFFFFFFFF) & (month >= 1) & (month <= 12)
             & (day >= 1) & (day <= mdays) & (hour < 24) & (minute < 60) & (second < 60))
    days = days_from_civil(year, np.clip(month, 1, 12), day)
    return days * 86400 + hour * 3600 + minute * 60 + second, valid


def _rate_from_code(code):
    return 3200.0 / (1 << (15 - (int(code) & 0x0F)))


def _find_axis_slips(first, second, acc_unit, win):
    """Find stretches of 6-axis data whose two triples are exchanged.

    ``first``/``second`` are the raw int triples at words 0-2 and 3-5 of each sample,
    ``acc_unit`` the per-sample accelerometer counts per g. Per the format the second
    triple is the accelerometer. A device whose sensor FIFO slips by one triple (seen in
    the AX6 test file: its first ~10 s hold the accelerometer in words 0-2) produces
    stretches where the roles are exchanged.

    Evidence comes only from still windows (both triples quiet): there exactly one triple
    reads 1 g (0.85-1.15) and the other, a gyroscope bias, reads < 0.5 g-equivalent. A
    change of layout between two such windows is placed at the sample where exchanging the
    triples removes the largest jump. Returns a boolean mask of exchanged samples and the
    list of change points; with no still window, or no exchanged one, nothing is changed.
    """
    n = first.shape[0]
    swapped = np.zeros(n, dtype=bool)
    nw = n // win
    if nw == 0:
        return swapped, []
    f = first[: nw * win].reshape(nw, win, 3).astype(np.float64)
    s = second[: nw * win].reshape(nw, win, 3).astype(np.float64)
    u = acc_unit[: nw * win].reshape(nw, win).mean(axis=1)
    quiet = (f.std(axis=1).max(axis=1) < 0.05 * u) & (s.std(axis=1).max(axis=1) < 0.05 * u)
    fm = np.linalg.norm(f.mean(axis=1), axis=1) / u
    sm = np.linalg.norm(s.mean(axis=1), axis=1) / u
    one_g = lambda m: (m > 0.85) & (m < 1.15)  # noqa: E731
    normal = quiet & one_g(sm) & (fm < 0.5)
    exch = quiet & one_g(fm) & (sm < 0.5)
    wins = np.flatnonzero(normal | exch)
    if not exch.any():
        return swapped, []
    labels = exch[wins]
    # jump cost of keeping vs exchanging the layout between sample j-1 and j
    straight = (np.abs(np.diff(first, axis=0)).sum(axis=1)
                + np.abs(np.diff(second, axis=0)).sum(axis=1))
    cross = (np.abs(second[1:] - first[:-1]).sum(axis=1)
             + np.abs(first[1:] - second[:-1]).sum(axis=1))
    gain = straight - cross
    slips = []
    state = bool(labels[0])
    pos = 0
    for k in range(1, len(wins)):
        if bool(labels[k]) == state:
            continue
        lo = (wins[k - 1] + 1) * win        # first sample after the last window of the run
        hi = wins[k] * win                  # first sample of the next window
        j = lo + int(np.argmax(gain[lo - 1:hi])) if hi > lo - 1 else lo
        swapped[pos:j] = state
        slips.append(int(j))
        pos, state = j, bool(labels[k])
    swapped[pos:] = state
    return swapped, slips


def block_reference_points(b, secs_rel, counts, rate):
    """(ref_time s, ref_index, first_sample) of decoded .cwa blocks b: each block's timestamp
    (secs_rel: whole seconds relative to a base, per block) with its fractional part, the
    sample index that time belongs to (timestamp_offset), and each block's first sample."""
    frac_present = (b["device_fractional"] & 0x8000) != 0
    frac16 = np.where(frac_present, (b["device_fractional"].astype(np.int64) & 0x7FFF) << 1, 0)
    ts_offset = b["timestamp_offset"].astype(np.int64) + ((frac16 * int(rate)) >> 16)
    ref_time = np.asarray(secs_rel).astype(np.float64) + frac16 / 65536.0
    first_sample = np.concatenate(([0], np.cumsum(counts)[:-1]))
    ref_index = (first_sample + ts_offset).astype(np.float64)
    return ref_time, ref_index, first_sample


def times_within_runs(ref_time, ref_index, first_sample, counts, starts, stops, rate):
    """Every sample's time (s, the reference's clock): interpolated between the reference
    points of each run of blocks [starts, stops), extrapolated at a run's ends with the slope
    over up to 8 block intervals (a one-block run at the nominal rate)."""
    t_dev = np.empty(int(counts.sum()), dtype=np.float64)
    for s, e in zip(starts, stops):
        lo, hi = first_sample[s], first_sample[e - 1] + counts[e - 1]
        x = np.arange(lo, hi, dtype=np.float64)
        xp, fp = ref_index[s:e], ref_time[s:e]
        if e - s == 1:
            t_dev[lo:hi] = fp[0] + (x - xp[0]) / rate
            continue
        m = min(e - s - 1, 8)
        slope0 = (fp[m] - fp[0]) / (xp[m] - xp[0])
        slope1 = (fp[-1] - fp[-1 - m]) / (xp[-1] - xp[-1 - m])
        tt = np.interp(x, xp, fp)
        before, after = x < xp[0], x > xp[-1]
        tt[before] = fp[0] + (x[before] - xp[0]) * slope0
        tt[after] = fp[-1] + (x[after] - xp[-1]) * slope1
        t_dev[lo:hi] = tt
    return t_dev


def load_cwa(path, *, allow_truncated: bool = False, fix_axis_slips: bool = True) -> Recording:
    """Decode an Axivity AX3/AX6 ``.cwa`` file.

    Every data block is validated (magic "AX", length 508, 16-bit word sum == 0, a sample
    count that fits the packing, a valid timestamp, and the same axes/packing/rate code as
    the first good block); failing blocks are skipped and counted in ``rec.bad_blocks``
    (per reason in ``rec.info['bad_block_reasons']``).

    Sample times: each block gives one reference point (sample index, time); times of the
    samples are linearly interpolated between the reference points of consecutive blocks
    (and extrapolated at the ends of a run), which follows the logger's real clock rate
    (for the test files about 98.9-99.0 Hz against a nominal 100 Hz). Runs are broken
    where blocks were skipped, the sequence id jumps, or logging resumed, so gaps show as
    gaps in ``t`` rather than as stretched samples.

    Axes are the device's own x, y, z. ``acc`` in g, ``gyro`` in deg/s (AX6) or None.
    A file whose length is not 1024 + k*512 bytes is rejected as truncated unless
    ``allow_truncated`` is true, in which case the incomplete last block is dropped.

    6-axis data: the format stores Gx,Gy,Gz,Ax,Ay,Az per sample, but an AX6 whose sensor
    FIFO slipped by one triple stores the two triples exchanged for a while (the AX6 test
    file does so for its first 1024 samples, ~10 s: words 0-2 read a steady 1 g while the
    device lies still). With ``fix_axis_slips`` (default) such stretches are found from
    still periods and put back; the change points are in ``info['axis_slips']`` and the
    count in ``info['swapped_samples']``. See :func:`_find_axis_slips`.
    """
    path = os.fspath(path)
    with open(path, "rb") as fh:
        buf = fh.read()

    if len(buf) < CWA_HEADER_SIZE:
        if len(buf) >= 2 and buf[:2] != b"MD":
            raise file_error(path, f"not a CWA file: wrong magic {buf[:2]!r} (expected b'MD')")
        raise file_error(path, f"truncated CWA file: {len(buf)} bytes, the header alone needs "
                         f"{CWA_HEADER_SIZE}")
    if buf[:2] != b"MD":
        raise file_error(path, f"not a CWA file: wrong magic {buf[:2]!r} (expected b'MD')")
    header_len = int.from_bytes(buf[2:4], "little")
    if header_len + 4 != CWA_HEADER_SIZE:
        raise file_error(path, f"unexpected CWA header length {header_len} (expected 1020)")

    tail = (len(buf) - CWA_HEADER_SIZE) % CWA_BLOCK_SIZE
    if tail and not allow_truncated:
        raise file_error(path, f"truncated CWA file: {len(buf)} bytes leave a partial data block "
                         f"of {tail} bytes (blocks are {CWA_BLOCK_SIZE} bytes)")
    n_blocks = (len(buf) - CWA_HEADER_SIZE) // CWA_BLOCK_SIZE
    if n_blocks == 0:
        raise file_error(path, "truncated CWA file: header only, no data blocks")

    # --- header
    hw = buf[4]
    device = "AX6" if hw == 0x64 else ("AX3" if hw in (0x00, 0xFF, 0x17) else f"0x{hw:02x}")
    device_id = int.from_bytes(buf[5:7], "little")
    upper = int.from_bytes(buf[11:13], "little")
    if upper != 0xFFFF:
        device_id |= upper << 16
    header_session = int.from_bytes(buf[7:11], "little")
    sensor_config = buf[35]
    header_rate_code = buf[36]
    metadata = _cwa_metadata(buf[64:512])
    body = metadata.get("_p", "")

    # --- blocks
    end = CWA_HEADER_SIZE + n_blocks * CWA_BLOCK_SIZE
    blocks = np.frombuffer(buf, dtype=_CWA_BLOCK, count=n_blocks, offset=CWA_HEADER_SIZE)
    words = np.frombuffer(buf, dtype="<u2", count=(end - CWA_HEADER_SIZE) // 2,
                          offset=CWA_HEADER_SIZE).reshape(n_blocks, CWA_BLOCK_SIZE // 2)
    checksum_ok = (words.sum(axis=1, dtype=np.uint64) & 0xFFFF) == 0

    reasons = {}

    def reject(mask, reason, ok):
        bad = ok & ~mask
        if bad.any():
            reasons[reason] = reasons.get(reason, 0) + int(bad.sum())
        return ok & mask

    ok = np.ones(n_blocks, dtype=bool)
    ok = reject(blocks["magic"] == b"AX", "magic", ok)
    ok = reject(blocks["length"] == CWA_BLOCK_SIZE - 4, "length", ok)
    ok = reject(checksum_ok, "checksum", ok)
    if not ok.any():
        raise file_error(path, f"no valid CWA data blocks among {n_blocks} "
                         f"(rejected: {reasons})")

    first = int(np.flatnonzero(ok)[0])
    axes_bps = int(blocks["axes_bps"][first])
    rate_code = int(blocks["rate_code"][first])
    channels = axes_bps >> 4
    bps = axes_bps & 0x0F
    if rate_code == 0:
        raise file_error(path, "unsupported very old CWA data format (rate code 0)")
    if bps == 0 and channels == 3:
        bytes_per_sample = 4
    elif bps == 2 and channels in (3, 6, 9):
        bytes_per_sample = 2 * channels
    else:
        raise file_error(path, f"unsupported CWA sample format numAxesBPS=0x{axes_bps:02x}")
    per_block = 480 // bytes_per_sample
    rate = _rate_from_code(rate_code)

    ok = reject((blocks["axes_bps"] == axes_bps) & (blocks["rate_code"] == rate_code),
                "format_change", ok)
    ok = reject(blocks["sample_count"] <= per_block, "sample_count", ok)
    secs, ts_ok = _cwa_time(blocks["timestamp"])
    ok = reject(ts_ok, "timestamp", ok)
    bad_blocks = int(sum(reasons.values()))
    empty = ok & (blocks["sample_count"] == 0)
    ok &= ~empty
    if not ok.any():
        raise file_error(path, f"no CWA data blocks with samples among {n_blocks} "
                         f"(rejected: {reasons})")

    idx = np.flatnonzero(ok)
    b = blocks[idx]
    swapped, slips = np.zeros(0, dtype=bool), []
    counts = b["sample_count"].astype(np.int64)

    # --- samples
    raw = np.frombuffer(b["data"].tobytes(), dtype=np.uint8).reshape(len(b), 480)
    keep = np.arange(per_block)[None, :] < counts[:, None]
    if bytes_per_sample == 4:
        packed = raw.view("<u4")[keep].astype(np.int64)          # (N,)
        exp = packed >> 30
        xyz = np.empty((packed.size, 3), dtype=np.int64)
        for k in range(3):
            v = (packed >> (10 * k)) & 0x3FF
            xyz[:, k] = ((v ^ 0x200) - 0x200) << exp             # sign-extend 10 bits
        acc_raw = xyz
        gyro_raw = None
        acc_unit = np.full(len(b), 256.0)                       # packed data: 1/256 g
    else:
        vals = np.ascontiguousarray(raw[:, : per_block * bytes_per_sample]).view("<i2")
        vals = vals.reshape(len(b), per_block, channels)[keep].astype(np.int64)  # (N, ch)
        acc_unit = 2.0 ** (8 + (b["light_scale"] >> 13).astype(np.int64))
        if channels == 3:
            acc_raw, gyro_raw = vals[:, 0:3], None
        else:                                                    # Gxyz, Axyz[, Mxyz]
            gyro_raw, acc_raw = vals[:, 0:3], vals[:, 3:6]
            if channels == 6 and fix_axis_slips:
                swapped, slips = _find_axis_slips(
                    gyro_raw, acc_raw, np.repeat(acc_unit, counts), max(8, int(rate // 2)))
                if swapped.any():
                    gyro_raw, acc_raw = gyro_raw.copy(), acc_raw.copy()
                    gyro_raw[swapped], acc_raw[swapped] = vals[swapped, 3:6], vals[swapped, 0:3]
    acc = acc_raw / np.repeat(acc_unit, counts)[:, None]
    gyro = None
    gyro_code = (b["light_scale"] >> 10) & 0x07
    if gyro_raw is not None:
        gyro_range = np.where(gyro_code != 0, 8000.0 / 2.0 ** gyro_code, 2000.0)
        gyro = gyro_raw * (np.repeat(gyro_range, counts) / 32768.0)[:, None]

    # --- time
    base = int(secs[idx][0])   # work relative to a whole second: full float64 precision
    ref_time, ref_index, first_sample = block_reference_points(b, secs[idx] - base, counts,
                                                               rate)

    # Runs of blocks whose reference points can be joined by interpolation.
    seq = b["sequence_id"].astype(np.int64)
    brk = np.zeros(len(b), dtype=bool)
    brk[0] = True
    brk[1:] = ((seq[1:] != seq[:-1] + 1)
               | (b["session_id"][1:] != b["session_id"][:-1])
               | ((b["events"][1:] & 0x01) != 0)
               | (np.diff(ref_index) <= 0)
               | (np.diff(ref_time) <= 0))
    starts = np.flatnonzero(brk)
    stops = np.append(starts[1:], len(b))
    t_dev = times_within_runs(ref_time, ref_index, first_sample, counts, starts, stops,
                              rate)  # device clock - base, s

    # Keep time strictly increasing (drop samples that a clock step would put backwards).
    mono = np.ones(t_dev.size, dtype=bool)
    mono[1:] = t_dev[1:] > np.maximum.accumulate(t_dev)[:-1]
    dropped = int((~mono).sum())
    if dropped:
        t_dev, acc = t_dev[mono], acc[mono]
        gyro = gyro[mono] if gyro is not None else None

    t = t_dev - t_dev[0]
    start = base + float(t_dev[0])
    info = {
        "format": "cwa",
        "device": device,
        "device_id": device_id,
        "session_id": header_session,
        "firmware": int(buf[41]),
        "metadata": metadata,
        "body_location": body,
        "accel_range_g": 16 >> (rate_code >> 6),
        "gyro_range_dps": (float(np.where(gyro_code[0] != 0, 8000.0 / 2.0 ** gyro_code[0],
                                          2000.0)) if gyro is not None else None),
        "header_gyro_range_dps": (8000.0 / 2 ** (sensor_config & 0x0F)
                                  if sensor_config not in (0x00, 0xFF) else None),
        "header_rate_hz": _rate_from_code(header_rate_code) if header_rate_code else None,
        "packing": "packed 3x10-bit" if bytes_per_sample == 4 else f"int16 x{channels}",
        "blocks_total": n_blocks,
        "blocks_used": int(len(b)),
        "blocks_empty": int(empty.sum()),
        "bad_block_reasons": reasons,
        "truncated_tail_bytes": tail,
        "segments": int(len(starts)),
        "samples_dropped_nonmonotonic": dropped,
        "axis_slips": slips,
        "swapped_samples": int(swapped.sum()),
        "measured_rate_hz": (float((t.size - 1) / t[-1]) if t.size > 1 and t[-1] > 0
                             else None),
    }
    return Recording(
        name=os.path.splitext(os.path.basename(path))[0],
        t=t, acc=acc, gyro=gyro, rate_hz=rate, source=path,
        location=_body_location(body), bad_blocks=bad_blocks, start_epoch=start, info=info,
    )
