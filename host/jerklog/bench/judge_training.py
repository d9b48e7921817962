"""Fitting the host's judgement (judge.model) and measuring it (issue 12, items 3-4).

The weights are fitted on the independent generator's family A tuning seeds only (the one
part of the benchmark that may be tuned on, bench/independent.py); held-out seeds, family B
and the original scenario generator are never looked at while fitting. Labels: a candidate is
a jerk when it is the one matched to a true jerk (bench.matching.match, 100 ms).
"""
import numpy as np

from jerklog.bench.independent import SETS, SUITE, rate_for
from jerklog.bench.matching import match
from jerklog.judge.capture import capture
from jerklog.judge.features import feature_rows
from jerklog.judge.model import WEIGHTS_PATH, fit
from jerklog.recordings.rawfile import RawSamples

REGION_OF = {"wrist": "left_wrist", "ankle": "right_ankle", "trunk": "trunk"}
TRAIN_SET = "tuning seeds"


def board_capture(s, settings=None):
    """What a board worn where the session says would send for an independent session."""
    raw = RawSamples.from_units(s.t, s.acc, s.gyro)
    return capture(raw.t_ms().tolist(), raw.values().tolist(), raw.rate_hz,
                   raw.gyro_ddps is not None, settings, REGION_OF[s.region])


def labelled(set_name=TRAIN_SET, log=print, suite=SUITE):
    """(features, labels) of every candidate of a seed set's sessions."""
    from jerklog.sim.independent import session
    family, seeds = SETS[set_name]
    xs, ys = [], []
    for seed in seeds:
        for index, (kind, minutes, region) in enumerate(suite):
            s = session(family, kind, minutes, rate_for(family, index, seed), region, seed)
            cap = board_capture(s)
            cands = sorted(cap.candidates, key=lambda c: (c["t_ms"], c["cand"]))
            if not cands:
                continue
            truth_ms = [(j.t - s.t[0]) * 1000.0 for j in s.jerks]
            pairs, _ = match(truth_ms, [c["t_ms"] for c in cands])
            y = np.zeros(len(cands))
            for _, ci in pairs:
                y[ci] = 1.0
            xs.append(feature_rows(cands))
            ys.append(y)
            log("  %s %-7s seed %d: %d candidates, %d of them jerks"
                % (family, kind, seed, len(cands), int(y.sum())))
    return np.vstack(xs), np.concatenate(ys)


def train(path=None, log=print):
    """Fit the judge on the tuning seeds and write its weights to path (the package's
    weights.json by default)."""
    path = path or WEIGHTS_PATH
    family, seeds = SETS[TRAIN_SET]
    x, y = labelled(TRAIN_SET, log)
    trained_on = "independent family %s, seeds %s: %d candidates, %d jerks" % (
        family, ",".join(map(str, seeds)), len(y), int(y.sum()))
    m = fit(x, y, "host-logistic-1", trained_on)
    with open(path, "w") as f:
        f.write(m.to_json())
    log("judge weights written to %s (%s)" % (path, trained_on))
    return m


def calibration(probabilities, labels, edges=np.linspace(0.0, 1.0, 11)):
    """[(bin low, bin high, candidates, share that are jerks)] for the calibration table."""
    p = np.asarray(probabilities)
    y = np.asarray(labels)
    idx = np.clip(np.digitize(p, edges) - 1, 0, len(edges) - 2)
    return [(edges[i], edges[i + 1], int((idx == i).sum()),
             float(y[idx == i].mean()) if (idx == i).any() else float("nan"))
            for i in range(len(edges) - 1)]
