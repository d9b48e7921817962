"""Evidence and epochs from a board reach the store whole, once, and in the diary's events
(issue 12, items 1-3): a simulated board's records through the ingest, and the same samples
through the board's loop in memory (judge.capture), give the same candidates."""
import random

from jerklog.boards.ingest import Ingest
from jerklog.evidence import KEPT, Wave
from jerklog.judge.capture import capture
from jerklog.sim.generate import generate
from jerklog.store.database import Store

T0 = 1_795_000_000_000  # 2026-11-18, a fixed UTC start


def _board_frames(scenario="rest", seed=3, region="left_wrist"):
    """Records a board sends for a generated scenario (a hello first), decoded, and their
    capture (judge.capture: the board's own loop in memory)."""
    _, raw = generate(scenario, None, 100, seed, region)
    cap = capture(raw.t_ms(), raw.values(), raw.rate_hz, True, None, region, device_id=7,
                  boot_id=99, epoch_ms=T0, keep_records=True)
    return cap.records, cap


def _ingest(path, records):
    store = Store(str(path))
    ing = Ingest(store, clock=lambda: T0 + 3_600_000)
    with store.transaction():
        for r in records:
            ing.handle(r)
    return store, ing


def test_every_candidate_is_stored_once_whole_and_in_any_order(tmp_path):
    frames, cap = _board_frames()
    assert cap.candidates and cap.epochs
    store, ing = _ingest(tmp_path / "a.sqlite3", frames)
    n, judged, waiting = store.count_evidence()
    assert (n, judged, waiting) == (len(cap.candidates), 0, 0)
    assert ing.new_candidates == n and ing.new_epochs == len(cap.epochs)
    rows = store.evidence()
    assert [r["t_ms"] for r in rows] == [c["t_ms"] for c in cap.candidates]
    assert [r["wave"] for r in rows] == [c["wave"] for c in cap.candidates]
    kept = [r for r in rows if r["verdict"] == KEPT]
    assert len(kept) == store.count_events() == len(cap.events)
    for r in kept:  # the jerk sits at index pre of its waveform
        w = Wave(r)
        d = abs(w.acc_g - w.acc_g[:max(r["pre"] - 10, 1)].mean(axis=0)).max(axis=1)
        assert abs(int(d.argmax()) - r["pre"]) <= 3
    # A replayed log (all parts again, shuffled) adds nothing; parts out of order still join.
    shuffled = [f for f in frames if f["type"] == "evidence"]
    random.Random(1).shuffle(shuffled)
    store2, ing2 = _ingest(tmp_path / "b.sqlite3", [frames[0]] + shuffled)
    assert store2.count_evidence() == (n, 0, 0)
    with store.transaction():
        for r in shuffled:
            ing.handle(r)
    assert store.count_evidence() == (n, 0, 0)


def test_a_candidate_missing_a_part_waits_and_never_shows(tmp_path):
    frames, cap = _board_frames()
    ev = [f for f in frames if f["type"] == "evidence"]
    first = ev[0]["cand"]
    dropped = [f for f in ev if f["cand"] == first and f["part"] == 1]
    assert dropped
    store, _ = _ingest(tmp_path / "a.sqlite3", [frames[0]] + [f for f in ev if f not in dropped])
    n, _, waiting = store.count_evidence()
    assert n == len(cap.candidates) - 1 and waiting > 0
    assert first not in {r["cand"] for r in store.evidence()}
    _ingest_more = Ingest(store, clock=lambda: T0 + 3_600_000)
    with store.transaction():
        for f in [frames[0]] + dropped:  # the next connection's dump brings the lost part
            _ingest_more.handle(f)
    assert store.count_evidence() == (len(cap.candidates), 0, 0)


def test_implausible_hello_and_times_are_refused_and_counted(tmp_path):
    frames, _ = _board_frames()
    hello = frames[0]
    assert hello["type"] == "hello"
    bad = dict(hello, protocol=99)
    events = [f for f in frames if f["type"] == "event"]
    store, ing = _ingest(tmp_path / "a.sqlite3", [bad] + events)
    assert store.count_events() == 0
    assert sum(ing.refused.values()) == 1 + len(events)
    store, ing = _ingest(tmp_path / "b.sqlite3", [dict(hello, rate_hz=0)] + events[:1])
    assert store.count_events() == 0 and sum(ing.refused.values()) == 2
    year_3000 = 32_503_680_000_000
    store, ing = _ingest(tmp_path / "c.sqlite3", [dict(hello, epoch_ms=year_3000)] + events)
    assert ing.refused == {"hello with a clock outside 1985-2084 (taken as unknown)": 1}
    assert store.count_events() == len(events)  # placed by the host's clock instead
