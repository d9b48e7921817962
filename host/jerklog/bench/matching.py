"""What the detector benchmarks share: matching detections to the truth, the isolation of a
spike from the movement around it, where the real recordings are."""
import os

import numpy as np

MATCH_MS = 100       # a detection within this of a true peak is that jerk
SURE = 0.5           # events at or above this confidence are the report's "sure" ones
SPIKE_WINDOW_S = 3.0  # isolation_ratio looks this far either side of an event
SPIKE_OWN_S = 0.2     # and leaves out this much either side: the spike's own samples


def match(truth_t_ms, det_t_ms, window_ms=MATCH_MS):
    """Greedy one-to-one matching by time, closest pairs first.

    Returns (pairs [(truth index, detection index)], unmatched detection indexes).
    """
    truth = np.asarray(truth_t_ms, dtype=float)
    det = np.asarray(det_t_ms, dtype=float)
    candidates = []
    if len(truth) and len(det):
        order = np.argsort(det)
        sorted_det = det[order]
        for i, t in enumerate(truth):
            lo = np.searchsorted(sorted_det, t - window_ms, "left")
            hi = np.searchsorted(sorted_det, t + window_ms, "right")
            for k in range(lo, hi):
                candidates.append((abs(sorted_det[k] - t), i, int(order[k])))
    candidates.sort()
    used_t, used_d, pairs = set(), set(), []
    for _, i, j in candidates:
        if i not in used_t and j not in used_d:
            used_t.add(i)
            used_d.add(j)
            pairs.append((i, j))
    unmatched = [j for j in range(len(det)) if j not in used_d]
    return pairs, unmatched


def real_data_dir():
    """shared/data/real beside the checkout (as in CI), or $JERKLOG_REAL_DATA."""
    env = os.environ.get("JERKLOG_REAL_DATA")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    for up in ("../../..", "../../../.."):
        path = os.path.normpath(os.path.join(here, up, "shared", "data", "real"))
        if os.path.isdir(path):
            return path
    return None


def isolation_ratio(t_s, acc_g, t_event_s, after=True):
    """Peak |a - local mean| within 50 ms of t_event_s over the largest one in the
    SPIKE_WINDOW_S either side (own SPIKE_OWN_S left out), or before it only if not `after`.
    t_s: (N,) s; acc_g: (N, 3) g."""
    lo, hi = np.searchsorted(t_s, [t_event_s - SPIKE_WINDOW_S - 0.5,
                                   t_event_s + SPIKE_WINDOW_S + 0.5])
    t = t_s[lo:hi]
    a = acc_g[lo:hi]
    rate = max(1, int(round(1.0 / np.median(np.diff(t)))))
    k = max(1, rate // 2)  # half-second moving mean: gravity and posture
    kernel = np.ones(k) / k
    mean = np.column_stack([np.convolve(a[:, i], kernel, "same") for i in range(3)])
    d = np.sqrt(((a - mean) ** 2).sum(axis=1))
    own = np.abs(t - t_event_s) <= 0.05
    around = (np.abs(t - t_event_s) <= SPIKE_WINDOW_S) & (np.abs(t - t_event_s) > SPIKE_OWN_S)
    if not after:
        around &= t < t_event_s
    if not own.any() or not around.any():
        return float("nan")
    return float(d[own].max() / max(d[around].max(), 1e-3))


def calibration(probabilities, labels, edges=np.linspace(0.0, 1.0, 11)):
    """[(bin low, bin high, candidates, share that are jerks)] for the calibration table."""
    p = np.asarray(probabilities)
    y = np.asarray(labels)
    idx = np.clip(np.digitize(p, edges) - 1, 0, len(edges) - 2)
    return [(edges[i], edges[i + 1], int((idx == i).sum()),
             float(y[idx == i].mean()) if (idx == i).any() else float("nan"))
            for i in range(len(edges) - 1)]
