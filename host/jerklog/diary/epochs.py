"""Sleep and non-wear from the boards' 5 s activity epochs (issue 12, item 2).

Sleep follows two published methods for wrist-worn accelerometers, applied to the epochs'
mean gravity vector (the methods use the same 5 s means of the raw signal):

* van Hees VT et al. (2015), "A novel, open access method to assess sleep duration using a
  wrist-worn accelerometer", PLoS ONE 10(11): e0142533. The angle of the sensor's z axis to
  the horizontal plane, per 5 s; a *sustained inactivity bout* is at least 5 minutes in which
  that angle changes by no more than 5 degrees from one epoch to the next.
* van Hees VT et al. (2018), "Estimating sleep parameters using an accelerometer without sleep
  diary", Scientific Reports 8: 12975 (the HDCZA heuristic): the 5-minute rolling median of
  the absolute angle change is below 15 times its 10th percentile (over the recording) for
  more than 30 minutes; such blocks less than 60 minutes apart are joined. That is the sleep
  period time window.

Sleep is the sustained inactivity bouts inside a sleep period window. The board's axes are as
hardware/wearing.md has them (z perpendicular to the board, as a watch's face), so the angle is
the one the methods use at the wrist; on the trunk or an ankle it is the same computation but
neither paper validated it there (docs/diary.md says so).

Non-wear adapts van Hees et al. (2011, 2013; PLoS ONE 8(4): e61691) to what an epoch holds: a
sensor lying off the body does not move at all, so a stretch of at least 60 minutes in which no
epoch's largest dynamic acceleration reaches 50 mg and the gravity vector never turns more than
2 degrees is taken as not worn. The papers test the standard deviation (< 13 mg) and range
(< 50 mg) of raw samples; the epoch carries the largest |dynamic acceleration| instead.
"""
import numpy as np

EPOCH_MS = 5000
SIB_MIN_MS = 5 * 60000        # a sustained inactivity bout lasts at least this
SIB_MAX_CHANGE_DEG = 5.0      # and its angle changes by at most this between epochs
HDCZA_MEDIAN_MS = 5 * 60000   # rolling median of the angle change over this
HDCZA_FACTOR = 15.0           # threshold: this times the 10th percentile of that median
HDCZA_BOUNDS_DEG = (0.13, 0.5)  # the threshold is kept inside these (see sleep_windows)
HDCZA_MIN_BLOCK_MS = 30 * 60000
HDCZA_JOIN_GAP_MS = 60 * 60000
NON_WEAR_MS = 60 * 60000
NON_WEAR_MAX_MG = 50
NON_WEAR_TURN_DEG = 2.0


def angle_z_deg(gx, gy, gz) -> np.ndarray:
    """Angle of the z axis to the horizontal plane, degrees (-90..90), from mean gravity."""
    gx, gy, gz = (np.asarray(v, dtype=np.float64) for v in (gx, gy, gz))
    return np.degrees(np.arctan2(gz, np.sqrt(gx * gx + gy * gy)))


def _runs(mask):
    """[(start, end)) index runs where mask is True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def _contiguous(t_ms):
    """Index runs of epochs that follow each other without a gap (a board off, a lost
    epoch): the methods need an unbroken series."""
    if len(t_ms) == 0:
        return []
    cuts = np.flatnonzero(np.diff(t_ms) > 1.5 * EPOCH_MS) + 1
    bounds = np.concatenate([[0], cuts, [len(t_ms)]])
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


def sustained_inactivity(t_ms, angle) -> list:
    """[(start ms, end ms)) bouts of at least SIB_MIN_MS whose angle changes by at most
    SIB_MAX_CHANGE_DEG between consecutive epochs (van Hees 2015)."""
    t_ms = np.asarray(t_ms, dtype=np.int64)
    out = []
    for a, b in _contiguous(t_ms):
        change = np.abs(np.diff(angle[a:b]))
        still = np.concatenate([[True], change <= SIB_MAX_CHANGE_DEG])
        for s, e in _runs(still):
            start, end = int(t_ms[a + s]), int(t_ms[a + e - 1]) + EPOCH_MS
            if end - start >= SIB_MIN_MS:
                out.append((start, end))
    return out


def _rolling_median(x, n):
    """Median of each centred window of n values (shorter at the ends)."""
    half = n // 2
    return np.array([np.median(x[max(0, i - half):i + half + 1]) for i in range(len(x))])


def sleep_windows(t_ms, angle) -> list:
    """[(start ms, end ms)) sleep period time windows by the HDCZA heuristic (van Hees
    2018): every block found, joined across short gaps (the paper keeps the longest per
    day; a diary of several nights and naps keeps them all)."""
    t_ms = np.asarray(t_ms, dtype=np.int64)
    blocks = []
    for a, b in _contiguous(t_ms):
        if b - a < 3:
            continue
        change = np.abs(np.diff(angle[a:b]))
        med = _rolling_median(change, HDCZA_MEDIAN_MS // EPOCH_MS)
        # Bounded, so that a recording of one night alone (no day to set the percentile by)
        # still has a waking reference: a choice made here, not in the paper.
        threshold = np.clip(HDCZA_FACTOR * np.percentile(med, 10), *HDCZA_BOUNDS_DEG)
        for s, e in _runs(med <= threshold):
            start, end = int(t_ms[a + s]), int(t_ms[a + e]) + EPOCH_MS
            if end - start > HDCZA_MIN_BLOCK_MS:
                blocks.append([start, end])
    joined = []
    for start, end in sorted(blocks):
        if joined and start - joined[-1][1] < HDCZA_JOIN_GAP_MS:
            joined[-1][1] = max(joined[-1][1], end)
        else:
            joined.append([start, end])
    return [tuple(w) for w in joined]


def sleep_periods(t_ms, gx, gy, gz) -> list:
    """[(start ms, end ms)) asleep: sustained inactivity bouts inside sleep windows."""
    angle = angle_z_deg(gx, gy, gz)
    windows = sleep_windows(t_ms, angle)
    out = []
    for s, e in sustained_inactivity(t_ms, angle):
        for ws, we in windows:
            a, b = max(s, ws), min(e, we)
            if b - a >= SIB_MIN_MS:
                out.append((a, b))
    return out


def non_wear(t_ms, gx, gy, gz, max_mg) -> list:
    """[(start ms, end ms)) stretches of at least NON_WEAR_MS without any movement: no
    epoch's largest dynamic acceleration at NON_WEAR_MAX_MG, gravity turned at most
    NON_WEAR_TURN_DEG from the stretch's first epoch."""
    t_ms = np.asarray(t_ms, dtype=np.int64)
    g = np.stack([np.asarray(v, dtype=np.float64) for v in (gx, gy, gz)], axis=1)
    norm = np.linalg.norm(g, axis=1)
    unit = g / np.where(norm > 0, norm, 1.0)[:, None]
    quiet = np.asarray(max_mg) < NON_WEAR_MAX_MG
    cos_turn = np.cos(np.radians(NON_WEAR_TURN_DEG))
    out = []
    for a, b in _contiguous(t_ms):
        i = a
        while i < b:
            if not quiet[i]:
                i += 1
                continue
            j = i
            while j + 1 < b and quiet[j + 1] and unit[j + 1] @ unit[i] >= cos_turn:
                j += 1
            start, end = int(t_ms[i]), int(t_ms[j]) + EPOCH_MS
            if end - start >= NON_WEAR_MS:
                out.append((start, end))
            i = j + 1
    return out
