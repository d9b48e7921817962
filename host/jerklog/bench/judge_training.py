"""Fitting the host's judgement (judge.model) and measuring it (issue 12, items 3-4).

The weights are fitted on the tuning seeds of both generators only: the scenario suite's
(bench/detect.py, seeds 1 and 2) and the independent generator's family A (bench/
independent.py, seeds 11 and 12). Their held-out seeds, the independent family B and the real
recordings are never looked at while fitting. Labels: a candidate is a jerk when it is the
one matched to a true jerk (bench.matching.match, 100 ms).

The several-sensor term (judge.model, the "cross" entry of weights.json) is fitted afterwards on the
several-sensor sessions of family A's tuning seeds only (bench/body.py), with the
single-sensor model's log-odds as a fixed offset, so that it learns only what the other
sensors and the epochs add.

Why both: fitted on the independent generator alone, the judgement added 78-82 false events
an hour of the scenario suite's daily activity (typing, scratching), movements that
generator does not make (docs/benchmarks.md, "The host's judgement").
"""
import numpy as np

from jerklog.bench.independent import SETS, SUITE, rate_for
from jerklog.bench.matching import match
from jerklog.judge.capture import capture
from jerklog.judge.cross import CROSS_NAMES
from jerklog.judge.features import feature_rows
from jerklog.judge.model import WEIGHTS_PATH, cross_columns, fit
from jerklog.recordings.rawfile import RawSamples

TRAIN_SET = "tuning seeds"
# The several-sensor term's features: what the other sensors show. The epochs
# (judge.epochs.EPOCH_NAMES) are left out: see docs/benchmarks.md, "The host's judgement
# across sensors", for what they did on held-out data.
CROSS_USED = ("bias",) + CROSS_NAMES


def board_capture(s, settings=None):
    """What a board worn where the session says would send for an independent session."""
    raw = RawSamples.from_units(s.t, s.acc, s.gyro)
    return capture(raw.t_ms().tolist(), raw.values().tolist(), raw.rate_hz,
                   raw.gyro_ddps is not None, settings, s.region)


def _labels(cap, truth_ms):
    """(features, labels) of a capture's candidates against true peak times (ms, device
    clock): 1 for the candidate matched to a true jerk."""
    cands = sorted(cap.candidates, key=lambda c: (c["t_ms"], c["cand"]))
    if not cands:
        return np.zeros((0, 0)), np.zeros(0)
    pairs, _ = match(truth_ms, [c["t_ms"] for c in cands])
    y = np.zeros(len(cands))
    for _, ci in pairs:
        y[ci] = 1.0
    return feature_rows(cands), y


def labelled(set_name=TRAIN_SET, log=print, suite=SUITE):
    """(features, labels) of every candidate of a seed set's sessions."""
    from jerklog.sim.independent import session
    family, seeds = SETS[set_name]
    xs, ys = [], []
    for seed in seeds:
        for index, (kind, minutes, region) in enumerate(suite):
            s = session(family, kind, minutes, rate_for(family, index, seed), region, seed)
            cap = board_capture(s)
            x, y = _labels(cap, [(j.t - s.t[0]) * 1000.0 for j in s.jerks])
            if len(y):
                xs.append(x)
                ys.append(y)
                log("  %s %-7s seed %d: %d candidates, %d of them jerks"
                    % (family, kind, seed, len(y), int(y.sum())))
    return np.vstack(xs), np.concatenate(ys)


def labelled_scenarios(seeds=None, log=print):
    """(features, labels) of every candidate of the scenario suite's tuning seeds."""
    from jerklog.bench.detect import SEED_SETS
    from jerklog.bench.detect import SUITE as SCENARIOS
    from jerklog.sim.generate import generate
    xs, ys = [], []
    for name, minutes, rate, region, sensor in SCENARIOS:
        for seed in seeds or SEED_SETS["tuning"]:
            scn, raw = generate(name, minutes, rate, seed, region, sensor)
            cap = capture(raw.t_ms(), raw.values(), raw.rate_hz, raw.gyro_ddps is not None,
                          None, region)
            x, y = _labels(cap, [1000.0 * e.t for e in scn.truth])
            if len(y):
                xs.append(x)
                ys.append(y)
                log("  scenario %-9s seed %d: %d candidates, %d of them jerks"
                    % (name, seed, len(y), int(y.sum())))
    return np.vstack(xs), np.concatenate(ys)


def labelled_body(m, set_name=TRAIN_SET, log=print):
    """(cross features, labels, the single-sensor model m's log-odds) of every candidate of
    a set's several-sensor sessions for which another sensor was worn."""
    from jerklog.bench.body import BODY_SUITE, body_captures
    from jerklog.judge.model import cross_features
    from jerklog.sim.independent.body import body_session
    family, seeds = SETS[set_name]
    xs, ys, offs = [], [], []
    for seed in seeds:
        for index, (kind, minutes) in enumerate(BODY_SUITE):
            b = body_session(family, kind, minutes, rate_for(family, index, seed), seed)
            caps, views = body_captures(b)
            jerks = 0
            for k, (s, cap) in enumerate(zip(b.sensors, caps)):
                cands = sorted(cap.candidates, key=lambda c: (c["t_ms"], c["cand"]))
                if not cands:
                    continue
                base, y = _labels(cap, [(j.t - s.t[0]) * 1000.0 for j in s.jerks])
                rows, worn = cross_features(cands, [c["t_ms"] + b.clock_ms[k] for c in cands],
                                            views[:k] + views[k + 1:], cap.epochs)
                xs.append(rows[worn])
                ys.append(y[worn])
                offs.append(m.logits(base)[worn])
                jerks += int(y.sum())
            log("  body %s %-7s seed %d: %d candidates, %d of them jerks"
                % (family, kind, seed, sum(len(c.candidates) for c in caps), jerks))
    return np.vstack(xs), np.concatenate(ys), np.concatenate(offs)


def train(path=None, log=print):
    """Fit the judge on both generators' tuning seeds and write its weights to path (the
    package's weights.json by default) with the several-sensor term fitted on top of it."""
    from jerklog.bench.detect import SEED_SETS
    path = path or WEIGHTS_PATH
    family, seeds = SETS[TRAIN_SET]
    xa, ya = labelled(TRAIN_SET, log)
    xb, yb = labelled_scenarios(log=log)
    x, y = np.vstack([xa, xb]), np.concatenate([ya, yb])
    trained_on = ("independent family %s, seeds %s, and the scenario suite, seeds %s: %d "
                  "candidates, %d jerks" % (family, ",".join(map(str, seeds)),
                                            ",".join(map(str, SEED_SETS["tuning"])), len(y),
                                            int(y.sum())))
    m = fit(x, y, "host-logistic-1", trained_on)
    xc, yc, off = labelled_body(m, log=log)
    cross_on = ("several-sensor sessions (bench/body.py) of independent family %s, seeds "
                "%s, on top of %s: %d candidates, %d jerks"
                % (family, ",".join(map(str, seeds)), m.name, len(yc), int(yc.sum())))
    cm = fit(xc[:, cross_columns(CROSS_USED)], yc, "cross-1", cross_on, offset=off,
             names=CROSS_USED)
    with open(path, "w") as f:
        f.write(m.to_json(cm))
    log("judge weights written to %s (%s; %s)" % (path, trained_on, cross_on))
    return m
