"""Axivity AX3 / AX6 ``.cwa`` files read in chunks of blocks, so a recording of any length
streams in bounded memory (load_cwa in axivity.py reads a whole file at once; its layout
notes are the format's summary). The same checks and the same sample times as load_cwa:

* every 512-byte block is checked (magic "AX", length 508, the 16-bit word sum is zero, a
  valid timestamp, the sample format and rate of the first good block, a sample count that
  fits); a failing block is skipped, counted per reason, and its samples are reported lost
  (never decoded);
* sample times are interpolated between the blocks' reference points, within runs of blocks
  whose sequence ids follow each other; a run also ends where logging resumed, where time
  stands still or goes back, and (here, not in load_cwa) where the clock jumps: two blocks
  whose times disagree with their sample counts by more than half the nominal rate;
* a chunk is decoded with CONTEXT blocks either side, so interpolation and the extrapolation
  at a run's ends (over up to 8 block intervals) see what the whole file would show.
"""
import os

import numpy as np

from jerklog.recordings import axivity as ax
from jerklog.recordings.logger import LoggerFile, to_grid
from jerklog.recordings.recording import file_error

CHUNK_BLOCKS = 2048   # blocks decoded at once (1 MB of file, ~4 min of 6-axis data at 100 Hz)
CONTEXT = 9           # blocks either side: a run's end extrapolates over 8 block intervals
JUMP = 0.5            # a block-to-block rate this far (fraction) off nominal: a clock jump


def _header(path, buf, size):
    if buf[:2] != b"MD":
        raise file_error(path, "not an Axivity .cwa file: it starts with %r, not b'MD'"
                         % bytes(buf[:2]))
    if size < ax.CWA_HEADER_SIZE:
        raise file_error(path, "truncated .cwa file: %d bytes, the header alone needs %d"
                         % (size, ax.CWA_HEADER_SIZE))
    if int.from_bytes(buf[2:4], "little") + 4 != ax.CWA_HEADER_SIZE:
        raise file_error(path, "not an Axivity .cwa file: header length %d (expected 1020)"
                         % int.from_bytes(buf[2:4], "little"))
    hw = buf[4]
    model = "AX6" if hw == 0x64 else ("AX3" if hw in (0x00, 0xFF, 0x17) else "0x%02x" % hw)
    device_id = int.from_bytes(buf[5:7], "little")
    upper = int.from_bytes(buf[11:13], "little")
    if upper != 0xFFFF:
        device_id |= upper << 16
    session = int.from_bytes(buf[7:11], "little")
    return model, device_id, session, ax._cwa_metadata(buf[64:512])


def _block_checks(blocks, words):
    """Per block: (ok mask before format checks, {reason: mask of blocks failing first})."""
    fails = {}
    ok = np.ones(len(blocks), dtype=bool)
    tests = [("magic", blocks["magic"] == b"AX"),
             ("length", blocks["length"] == ax.CWA_BLOCK_SIZE - 4),
             ("checksum", (words.sum(axis=1, dtype=np.uint64) & 0xFFFF) == 0)]
    for reason, good in tests:
        fails[reason] = ok & ~good
        ok &= good
    return ok, fails


class _Format:
    """The sample format of the first good block, which every block must keep."""

    def __init__(self, path, block):
        self.axes_bps = int(block["axes_bps"])
        self.rate_code = int(block["rate_code"])
        channels, bps = self.axes_bps >> 4, self.axes_bps & 0x0F
        if self.rate_code == 0:
            raise file_error(path, "unsupported very old .cwa data format (rate code 0)")
        if bps == 0 and channels == 3:
            self.bytes_per_sample = 4
        elif bps == 2 and channels in (3, 6, 9):
            self.bytes_per_sample = 2 * channels
        else:
            raise file_error(path, "unsupported .cwa sample format numAxesBPS=0x%02x"
                             % self.axes_bps)
        self.channels = channels
        self.per_block = 480 // self.bytes_per_sample
        self.rate = ax._rate_from_code(self.rate_code)


def _first_good(path, f, n_blocks):
    """The first block that passes the block checks, and its index."""
    for a in range(0, n_blocks, CHUNK_BLOCKS):
        blocks, words = _read(f, a, min(n_blocks, a + CHUNK_BLOCKS))
        ok, _ = _block_checks(blocks, words)
        secs_ok = ax._cwa_time(blocks["timestamp"])[1]
        good = np.flatnonzero(ok & secs_ok & (blocks["sample_count"] > 0))
        if good.size:
            return a + int(good[0]), blocks[good[0]]
    raise file_error(path, "no valid .cwa data blocks among %d" % n_blocks)


def _read(f, a, b):
    f.seek(ax.CWA_HEADER_SIZE + a * ax.CWA_BLOCK_SIZE)
    raw = f.read((b - a) * ax.CWA_BLOCK_SIZE)
    blocks = np.frombuffer(raw, dtype=ax._CWA_BLOCK)
    words = np.frombuffer(raw, dtype="<u2").reshape(len(blocks), ax.CWA_BLOCK_SIZE // 2)
    return blocks, words


def open_cwa(path) -> LoggerFile:
    """Open a .cwa file: header and first good block now, samples in chunks()."""
    path = os.fspath(path)
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(ax.CWA_HEADER_SIZE)
        model, device_id, session, meta = _header(path, head, size)
        n_blocks = (size - ax.CWA_HEADER_SIZE) // ax.CWA_BLOCK_SIZE
        if n_blocks == 0:
            raise file_error(path, "truncated .cwa file: header only, no data blocks")
        _, first = _first_good(path, f, n_blocks)
    fmt = _Format(path, first)
    base = int(ax._cwa_time(np.array([first["timestamp"]]))[0][0])
    checks = {"blocks": n_blocks, "bad_blocks": 0, "bad_block_reasons": {},
              "sequence_gaps": 0, "time_jumps": 0, "segments": 0, "lost_samples": 0,
              "truncated_tail_bytes": (size - ax.CWA_HEADER_SIZE) % ax.CWA_BLOCK_SIZE,
              "samples_dropped_nonmonotonic": 0}
    state = {"t0": None, "tmax": -np.inf}

    def chunks(chunk_blocks=CHUNK_BLOCKS):
        """The samples, CHUNK_BLOCKS blocks at a time; start_ms is the first sample's time
        once the first chunk is out (extrapolated before the first block's timestamp)."""
        with open(path, "rb") as f:
            for a in range(0, n_blocks, chunk_blocks):
                b = min(n_blocks, a + chunk_blocks)
                lo, hi = max(0, a - CONTEXT), min(n_blocks, b + CONTEXT)
                blocks, words = _read(f, lo, hi)
                out = _decode(path, blocks, words, a - lo, b - lo, fmt, base, checks, state)
                if out is not None:
                    if lf.start_ms is None:
                        lf.start_ms = int(round((base + state["t0"]) * 1000))
                    yield out

    per_block = int(first["sample_count"])
    lf = LoggerFile(
        path, "cwa", model, str(device_id), "%d@%d" % (session, base),
        None, None, fmt.rate,
        fmt.channels >= 6, n_blocks * per_block, chunks,
        location=meta.get("_p", ""), checks=checks)
    return lf


def _decode(path, blocks, words, keep_lo, keep_hi, fmt, base, checks, state):
    """Samples of blocks keep_lo..keep_hi-1 of this window (the rest is context), as a Chunk
    relative to the recording's first sample; counts go into checks."""
    n = len(blocks)
    ok, fails = _block_checks(blocks, words)
    fails["format_change"] = ok & ~((blocks["axes_bps"] == fmt.axes_bps)
                                    & (blocks["rate_code"] == fmt.rate_code))
    ok &= ~fails["format_change"]
    fails["sample_count"] = ok & ~(blocks["sample_count"] <= fmt.per_block)
    ok &= ~fails["sample_count"]
    secs, ts_ok = ax._cwa_time(blocks["timestamp"])
    fails["timestamp"] = ok & ~ts_ok
    ok &= ts_ok
    keep = np.zeros(n, dtype=bool)
    keep[keep_lo:keep_hi] = True
    for reason, mask in fails.items():
        k = int((mask & keep).sum())
        if k:
            r = checks["bad_block_reasons"]
            r[reason] = r.get(reason, 0) + k
            checks["bad_blocks"] += k
    bad_here = ~ok & keep
    ok &= blocks["sample_count"] > 0
    idx = np.flatnonzero(ok)
    if not np.any(ok & keep):
        lost = int(bad_here.sum()) * fmt.per_block
        checks["lost_samples"] += lost
        state["pending_lost"] = state.get("pending_lost", 0) + lost
        return None
    b = blocks[idx]
    counts = b["sample_count"].astype(np.int64)
    raw = np.frombuffer(b["data"].tobytes(), dtype=np.uint8).reshape(len(b), 480)
    present = np.arange(fmt.per_block)[None, :] < counts[:, None]
    gyro = None
    if fmt.bytes_per_sample == 4:
        packed = raw.view("<u4")[present].astype(np.int64)
        exp = packed >> 30
        acc_raw = np.empty((packed.size, 3), dtype=np.int64)
        for k in range(3):
            v = (packed >> (10 * k)) & 0x3FF
            acc_raw[:, k] = ((v ^ 0x200) - 0x200) << exp
        acc_unit = np.full(len(b), 256.0)
    else:
        vals = np.ascontiguousarray(raw[:, : fmt.per_block * fmt.bytes_per_sample]).view("<i2")
        vals = vals.reshape(len(b), fmt.per_block, fmt.channels)[present].astype(np.int64)
        acc_unit = 2.0 ** (8 + (b["light_scale"] >> 13).astype(np.int64))
        if fmt.channels == 3:
            acc_raw = vals[:, 0:3]
        else:
            gyro_raw, acc_raw = vals[:, 0:3], vals[:, 3:6]
            if fmt.channels == 6:
                swapped, _ = ax._find_axis_slips(gyro_raw, acc_raw, np.repeat(acc_unit, counts),
                                              max(8, int(fmt.rate // 2)))
                if swapped.any():
                    gyro_raw, acc_raw = gyro_raw.copy(), acc_raw.copy()
                    gyro_raw[swapped], acc_raw[swapped] = vals[swapped, 3:6], vals[swapped, 0:3]
            code = (b["light_scale"] >> 10) & 0x07
            rng = np.where(code != 0, 8000.0 / 2.0 ** code, 2000.0)
            gyro = gyro_raw * (np.repeat(rng, counts) / 32768.0)[:, None]
    acc = acc_raw / np.repeat(acc_unit, counts)[:, None]

    # times, as load_cwa: reference points per block, interpolated within runs
    ref_time, ref_index, first_sample = ax.block_reference_points(b, secs[idx] - base,
                                                                  counts, fmt.rate)
    seq = b["sequence_id"].astype(np.int64)
    d_index, d_time = np.diff(ref_index), np.diff(ref_time)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_between = d_index / d_time
    seq_gap = seq[1:] != seq[:-1] + 1
    # across missing blocks the time gap is theirs, not the clock's
    jump = (d_time > 0) & (d_index > 0) & (np.abs(rate_between / fmt.rate - 1) > JUMP) \
        & ~seq_gap
    brk = np.ones(len(b), dtype=bool)
    brk[1:] = (seq_gap | (b["session_id"][1:] != b["session_id"][:-1])
               | ((b["events"][1:] & 0x01) != 0) | (d_index <= 0) | (d_time <= 0) | jump)
    kept = (idx >= keep_lo) & (idx < keep_hi)
    kb = np.flatnonzero(kept)
    # a run break at a kept block is counted once (the block before it may be context)
    checks["segments"] += int(brk[kb].sum())
    checks["time_jumps"] += int(jump[kb[kb > 0] - 1].sum())
    # blocks the sequence ids say are missing from the file (not bad ones it holds)
    prev_seq = np.concatenate(([-1], seq[:-1]))
    missing = np.where((np.arange(len(b)) > 0) & (seq > prev_seq), seq - prev_seq - 1, 0)
    skipped = np.concatenate(([0], np.diff(idx) - 1))  # bad or empty blocks between
    missing = np.maximum(missing - skipped, 0)
    checks["sequence_gaps"] += int((missing[kb] > 0).sum())
    starts = np.flatnonzero(brk)
    stops = np.append(starts[1:], len(b))
    t_dev = ax.times_within_runs(ref_time, ref_index, first_sample, counts, starts, stops,
                                 fmt.rate)
    # only the kept blocks' samples
    sample_kept = np.repeat(kept, counts)
    t_dev, acc = t_dev[sample_kept], acc[sample_kept]
    gyro = gyro[sample_kept] if gyro is not None else None
    # lost samples: bad blocks and missing sequence ids before each kept block; bad blocks
    # after the last good one are lost before the next chunk's first sample
    bad_idx = np.flatnonzero(bad_here)
    upto = np.searchsorted(bad_idx, idx[kb])
    lost = (np.diff(np.concatenate(([0], upto))) + missing[kb]) * fmt.per_block
    checks["lost_samples"] += (bad_idx.size + int(missing[kb].sum())) * fmt.per_block
    lost[0] += state.pop("pending_lost", 0)
    state["pending_lost"] = (bad_idx.size - int(upto[-1])) * fmt.per_block
    block_start = np.concatenate(([0], np.cumsum(counts[kb])[:-1]))
    lost_pairs = [(int(i), int(k)) for i, k in zip(block_start, lost) if k]
    # strictly increasing times across the whole file (a clock step back drops samples)
    mono = np.empty(t_dev.size, dtype=bool)
    run_max = np.maximum.accumulate(np.concatenate(([state["tmax"]], t_dev)))
    mono[:] = t_dev > run_max[:-1]
    dropped = int((~mono).sum())
    if dropped:
        checks["samples_dropped_nonmonotonic"] += dropped
        cum = np.cumsum(~mono)
        lost_pairs = [(int(i - cum[i - 1]) if i else 0, k) for i, k in lost_pairs]
        t_dev, acc = t_dev[mono], acc[mono]
        gyro = gyro[mono] if gyro is not None else None
    if not t_dev.size:
        return None
    state["tmax"] = max(state["tmax"], float(t_dev[-1]))
    if state["t0"] is None:
        state["t0"] = float(t_dev[0])
        lost_pairs = [(i, k) for i, k in lost_pairs if i > 0]  # before the first sample: none
    return to_grid(t_dev - state["t0"], acc, gyro, lost_pairs)
