"""The host's judgement of a candidate: a logistic model over judge.features, its weights
fitted by `jerklog bench train-judge` on both generators' tuning seeds only
(docs/detector.md, "The host's judgement"), so its output is a probability: of the candidates
it gives about p, about p are jerks on data it was not fitted on (the calibration table in
docs/benchmarks.md)."""
import json
import os

import numpy as np

from jerklog.judge.features import NAMES, feature_rows

WEIGHTS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights.json")
# The board's decision stands unless the model is sure against it: a candidate the board
# dropped becomes an event at ADD_AT, a board's event is taken back below DROP_BELOW. Chosen
# on the tuning seeds: one cut at 0.5 there added twice the false events during activity for
# a tenth more jerks found (docs/benchmarks.md, "The host's judgement").
ADD_AT = 0.8
DROP_BELOW = 0.2


class Model:
    """Weights over standardised features: p = 1 / (1 + exp(-w . (x - mean) / sd))."""

    def __init__(self, names, mean, sd, w, name, trained_on=""):
        if tuple(names) != NAMES:
            raise ValueError("the judge's weights are for other features: run "
                             "`jerklog bench train-judge`")
        self.mean = np.asarray(mean, dtype=np.float64)
        self.sd = np.asarray(sd, dtype=np.float64)
        self.w = np.asarray(w, dtype=np.float64)
        self.name = name
        self.trained_on = trained_on

    @classmethod
    def load(cls, path: str = WEIGHTS_PATH) -> "Model":
        with open(path) as f:
            d = json.load(f)
        return cls(d["names"], d["mean"], d["sd"], d["w"], d["name"], d.get("trained_on", ""))

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "trained_on": self.trained_on,
                           "names": list(NAMES), "mean": [round(x, 6) for x in self.mean],
                           "sd": [round(x, 6) for x in self.sd],
                           "w": [round(x, 6) for x in self.w]}, indent=1) + "\n"

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        z = (features - self.mean) / self.sd
        # Rounded so that the store, analyze and a re-run all agree to the digit.
        return np.round(1.0 / (1.0 + np.exp(-(z @ self.w))), 4)


def fit(features: np.ndarray, labels: np.ndarray, name: str, trained_on: str,
        l2: float = 1.0) -> Model:
    """Logistic regression by Newton's method with an L2 penalty (not on the bias)."""
    mean = features.mean(axis=0)
    sd = features.std(axis=0)
    sd[sd == 0] = 1.0
    mean[0], sd[0] = 0.0, 1.0  # the bias column stays 1
    z = (features - mean) / sd
    w = np.zeros(z.shape[1])
    penalty = l2 * np.r_[0.0, np.ones(len(w) - 1)]
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        grad = z.T @ (p - labels) + penalty * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return Model(NAMES, mean, sd, w, name, trained_on)


_MODEL = None


def model() -> Model:
    global _MODEL
    if _MODEL is None:
        _MODEL = Model.load()
    return _MODEL


def judge_sensor(cands: list, m: Model | None = None) -> list:
    """[(kept 0/1, confidence 0..1, reason)] for the candidates of one sensor, ordered by
    t_ms (dicts as evidence.join gives). Confidence is the model's probability that the
    candidate is a jerk, whatever the decision."""
    if not cands:
        return []
    m = m or model()
    p = m.probabilities(feature_rows(cands))
    out = []
    for c, pk in zip(cands, p):
        board = c["verdict"]
        kept = int(pk >= DROP_BELOW) if board == "kept" else int(pk >= ADD_AT)
        if kept and board != "kept":
            reason = "kept: the board dropped it (%s)" % board
        elif not kept and board == "kept":
            reason = "dropped: the board kept it"
        else:
            reason = ("kept" if kept else "dropped") + ", as the board"
        out.append((kept, float(pk), reason))
    return out
