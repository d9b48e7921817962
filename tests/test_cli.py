"""The jerklog command: analyze, simulate --raw, export, and their errors."""
import csv
import datetime as dt
import os
import subprocess
import sys

import pytest

from conftest import synthetic_recording
from jerklog.cli.main import main

JERKS = (8.0, 15.5, 27.25, 40.0, 52.75)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def recording(tmp_path):
    path = tmp_path / "rec.csv"
    synthetic_recording(60, 200, JERKS, jerk_g=0.6, seed=4).write_csv(str(path))
    return str(path)


def test_analyze_writes_one_row_per_event(recording, tmp_path):
    out = tmp_path / "events.csv"
    assert main(["analyze", recording, "--out", str(out), "--region", "wrist"]) == 0
    rows = read_csv(out)
    assert [float(r["t"]) for r in rows] == pytest.approx(list(JERKS), abs=0.006)
    assert set(rows[0]) >= {"t", "duration_ms", "peak_g", "peak_dps", "region"}
    assert oct(os.stat(out).st_mode & 0o777) == "0o600"


def test_replay_through_the_firmware_equals_analyze(recording, tmp_path):
    """simulate --raw R --start S, then export == analyze R, at S + t."""
    db = str(tmp_path / "s.sqlite3")
    events, diary = tmp_path / "events.csv", tmp_path / "diary.csv"
    start = "2026-03-29T01:59:30+01:00"   # the diary must show the offset per event
    assert main(["analyze", recording, "--out", str(events)]) == 0
    assert main(["simulate", "--raw", recording, "--start", start, "--db", db,
                 "--region", "left arm"]) == 0
    assert main(["export", "--format", "csv", "--out", str(diary), "--db", db,
                 "--tz", "Europe/Berlin"]) == 0
    analyzed, exported = read_csv(events), read_csv(diary)
    assert len(analyzed) == len(JERKS) and len(exported) == len(analyzed)
    s = dt.datetime.fromisoformat(start)
    for a, e in zip(analyzed, exported):
        assert dt.datetime.fromisoformat(e["time"]) == s + dt.timedelta(seconds=float(a["t"]))
        assert e["region"] == "left_wrist"  # the board's name for what was typed
        for col in ("duration_ms", "peak_g", "peak_dps", "kind", "axis", "context",
                    "confidence"):
            assert e[col] == a[col], col
    # Europe/Berlin moved from +01:00 to +02:00 at 02:00 that night: each row has its own.
    assert exported[0]["time"].endswith("+01:00") and exported[-1]["time"].endswith("+02:00")


def test_replaying_twice_stores_each_event_once(recording, tmp_path):
    db = str(tmp_path / "s.sqlite3")
    args = ["simulate", "--raw", recording, "--start", "2026-01-01T00:00:00Z", "--db", db]
    assert main(args) == 0
    assert main(args) == 0  # a new boot of the device: its events are new records
    from jerklog.store.database import Store
    with Store(db) as store:
        assert store.count_events() == 2 * len(JERKS)
        assert len(store.boots()) == 2


@pytest.mark.parametrize("content, message", [
    ("", "line 1: file is empty"),
    ("time,ax,ay,az\n0,0,0,1\n", "line 1: header lacks column(s) t"),
    ("t,ax,ay,az\n0,0,0,1\n0.01,0,zero,1\n", "line 3: column ay: 'zero' is not a number"),
    ("t,ax,ay,az\n0,0,0,1\n0.01,0,nan,1\n", "line 3: column ay: 'nan' is not a number"),
    ("t,ax,ay,az\n0,0,0,1\n0.01,0,0,1\n0.01,0,0,1\n", "line 4: t=0.01 is not after"),
    ("t,ax,ay\n0,0,0\n", "header lacks column(s) az"),
    ("t,ax,ay,az\n0,0,0,1\n0.01,0,0\n", "line 3: column az is missing"),
    ("t,ax,ay,az\n0,0,0,9810\n0.01,0,0,9810\n", "out of range"),
    ("t,ax,ay,az\n0,0,0,1\n1,0,0,1\n2,0,0,1\n", "sample rate 1 Hz"),
])
def test_bad_recordings_give_one_line_errors_and_no_output(tmp_path, capsys, content,
                                                           message):
    raw = tmp_path / "bad.csv"
    raw.write_text(content)
    out = tmp_path / "events.csv"
    assert main(["analyze", str(raw), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert message in err and str(raw) in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists() and os.listdir(tmp_path) == ["bad.csv"]
    db = tmp_path / "s.sqlite3"
    assert main(["simulate", "--raw", str(raw), "--db", str(db)]) == 1
    assert message in capsys.readouterr().err


def test_missing_file_and_bad_times_are_clear(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o.csv")]) == 1
    assert "cannot read" in capsys.readouterr().err
    assert main(["export", "--out", str(tmp_path / "d.csv"), "--from", "yesterday"]) == 1
    assert "not an ISO 8601 time" in capsys.readouterr().err
    assert main(["export", "--out", str(tmp_path / "d.csv"), "--tz", "Mars/Base"]) == 1
    assert "unknown time zone" in capsys.readouterr().err
    assert not (tmp_path / "d.csv").exists()


def test_export_range_is_half_open(recording, tmp_path):
    db = str(tmp_path / "s.sqlite3")
    assert main(["simulate", "--raw", recording, "--start", "2026-05-01T10:00:00Z",
                 "--db", db]) == 0
    out = tmp_path / "d.csv"
    assert main(["export", "--out", str(out), "--db", db, "--tz", "UTC",
                 "--from", "2026-05-01T10:00:15Z", "--to", "2026-05-01T10:00:40Z"]) == 0
    assert [r["time"] for r in read_csv(out)] == ["2026-05-01T10:00:15.500+00:00",
                                                  "2026-05-01T10:00:27.250+00:00"]


def test_every_command_has_help():
    for cmd in ([], ["simulate"], ["analyze"], ["export"], ["record"]):
        proc = subprocess.run([sys.executable, "-m", "jerklog"] + cmd + ["--help"],
                              capture_output=True, text=True)
        assert proc.returncode == 0 and "usage: jerklog" in proc.stdout


def test_list_scenarios_prints_every_scenario_and_exits():
    from jerklog.sim.scenario import SCENARIOS
    proc = subprocess.run([sys.executable, "-m", "jerklog", "simulate", "--list-scenarios"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert [line.split()[0] for line in proc.stdout.splitlines()] == list(SCENARIOS)


@pytest.mark.parametrize("dob", ["31/12/1980", "1980-13-01", "2999-01-01"])
def test_a_bad_date_of_birth_is_a_usage_error(tmp_path, capsys, dob):
    with pytest.raises(SystemExit) as e:
        main(["export", "--format", "edf", "--dob", dob, "--out", str(tmp_path / "x.edf")])
    assert e.value.code == 2
    assert "--dob" in capsys.readouterr().err
    assert not (tmp_path / "x.edf").exists()
