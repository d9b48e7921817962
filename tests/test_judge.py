"""The host's judgement (issue 12, item 3): analyze and the recorded path give the same
events after it, rescore is idempotent, and it changes the board's decisions where the
seconds after and the neighbours say otherwise."""
import csv
import math

import pytest

from jerklog.cli.main import main
from jerklog.judge.model import ADD_AT, Model, judgement_name, model
from jerklog.sim.generate import generate
from jerklog.store.database import Store

START = "2026-11-20T22:30:00+00:00"


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _recording(tmp_path, scenario="mixed", minutes=10, seed=5, region="right_wrist"):
    scn, raw = generate(scenario, minutes, 100, seed, region)
    path = tmp_path / "raw.csv"
    raw.write_csv(str(path))
    return str(path)


def test_analyze_and_the_recorded_path_give_the_same_judged_events(tmp_path):
    raw = _recording(tmp_path)
    events, diary, board = tmp_path / "e.csv", tmp_path / "d.csv", tmp_path / "b.csv"
    db = str(tmp_path / "s.sqlite3")
    assert main(["analyze", raw, "--out", str(events), "--region", "right_wrist"]) == 0
    assert main(["analyze", raw, "--out", str(board), "--region", "right_wrist",
                 "--board-only"]) == 0
    assert main(["simulate", "--raw", raw, "--start", START, "--db", db,
                 "--region", "right_wrist"]) == 0
    assert main(["export", "--format", "csv", "--out", str(diary), "--db", db,
                 "--tz", "UTC"]) == 0
    analyzed, exported, by_board = read_csv(events), read_csv(diary), read_csv(board)
    assert len(analyzed) >= 10 and len(exported) == len(analyzed)
    for a, e in zip(analyzed, exported):
        for col in ("duration_ms", "peak_g", "peak_dps", "kind", "axis", "context",
                    "confidence"):
            assert e[col] == a[col], col
    # The judgement changed something: events the board dropped, or kept, differ.
    assert {a["t"] for a in analyzed} != {b["t"] for b in by_board}
    store = Store(db)
    rows = store.evidence(wave=False)
    added = [r for r in rows if r["host_kept"] == 1 and r["verdict"] != "kept"]
    assert added, "no candidate the board dropped was judged a jerk"
    assert all(r["host_confidence"] >= ADD_AT for r in added)
    assert all(r["judge"] == judgement_name() for r in rows)


def test_rescore_is_idempotent_and_judges_what_is_pending(tmp_path, capsys):
    raw = _recording(tmp_path, "rest", 5, 2, "left_wrist")
    db = str(tmp_path / "s.sqlite3")
    assert main(["simulate", "--raw", raw, "--start", START, "--db", db]) == 0
    store = Store(db)

    def judgements():
        return [(r["cand"], r["host_kept"], r["host_confidence"], r["host_reason"])
                for r in store.evidence(wave=False)]

    first = judgements()
    assert first and all(j[1] is not None for j in first)
    with store.transaction():  # as if judged by nobody yet (evidence from an older host)
        store.db.execute("UPDATE evidence SET host_kept = NULL, host_confidence = NULL, "
                         "host_reason = NULL, judge = NULL")
    assert store.count_events_judged() == store.count_events()  # the board's decisions
    capsys.readouterr()
    assert main(["rescore", "--db", db, "--pending"]) == 0
    assert judgements() == first
    assert main(["rescore", "--db", db]) == 0
    assert judgements() == first
    assert "candidates judged by %s" % model().name in capsys.readouterr().err
    assert main(["rescore", "--db", db, "--pending"]) == 0
    assert "every candidate is judged" in capsys.readouterr().err


def test_the_shipped_weights_fit_the_features():
    from jerklog.judge.model import load_cross
    m = Model.load()
    assert m.trained_on.startswith("independent family A, seeds 11,12")
    assert len(m.w) == len(m.mean) == len(m.sd)
    cm = load_cross()
    assert cm.trained_on.startswith("several-sensor sessions")
    assert cm.names[0] == "bias" and len(cm.w) == len(cm.names) == len(cm.mean)


# -- several sensors (judge/cross.py): a store with two boards worn at once

T0 = 1_795_000_000_000  # 2026-11-18, a fixed UTC start


def _body_records(seconds=90, seed=5):
    """Two boards (ankle and trunk) of one wearer walking, through the board's own loop:
    (their decoded records, their captures)."""
    from jerklog.judge.capture import capture
    from jerklog.recordings.rawfile import RawSamples
    from jerklog.sim.independent.body import body_session
    b = body_session("A", "walking", seconds / 60.0, 208, seed, ("ankle", "trunk"))
    out = []
    for k, s in enumerate(b.sensors):
        raw = RawSamples.from_units(s.t, s.acc, s.gyro)
        out.append(capture(raw.t_ms(), raw.values(), raw.rate_hz, True, None, s.region,
                           device_id=11 + k, boot_id=1, epoch_ms=T0, keep_records=True))
    return out


def _ingest(path, caps):
    from jerklog.boards.ingest import Ingest
    store = Store(str(path))
    for cap in caps:
        up = [0]
        ing = Ingest(store, clock=lambda: T0 + up[0])
        with store.transaction():
            for r in cap.records:
                up[0] = max(up[0], r.get("uptime_ms") or r.get("t_ms") or 0)
                ing.handle(r)
    return store


def _rows(store):
    return [(r["device_id"], r["cand"], r["host_kept"], r["host_confidence"], r["host_reason"],
             r["judge"]) for r in store.evidence(wave=False)]


def test_cross_sensor_features_from_a_store_with_two_boards(tmp_path):
    from jerklog.judge.cross import SensorView, cross_rows, views_of_captures
    from jerklog.judge.model import cross_model, judge_sensor, judgement_name
    from jerklog.judge.pipeline import judge_store
    assert cross_model() is not None, "weights.json has no cross entry: bench train-judge"
    caps = _body_records()
    store = _ingest(tmp_path / "two.sqlite3", caps)
    with store.transaction():
        judged, _ = judge_store(store, pending_only=True)
    rows = store.evidence(wave=False)
    assert judged == len(rows) == sum(len(c.candidates) for c in caps) > 20
    assert all(r["judge"] == judgement_name() for r in rows)
    assert all(r["host_reason"].endswith("with the other sensors") for r in rows)
    # The steps move both sensors: most of the ankle's candidates have one of the trunk's
    # within 100 ms on the store's clock (time_ms), as in memory on the boards' own clock.
    by_dev = {d: [r for r in store.evidence() if r["device_id"] == d] for d in (11, 12)}
    ankle = SensorView(by_dev[11], [r["time_ms"] for r in by_dev[11]])
    trunk = SensorView(by_dev[12], [r["time_ms"] for r in by_dev[12]])
    stored, worn = cross_rows(ankle, [trunk])
    apart = SensorView(by_dev[12], [r["time_ms"] + 270 for r in by_dev[12]])  # half a step
    assert worn.all() and stored[:, 0].mean() > 2 * cross_rows(ankle, [apart])[0][:, 0].mean()
    mem = views_of_captures(caps)
    in_memory, _ = cross_rows(mem[0], [mem[1]])
    assert stored.shape == in_memory.shape
    assert abs(stored[:, 0].mean() - in_memory[:, 0].mean()) < 0.05
    # The store's judgement is the in-memory one of the same evidence.
    cands = sorted(caps[0].candidates, key=lambda c: (c["t_ms"], c["cand"]))
    want = judge_sensor(cands, others=[mem[1]], epochs=caps[0].epochs)
    got = sorted((r for r in rows if r["device_id"] == 11), key=lambda r: r["t_ms"])
    same = sum(g["host_kept"] == w[0] for g, w in zip(got, want))
    assert same >= 0.95 * len(want)
    # The other sensors can only lower a candidate's confidence (a veto), never raise it.
    alone = judge_sensor(cands)
    assert all(x[1] <= a[1] for x, a in zip(want, alone))
    assert any(x[1] < a[1] for x, a in zip(want, alone))


def test_rescore_with_two_boards_is_idempotent_and_one_board_stays_single(tmp_path):
    from jerklog.judge.model import judge_sensor
    from jerklog.judge.pipeline import judge_store
    caps = _body_records(60, 6)
    store = _ingest(tmp_path / "two.sqlite3", caps)
    with store.transaction():
        judge_store(store)
    first = _rows(store)
    with store.transaction():
        judge_store(store, pending_only=False)
    assert _rows(store) == first
    with store.transaction():
        assert judge_store(store, pending_only=True) == (0, 0)
    # one board alone: the single-sensor judgement, digit for digit
    alone = _ingest(tmp_path / "one.sqlite3", caps[:1])
    with alone.transaction():
        judge_store(alone)
    cands = sorted(caps[0].candidates, key=lambda c: (c["t_ms"], c["cand"]))
    want = judge_sensor(cands)
    got = sorted(_rows(alone), key=lambda r: r[1])
    assert [(g[2], g[3], g[4]) for g in got] == [tuple(w) for w in want]
    assert not any("other sensors" in g[4] for g in got)


def test_a_sensor_not_worn_at_the_time_leaves_the_single_judgement():
    from jerklog.judge.cross import COINCIDENT_MS, SensorView, cross_rows
    own = SensorView([{"peak_g": 0.5}, {"peak_g": 0.5}], [1000.0, 60000.0])
    other = SensorView([{"peak_g": 1.0}], [1000.0 + COINCIDENT_MS / 2], (0.0, 2000.0))
    rows, worn = cross_rows(own, [other])
    assert list(worn) == [True, False]
    assert rows[0][0] == 1.0                     # the other sensor has a candidate with it
    assert rows[0][1] == pytest.approx(math.log(2.0))   # twice as large there
    assert rows[0][2] == pytest.approx(0.5)     # 50 ms apart, in units of 100 ms
    assert not rows[1].any()
