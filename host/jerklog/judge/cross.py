"""What the other sensors worn at the same time show around a candidate (issue 12, item 3).

A step, a road bump, turning over or sitting down moves several sensors together; a focal
jerk moves one. But a generalised jerk moves several within 10-50 ms too, so none of these
is a rule: they are features the judgement weighs (judge/model.py), fitted on a benchmark
that has all three kinds of jerk and the body-wide movements (sim/independent/body.py).

Times: every sensor's candidates on one axis, in ms. In a store that is the evidence's
time_ms (Unix ms after retime: boards/clock.py keeps the sensors of one wearer within
20 ms); in memory, each capture's t_ms plus its clock offset. COINCIDENT_MS covers that
20 ms, the generalised lag and a step's travel from the ankle to the wrist.
"""
import math

import numpy as np

from jerklog.evidence import decode_wave

COINCIDENT_MS = 100.0   # another sensor's candidate this close is "at the same time"
AROUND_MS = 3000.0      # the seconds around: how busy the others are
RHYTHM_MS = 4000.0      # and whether their candidates keep a gait's rhythm
WORN_MARGIN_MS = 5000.0  # a sensor counts as worn this far beyond its first/last record
GRID_MS = np.arange(-150.0, 151.0, 5.0)   # where two waveforms are compared
BASE_GAP_MS = 80.0      # as features.wave_shape: the baseline ends this long before the peak
CROSS_NAMES = ("x_coincident", "x_peak_ratio", "x_lag", "x_shape_corr", "x_others_busy",
               "x_others_rhythm")


def _profile(row):
    """|dynamic acceleration| of a candidate's waveform on GRID_MS around its peak, or None
    without a usable waveform."""
    values = decode_wave(row["wave"], row["n"], row["axes"]) if row.get("wave") else None
    if values is None or row["n"] < 8:
        return None
    acc = values[:, :3].astype(np.float64)
    period = max(row["period_us"], 1) / 1000.0
    pre = row["pre"]
    base_end = max(int(pre - BASE_GAP_MS / period), 2)
    d = np.sqrt(((acc - acc[:base_end].mean(axis=0)) ** 2).sum(axis=1))
    rel = (np.arange(len(d)) - pre) * period
    return np.interp(GRID_MS, rel, d, left=0.0, right=0.0)


class SensorView:
    """One sensor's candidates on the shared time axis: cands (dicts as evidence.join gives,
    with a wave), times_ms (the shared axis, same order), extent (first, last ms the sensor
    recorded, shared axis; default: its first and last candidate)."""

    def __init__(self, cands, times_ms, extent=None):
        order = np.argsort(np.asarray(times_ms, dtype=np.float64), kind="stable")
        self.order = order    # self.cands[k] is cands[order[k]]
        self.cands = [cands[i] for i in order]
        self.t = np.asarray(times_ms, dtype=np.float64)[order]
        self.peaks = np.array([c["peak_g"] for c in self.cands], dtype=np.float64)
        if extent is None:
            extent = (self.t[0], self.t[-1]) if len(self.t) else (math.inf, -math.inf)
        self.extent = extent
        self._profiles = {}

    def worn_at(self, t_ms: float) -> bool:
        return self.extent[0] - WORN_MARGIN_MS <= t_ms <= self.extent[1] + WORN_MARGIN_MS

    def profile(self, i):
        if i not in self._profiles:
            self._profiles[i] = _profile(self.cands[i])
        return self._profiles[i]


def _corr(a, b):
    if a is None or b is None:
        return 0.0
    a, b = a - a.mean(), b - b.mean()
    den = math.sqrt(float(a @ a) * float(b @ b))
    return float(a @ b) / den if den > 0 else 0.0


def _rhythm(times):
    """How regular a run of candidate times is, 0..1: 1 - the spread of their intervals over
    their mean, for 4 or more candidates whose intervals average 0.3-1.5 s (steps, strides);
    0 otherwise."""
    if len(times) < 4:
        return 0.0
    d = np.diff(times)
    mean = d.mean()
    if not 300.0 <= mean <= 1500.0:
        return 0.0
    return max(0.0, 1.0 - float(d.std()) / mean)


def cross_rows(own: SensorView, others: list) -> tuple:
    """(rows, worn): CROSS_NAMES of each of own's candidates (own.cands order) as an (n, 6)
    array, and whether any other sensor was worn at its time (the rows of those that were
    not are zeros, unused: judge.model falls back to the single-sensor judgement there)."""
    n = len(own.t)
    rows = np.zeros((n, len(CROSS_NAMES)))
    worn = np.zeros(n, dtype=bool)
    for i in range(n):
        t, peak = own.t[i], max(own.peaks[i], 0.01)
        here = [o for o in others if o.worn_at(t)]
        if not here:
            continue
        worn[i] = True
        hits, ratio, lag, corr, busy, rhythm = 0, 0.05, COINCIDENT_MS, 0.0, 0.0, 0.0
        for o in here:
            lo, hi = np.searchsorted(o.t, [t - COINCIDENT_MS, t + COINCIDENT_MS])
            if hi > lo:
                hits += 1
                j = lo + int(np.argmin(np.abs(o.t[lo:hi] - t)))
                ratio = max(ratio, o.peaks[lo:hi].max() / peak)
                lag = min(lag, abs(o.t[j] - t))
                corr = max(corr, _corr(own.profile(i), o.profile(j)))
            a, b = np.searchsorted(o.t, [t - AROUND_MS, t + AROUND_MS])
            busy += math.log1p((b - a) - (hi - lo))
            a, b = np.searchsorted(o.t, [t - RHYTHM_MS, t + RHYTHM_MS])
            rhythm = max(rhythm, _rhythm(o.t[a:b]))
        rows[i] = (hits / len(here), math.log(min(ratio, 20.0)), lag / COINCIDENT_MS, corr,
                   busy / len(here), rhythm)
    return rows, worn


def views_of_captures(caps, clocks_ms=None) -> list:
    """A SensorView of each capture (judge.capture.Captured) worn at once, its t_ms plus its
    clock offset (ms, default 0) on the shared axis; extent from its epochs (a sensor that
    recorded but saw no candidate is still worn)."""
    out = []
    for k, cap in enumerate(caps):
        off = (clocks_ms[k] if clocks_ms else 0.0)
        cands = sorted(cap.candidates, key=lambda c: (c["t_ms"], c["cand"]))
        times = [c["t_ms"] + off for c in cands]
        starts = [e["t_ms"] for e in cap.epochs] + [c["t_ms"] for c in cands]
        extent = (min(starts) + off, max(starts) + off + 5000.0) if starts else None
        out.append(SensorView(cands, times, extent))
    return out
