"""What the host sees of a candidate that the board could not: numbers the judgement weighs.

Three sources, all in what a board sends (docs/protocol.md):
* the board's features and verdict (why it dropped the candidate, if it did);
* the waveform: 0.3 s before and 0.7 s after the peak, so what followed the peak (a board
  decides before it has seen all of that);
* the neighbours: the other candidates of the same sensor in the seconds around it, so a
  series shows as a series (a board decides each candidate alone).
"""
import math

import numpy as np

from jerklog.evidence import VERDICT_NAMES, decode_wave

VERDICTS = tuple(VERDICT_NAMES[k] for k in sorted(VERDICT_NAMES))
NEIGHBOUR_S = 1.0     # candidates closer than this count as neighbours (series at >= 1 Hz)
GAP_CAP_S = 3.0       # a gap longer than this is as good as none
AFTER_MS = (150, 700)  # "what followed": from the end of a jerk's own burst to the window end
REBOUND_S = 0.4       # a candidate this soon after one 1.5x its size may be its rebound
BASE_GAP_MS = 80      # the baseline ends this long before the peak (the jerk's rise)

NAMES = (("bias", "log_peak_g", "log_duration_ms", "log_peak_over_level", "log_activity_g",
          "log_dps_per_g", "negative", "wave_pre_rms", "wave_after_max", "wave_after_busy",
          "log_gap_prev_s", "log_gap_next_s", "neighbours", "neighbour_peak_ratio",
          "prev_peak_ratio", "next_peak_ratio", "larger_before_soon")
         + tuple("verdict_" + v for v in VERDICTS))
# Not a feature: the board's context (rest, active, asleep). On generated data it stands for
# how many jerks the generator put into each context, a base rate no wearer shares.


def wave_shape(row: dict) -> tuple:
    """(pre_rms, after_max, after_busy) of a candidate's waveform, each over its own peak of
    dynamic acceleration |a - gravity| (gravity: the mean before the jerk's rise): the
    background before it, the largest movement after its own burst, and the share of the
    time after it spent above a quarter of the peak. (0, 0, 0) without a usable waveform."""
    values = decode_wave(row["wave"], row["n"], row["axes"]) if row.get("wave") else None
    if values is None or row["n"] < 4:
        return 0.0, 0.0, 0.0
    acc = values[:, :3].astype(np.float64) / 1000.0
    period = max(row["period_us"], 1) / 1000.0
    pre = row["pre"]
    base_end = max(int(pre - BASE_GAP_MS / period), 2)
    gravity = acc[:base_end].mean(axis=0)
    d = np.sqrt(((acc - gravity) ** 2).sum(axis=1))
    lo, hi = max(pre - 3, 0), min(pre + 4, len(d))
    peak = float(d[lo:hi].max()) if hi > lo else 0.0
    if peak <= 0.0:
        return 0.0, 0.0, 0.0
    pre_rms = float(np.sqrt((d[:base_end] ** 2).mean())) / peak
    a = pre + int(AFTER_MS[0] / period)
    b = min(pre + int(AFTER_MS[1] / period) + 1, len(d))
    if a >= b:
        return pre_rms, 0.0, 0.0
    after = d[a:b]
    return pre_rms, float(after.max()) / peak, float((after > 0.25 * peak).mean())


def _log(x, floor):
    return math.log(max(float(x), floor))


def feature_rows(cands: list) -> np.ndarray:
    """The NAMES features of each candidate of one sensor (dicts as evidence.join gives,
    ordered by t_ms), as an (n, len(NAMES)) array."""
    t = np.array([c["t_ms"] for c in cands], dtype=np.float64) / 1000.0
    peaks = np.array([c["peak_g"] for c in cands], dtype=np.float64)
    out = np.zeros((len(cands), len(NAMES)))
    col = {name: i for i, name in enumerate(NAMES)}
    for i, c in enumerate(cands):
        f = out[i]
        f[col["bias"]] = 1.0
        f[col["log_peak_g"]] = _log(c["peak_g"], 0.01)
        f[col["log_duration_ms"]] = _log(c["duration_ms"], 1.0)
        level = c.get("level_g") or 0.0
        f[col["log_peak_over_level"]] = _log(c["peak_g"] / level, 0.1) if level > 0 else 0.0
        f[col["log_activity_g"]] = _log(c["activity_g"], 0.001)
        dps = c.get("peak_dps")
        f[col["log_dps_per_g"]] = _log((dps or 0.0) / max(c["peak_g"], 0.01), 1.0)
        f[col["negative"]] = 1.0 if c.get("kind") == "negative" else 0.0
        pre_rms, after_max, after_busy = wave_shape(c)
        f[col["wave_pre_rms"]] = pre_rms
        f[col["wave_after_max"]] = min(after_max, 3.0)
        f[col["wave_after_busy"]] = after_busy
        gap_prev = t[i] - t[i - 1] if i > 0 else GAP_CAP_S
        gap_next = t[i + 1] - t[i] if i + 1 < len(t) else GAP_CAP_S
        f[col["log_gap_prev_s"]] = math.log(min(max(gap_prev, 0.05), GAP_CAP_S))
        f[col["log_gap_next_s"]] = math.log(min(max(gap_next, 0.05), GAP_CAP_S))
        lo = np.searchsorted(t, t[i] - NEIGHBOUR_S, "left")
        hi = np.searchsorted(t, t[i] + NEIGHBOUR_S, "right")
        near = hi - lo - 1
        f[col["neighbours"]] = min(near, 6)
        if near:
            others = np.concatenate([peaks[lo:i], peaks[i + 1:hi]])
            f[col["neighbour_peak_ratio"]] = _log(others.max() / max(peaks[i], 0.01), 0.05)
        # A series' jerks are alike; a rebound or a corrective movement follows a larger one.
        if i > 0:
            f[col["prev_peak_ratio"]] = _log(peaks[i - 1] / max(peaks[i], 0.01), 0.05)
        if i + 1 < len(t):
            f[col["next_peak_ratio"]] = _log(peaks[i + 1] / max(peaks[i], 0.01), 0.05)
        before = (t[lo:i] >= t[i] - REBOUND_S) & (peaks[lo:i] > 1.5 * peaks[i])
        f[col["larger_before_soon"]] = 1.0 if before.any() else 0.0
        verdict = "verdict_" + c["verdict"]
        if verdict in col:
            f[col[verdict]] = 1.0
    return out
