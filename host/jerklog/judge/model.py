"""The host's judgement of a candidate: a logistic model over judge.features, its weights
fitted by `jerklog bench train-judge` on both generators' tuning seeds only
(docs/detector.md, "The host's judgement"), so its output is a probability: of the candidates
it gives about p, about p are jerks on data it was not fitted on (the calibration table in
docs/benchmarks.md).

Where another sensor of the same wearer was worn at the candidate's time, a second logistic
model adds to the first one's log-odds what the other sensors show, where that lowers them
(judge.cross; the "cross" entry of weights.json, fitted on the several-sensor benchmark's
tuning seeds with the first model's log-odds as a fixed offset). With one sensor, or where
the others were not worn, that term is absent and the judgement is the single-sensor one,
digit for digit: `analyze` of one recording is unchanged by it.
"""
import json
import os

import numpy as np

from jerklog.judge.cross import CROSS_NAMES, SensorView, cross_rows
from jerklog.judge.epochs import EPOCH_NAMES, Epochs
from jerklog.judge.features import NAMES, feature_rows

WEIGHTS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights.json")
CROSS_NAMES_ALL = ("bias",) + CROSS_NAMES + EPOCH_NAMES   # what cross_features computes
# The board's decision stands unless the model is sure against it: a candidate the board
# dropped becomes an event at ADD_AT, a board's event is taken back below DROP_BELOW. Chosen
# on the tuning seeds: one cut at 0.5 there added twice the false events during activity for
# a tenth more jerks found (docs/benchmarks.md, "The host's judgement").
ADD_AT = 0.8
DROP_BELOW = 0.2


class Model:
    """Weights over standardised features: p = 1 / (1 + exp(-w . (x - mean) / sd))."""

    def __init__(self, names, mean, sd, w, name, trained_on="", expected=NAMES):
        """expected: the features the weights must be for, or a callable saying whether
        names will do (the several-sensor term: any of CROSS_NAMES_ALL, bias first)."""
        if not (expected(names) if callable(expected) else tuple(names) == tuple(expected)):
            raise ValueError("the judge's weights are for other features: run "
                             "`jerklog bench train-judge`")
        self.names = tuple(names)
        self.mean = np.asarray(mean, dtype=np.float64)
        self.sd = np.asarray(sd, dtype=np.float64)
        self.w = np.asarray(w, dtype=np.float64)
        self.name = name
        self.trained_on = trained_on

    @classmethod
    def from_dict(cls, d: dict, expected=NAMES) -> "Model":
        return cls(d["names"], d["mean"], d["sd"], d["w"], d["name"], d.get("trained_on", ""),
                   expected)

    @classmethod
    def load(cls, path: str = WEIGHTS_PATH) -> "Model":
        """The single-sensor model of a weights file."""
        with open(path) as f:
            return cls.from_dict(json.load(f))

    def to_dict(self) -> dict:
        return {"name": self.name, "trained_on": self.trained_on, "names": list(self.names),
                "mean": [round(x, 6) for x in self.mean], "sd": [round(x, 6) for x in self.sd],
                "w": [round(x, 6) for x in self.w]}

    def to_json(self, cross: "Model | None" = None) -> str:
        """A weights file: this model, and the several-sensor term if given."""
        d = self.to_dict()
        if cross is not None:
            d["cross"] = cross.to_dict()
        return json.dumps(d, indent=1) + "\n"

    def logits(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.mean) / self.sd) @ self.w

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        return _probability(self.logits(features))


def _probability(z):
    # Rounded so that the store, analyze and a re-run all agree to the digit.
    return np.round(1.0 / (1.0 + np.exp(-z)), 4)


def fit(features: np.ndarray, labels: np.ndarray, name: str, trained_on: str,
        l2: float = 1.0, offset=None, names=NAMES) -> Model:
    """Logistic regression by Newton's method with an L2 penalty (not on the bias, the first
    column); offset: fixed log-odds added to every row (another model's)."""
    mean = features.mean(axis=0)
    sd = features.std(axis=0)
    sd[sd == 0] = 1.0
    mean[0], sd[0] = 0.0, 1.0  # the bias column stays 1
    z = (features - mean) / sd
    off = np.zeros(len(z)) if offset is None else np.asarray(offset, dtype=np.float64)
    w = np.zeros(z.shape[1])
    penalty = l2 * np.r_[0.0, np.ones(len(w) - 1)]
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(z @ w + off)))
        grad = z.T @ (p - labels) + penalty * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return Model(names, mean, sd, w, name, trained_on, names)


_MODELS = {}


def model() -> Model:
    if "single" not in _MODELS:
        _MODELS["single"] = Model.load()
    return _MODELS["single"]


def load_cross(path: str = WEIGHTS_PATH) -> Model | None:
    """The several-sensor term of a weights file, None if it has none."""
    with open(path) as f:
        d = json.load(f).get("cross")
    return Model.from_dict(d, _cross_names_ok) if d else None


def cross_model() -> Model | None:
    """The several-sensor term, or None where no weights were fitted for it."""
    if "cross" not in _MODELS:
        _MODELS["cross"] = load_cross()
    return _MODELS["cross"]


def _cross_names_ok(names):
    return bool(names) and names[0] == "bias" and set(names) <= set(CROSS_NAMES_ALL)


def cross_columns(names) -> list:
    """The columns of cross_features' rows that a several-sensor term over names reads."""
    return [CROSS_NAMES_ALL.index(n) for n in names]


def judgement_name(m: Model | None = None, cm: Model | None = None) -> str:
    """The name the store records for the whole judgement (both models)."""
    m = m or model()
    cm = cm if cm is not None else cross_model()
    return m.name if cm is None else "%s+%s" % (m.name, cm.name)


def cross_features(cands: list, times_ms, others: list, epochs=()) -> tuple:
    """(rows of CROSS_NAMES_ALL, worn) for candidates of one sensor (ordered by t_ms, dicts
    as evidence.join gives) at times_ms on the shared axis, given the other sensors'
    SensorViews and this sensor's epochs (dicts with t_ms on the candidates' clock)."""
    own = SensorView(cands, times_ms)
    rows, worn = cross_rows(own, others)
    back = np.empty_like(own.order)
    back[own.order] = np.arange(len(own.order))
    rows, worn = rows[back], worn[back]
    ep = Epochs(epochs)
    erows = np.array([ep.features(c["t_ms"]) for c in cands]).reshape(len(cands), -1)
    return np.hstack([np.ones((len(cands), 1)), rows, erows]), worn


def judge_sensor(cands: list, m: Model | None = None, others=None, times_ms=None,
                 epochs=(), cm: Model | None = None) -> list:
    """[(kept 0/1, confidence 0..1, reason)] for the candidates of one sensor, ordered by
    t_ms (dicts as evidence.join gives). Confidence is the model's probability that the
    candidate is a jerk, whatever the decision. others: SensorViews of the other sensors of
    the wearer, on the axis of times_ms (this sensor's times there; default t_ms); epochs:
    this sensor's. Without others, the single-sensor judgement."""
    if not cands:
        return []
    m = m or model()
    z = m.logits(feature_rows(cands))
    worn = np.zeros(len(cands), dtype=bool)
    cm = cm if cm is not None else (cross_model() if others else None)
    if others and cm is not None:
        times = times_ms if times_ms is not None else [c["t_ms"] for c in cands]
        rows, worn = cross_features(cands, times, others, epochs)
        if worn.any():
            # The term may only lower the log-odds (a veto). Let to raise them, it took the
            # steps that Daphnet's real ankle, thigh and trunk sensors saw together for
            # generalised jerks: 78 -> 360 false events per hour there (docs/benchmarks.md,
            # "Across sensors"); the generator's walking gives the board too few candidates
            # to teach it otherwise.
            z[worn] += np.minimum(cm.logits(rows[worn][:, cross_columns(cm.names)]), 0.0)
    p = _probability(z)
    out = []
    for c, pk, w in zip(cands, p, worn):
        board = c["verdict"]
        kept = int(pk >= DROP_BELOW) if board == "kept" else int(pk >= ADD_AT)
        if kept and board != "kept":
            reason = "kept: the board dropped it (%s)" % board
        elif not kept and board == "kept":
            reason = "dropped: the board kept it"
        else:
            reason = ("kept" if kept else "dropped") + ", as the board"
        if w:
            reason += "; with the other sensors"
        out.append((kept, float(pk), reason))
    return out
