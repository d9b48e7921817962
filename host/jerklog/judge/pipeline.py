"""The host's judgement applied: to what a board in memory sent (analyze, the benchmark) and to
the evidence in a store (record, simulate, rescore). Both give the events JUDGED_EVENTS gives
(store/database.py): the board's events unless the host judged them not a jerk, plus the
candidates the board dropped that the host judged a jerk, with the host's confidence."""
from jerklog.events import COLUMN_NAMES
from jerklog.evidence import KEPT
from jerklog.judge.capture import Captured
from jerklog.judge.model import judge_sensor, model


def judged_events(cap: Captured, m=None) -> list:
    """Events of one sensor's capture after the host's judgement, ordered by t_ms: dicts of
    EVENT_COLUMNS plus t_ms (device ms)."""
    cands = sorted(cap.candidates, key=lambda c: (c["t_ms"], c["cand"]))
    verdicts = judge_sensor(cands, m)
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


def judge_store(store, pending_only: bool = True, progress=None) -> tuple:
    """Judge the store's evidence (only what was not judged yet, or all of it again: a
    rescore), one boot at a time; return (candidates judged, of them kept). Idempotent: the
    same evidence and weights give the same rows. The caller commits."""
    m = model()
    keys = store.evidence_boots(unjudged_by=m.name if pending_only else None)
    judged = kept_n = 0
    for i, key in enumerate(keys):
        # A boot is judged whole: a candidate's neighbours are part of its evidence.
        cands = sorted(store.evidence(device_id=key[0], boot_id=key[1]),
                       key=lambda c: (c["t_ms"], c["cand"]))
        verdicts = judge_sensor(cands, m)
        store.set_judgements([(k, conf, why, m.name, key[0], key[1], c["cand"])
                              for c, (k, conf, why) in zip(cands, verdicts)])
        judged += len(cands)
        kept_n += sum(v[0] for v in verdicts)
        if progress:
            progress(i + 1, len(keys))
    return judged, kept_n
