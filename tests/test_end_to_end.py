"""End to end: `jerklog simulate` runs the firmware under micropython behind a pty, the
recorder stores what it sends, and `export` writes the diary; checked against the
scenario's ground truth and against the same detector run on the host."""
import csv
import datetime as dt

import pytest

from jerklog.bench.detect import match
from jerklog.cli.main import main
from jerklog.recordings.analysis import detect_samples
from jerklog.sim.generate import generate
from jerklog.store.database import Store

START = "2026-11-20T22:30:00+00:00"


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_simulated_rest_scenario_matches_ground_truth(tmp_path):
    db, diary = str(tmp_path / "s.sqlite3"), tmp_path / "diary.csv"
    assert main(["simulate", "--scenario", "rest", "--minutes", "6", "--seed", "7",
                 "--rate", "200", "--region", "trunk", "--start", START, "--db", db,
                 "--save-raw", str(tmp_path / "raw")]) == 0
    assert main(["export", "--out", str(diary), "--db", db, "--tz", "UTC"]) == 0
    scn, raw = generate("rest", 6, 200, 7, "trunk")
    truth = [e for e in scn.truth if e.peak_g >= 0.15]
    assert len(truth) >= 4
    start = dt.datetime.fromisoformat(START)
    rows = read_csv(diary)
    t_ms = [(dt.datetime.fromisoformat(r["time"]) - start).total_seconds() * 1000
            for r in rows if r["kind"] in ("jerk", "negative")]
    pairs, false_events = match([1000 * e.t for e in truth], t_ms)
    assert len(pairs) >= 0.9 * len(truth)        # found at their true times (+-100 ms)
    assert len(false_events) <= 1                # and almost nothing else at rest
    errors = sorted(abs(t_ms[j] - 1000 * truth[i].t) for i, j in pairs)
    assert errors[len(errors) // 2] <= 10        # median peak-time error, ms

    # The store holds exactly what the firmware sent: same events as the host-side detector.
    host = detect_samples(raw)
    with Store(db) as store:
        stored = list(store.events())
        assert [e["t_ms"] for e in stored] == [e["t_ms"] for e in host]
        assert [e["peak_g"] for e in stored] == [e["peak_g"] for e in host]
        (boot,) = store.boots()
        assert boot["region"] == "trunk" and boot["rate_hz"] == 200
        assert boot["samples"] == len(raw) and boot["dropped"] == 0
        assert boot["events"] == len(host) and boot["ended"] == "end of recording"
    assert {r["region"] for r in rows} == {"trunk"}
    assert all(r["time"].endswith("+00:00") for r in rows)


def test_unknown_scenario_and_bad_rate_are_clear_errors(tmp_path, capsys):
    db = str(tmp_path / "s.sqlite3")
    assert main(["simulate", "--scenario", "marathon", "--db", db]) == 1
    assert "unknown scenario 'marathon'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:  # a rate out of range: a usage error
        main(["simulate", "--scenario", "rest", "--rate", "20", "--db", db])
    assert usage.value.code == 2
    assert "'20' is not a whole number in 50..833" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:  # a region no board accepts: a usage error
        main(["simulate", "--scenario", "rest", "--region", "nose", "--db", db])
    assert usage.value.code == 2
    assert "unknown body region 'nose'" in capsys.readouterr().err
    assert main(["simulate", "--scenario", "rest", "--region", "unknown", "--db", db]) == 1
    assert "no motion model for region 'unknown'" in capsys.readouterr().err


@pytest.mark.parametrize("name, region, rate", [("mixed", "wrist", 200)])
def test_ten_minutes_identical_under_micropython_and_cpython(name, region, rate):
    """The same 10-minute scenario through the detector under both interpreters."""
    from test_detector import cpython_events, micropython_events
    _, raw = generate(name, 10, rate, 3, region)
    py = cpython_events(raw)
    assert len(py) >= 5
    assert micropython_events(raw) == py


def test_several_simulated_sensors_at_once(tmp_path):
    """simulate --devices 3: three boards in three regions recorded at once into one store;
    the scenario's jerks reach all three at the same moment, each board adds focal ones."""
    from jerklog.diary import Diary
    from jerklog.sim.generate import generate_devices
    db = str(tmp_path / "s.sqlite3")
    assert main(["simulate", "--scenario", "rest", "--minutes", "6", "--seed", "4",
                 "--devices", "3", "--rate", "100", "--start", START, "--db", db]) == 0
    boards = generate_devices("rest", 6, 100, 4, 3)
    with Store(db) as store:
        boots = {b["device_id"]: b for b in store.boots()}
        assert {b["region"] for b in boots.values()} == {"left_wrist", "right_wrist",
                                                         "right_ankle"}
        for k, (label, raw, truth) in enumerate(boards):
            stored = [e["t_ms"] for e in store.events() if e["device_id"] == 1 + k]
            assert stored == [e["t_ms"] for e in detect_samples(raw)]
        generalised = [t for t, _, who in boards[0][2] if who == "generalised"]
        diary = Diary(store)
        extents = diary.jerks["extent"].value_counts().to_dict()
    assert len(generalised) >= 3
    assert extents.get("generalised", 0) >= len(generalised) - 1
