"""The host's judgement applied: to what a board in memory sent (analyze, the benchmark) and to
the evidence in a store (record, simulate, rescore). Both give the events JUDGED_EVENTS gives
(store/database.py): the board's events unless the host judged them not a jerk, plus the
candidates the board dropped that the host judged a jerk, with the host's confidence.

Several sensors: a store's boots of other devices that overlap a boot in time are the other
sensors of its wearer (judge.cross), on the evidence's time_ms (Unix ms after retime). In
memory, the caller hands the other captures over (judge.cross.views_of_captures).
"""
from jerklog.events import COLUMN_NAMES
from jerklog.evidence import KEPT
from jerklog.judge.capture import Captured
from jerklog.judge.cross import WORN_MARGIN_MS, SensorView
from jerklog.judge.epochs import EPOCH_MS
from jerklog.judge.model import cross_model, judge_sensor, judgement_name, model


def judged_events(cap: Captured, m=None, others=(), clock_ms: float = 0.0) -> list:
    """Events of one sensor's capture after the host's judgement, ordered by t_ms: dicts of
    EVENT_COLUMNS plus t_ms (device ms). others: SensorViews of the other sensors worn at the
    same time, on an axis where this capture's t_ms + clock_ms lies (none: one sensor)."""
    cands = sorted(cap.candidates, key=lambda c: (c["t_ms"], c["cand"]))
    verdicts = judge_sensor(cands, m, list(others),
                            [c["t_ms"] + clock_ms for c in cands], cap.epochs)
    board_kept = {}
    out = []
    for c, (kept, conf, _) in zip(cands, verdicts):
        if c["verdict"] == KEPT:
            board_kept[c["t_ms"]] = (kept, conf)
        elif kept:
            row = {name: c[name] for name in COLUMN_NAMES}
            row["confidence"] = conf
            row["t_ms"] = c["t_ms"]
            out.append(row)
    for e in cap.events:
        kept, conf = board_kept.get(e["t_ms"], (1, None))
        if kept:
            out.append(dict(e, confidence=conf) if conf is not None else dict(e))
    out.sort(key=lambda e: e["t_ms"])
    return out


def _overlapping(extents, key):
    """The boots of other devices recorded while `key` was (extents: {key: (lo, hi)})."""
    lo, hi = extents[key]
    return [k for k, (a, b) in extents.items()
            if k[0] != key[0] and a - WORN_MARGIN_MS <= hi and lo <= b + WORN_MARGIN_MS]


def _others(store, key, extents):
    """SensorViews of the other devices' boots overlapping `key`, on time_ms."""
    lo, hi = extents[key]
    views = []
    for other in _overlapping(extents, key):
        rows = store.evidence(from_ms=int(lo - WORN_MARGIN_MS), to_ms=int(hi + WORN_MARGIN_MS),
                              device_id=other[0], boot_id=other[1])
        views.append(SensorView(rows, [r["time_ms"] for r in rows], extents[other]))
    return views


def _epochs(store, key, extent):
    cols = store.EPOCH_COLUMNS
    rows = store.epochs(int(extent[0] - 2 * EPOCH_MS), int(extent[1] + 2 * EPOCH_MS))
    return [dict(zip(cols, r)) for r in rows if (r[0], r[1]) == key]


def judge_store(store, pending_only: bool = True, progress=None) -> tuple:
    """Judge the store's evidence (only what was not judged yet, or all of it again: a
    rescore), one boot at a time; return (candidates judged, of them kept). A boot is judged
    with the other devices' boots recorded at the same time; a new boot makes the boots it
    overlaps be judged again. Idempotent: the same evidence and weights give the same rows.
    The caller commits."""
    m, cm = model(), cross_model()
    name = judgement_name(m, cm)
    keys = store.evidence_boots(unjudged_by=name if pending_only else None)
    extents = store.boot_extents() if keys else {}
    if pending_only and cm is not None:
        keys = sorted(set(keys) | {k for key in keys if key in extents
                                   for k in _overlapping(extents, key)})
    judged = kept_n = 0
    for i, key in enumerate(keys):
        # A boot is judged whole: a candidate's neighbours are part of its evidence.
        cands = sorted(store.evidence(device_id=key[0], boot_id=key[1]),
                       key=lambda c: (c["t_ms"], c["cand"]))
        others = _others(store, key, extents) if cm is not None and key in extents else []
        epochs = _epochs(store, key, extents[key]) if others else ()
        verdicts = judge_sensor(cands, m, others, [c["time_ms"] for c in cands], epochs, cm)
        store.set_judgements([(k, conf, why, name, key[0], key[1], c["cand"])
                              for c, (k, conf, why) in zip(cands, verdicts)])
        judged += len(cands)
        kept_n += sum(v[0] for v in verdicts)
        if progress:
            progress(i + 1, len(keys))
    return judged, kept_n
