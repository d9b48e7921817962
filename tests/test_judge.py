"""The host's judgement (issue 12, item 3): analyze and the recorded path give the same
events after it, rescore is idempotent, and it changes the board's decisions where the
seconds after and the neighbours say otherwise."""
import csv

from jerklog.cli.main import main
from jerklog.judge.model import ADD_AT, Model, model
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
    assert all(r["judge"] == model().name for r in rows)


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
    m = Model.load()
    assert m.trained_on.startswith("independent family A, seeds 11,12")
    assert len(m.w) == len(m.mean) == len(m.sd)
