"""QA pass over the commands as a new user meets them: a mistyped path or a malformed
argument ends in one line and a usage or failure exit code, and leaves no file behind."""
import os

from jerklog.cli.main import main


def test_rescore_of_a_mistyped_store_is_an_error_and_creates_nothing(tmp_path, capsys):
    db = str(tmp_path / "typo.sqlite3")
    assert main(["rescore", "--db", db]) == 1
    err = capsys.readouterr().err
    assert "no jerklog store at %s" % db in err
    assert len(err.strip().splitlines()) == 1
    assert not os.path.exists(db)
    assert main(["rescore", "--pending", "--db", db]) == 1
    assert not os.path.exists(db)


def test_config_set_without_an_assignment_is_a_usage_error_not_a_port(capsys):
    assert main(["config", "set", "rate_hz"]) == 2
    err = capsys.readouterr().err
    assert "KEY=VALUE" in err and "'rate_hz'" in err
    assert "no port" not in err
    assert len(err.strip().splitlines()) == 1


def _rest_csv(path, rate=100, seconds=130):
    """A still sensor: t, ax, ay, az at rate Hz for seconds."""
    with open(path, "w") as f:
        f.write("t,ax,ay,az\n")
        for i in range(rate * seconds):
            f.write("%.6f,0.000,0.000,1.000\n" % (i / rate))
    return str(path)


def test_analyze_final_line_gives_the_whole_recording_length(tmp_path, capsys):
    raw = _rest_csv(tmp_path / "rest.csv")
    out = str(tmp_path / "events.csv")
    assert main(["analyze", raw, "--out", out]) == 0
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == "analyze: 0 events in 2.2 min of recording written to %s" % out


def test_analyze_into_a_missing_folder_fails_before_reading(tmp_path, capsys, monkeypatch):
    import jerklog.judge.analyze as judged
    raw = _rest_csv(tmp_path / "rest.csv", seconds=2)
    monkeypatch.setattr(judged, "analyze_judged",
                        lambda *a, **k: (_ for _ in ()).throw(AssertionError("read")))
    out = str(tmp_path / "nowhere" / "events.csv")
    assert main(["analyze", raw, "--out", out]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "jerklog: error: cannot write %s: directory %s does not exist"
        % (out, tmp_path / "nowhere")]


def test_simulate_scenario_rate_stops_where_a_replay_does(tmp_path, capsys):
    """A scenario saved with --save-raw must replay with simulate --raw: both stop at the
    833 Hz the simulated board's heap holds (1000 Hz fails to allocate in some runs)."""
    import pytest
    db = str(tmp_path / "s.sqlite3")
    with pytest.raises(SystemExit) as usage:
        main(["simulate", "--scenario", "rest", "--rate", "1000", "--db", db])
    assert usage.value.code == 2
    assert "'1000' is not a whole number in 50..833" in capsys.readouterr().err
    assert not os.path.exists(db)


def test_review_with_nothing_to_review_says_so_and_ends(tmp_path, capsys):
    """A range without events: one line and exit 0, not a page served to nobody until
    Ctrl-C (the server stops only once a page has asked for something)."""
    import threading

    from jerklog.store.database import Store
    db = str(tmp_path / "s.sqlite3")
    Store(db).close()
    done = []
    t = threading.Thread(target=lambda: done.append(
        main(["review", "--db", db, "--from", "2030-01-01", "--tz", "UTC"])), daemon=True)
    t.start()
    t.join(10)
    assert done == [0], "review kept serving a page with no events"
    out = capsys.readouterr().out
    assert out.strip() == "review: no events to review in %s in the range given" % db


def test_recover_into_a_missing_folder_is_refused_and_makes_no_folder(tmp_path, capsys):
    from jerklog.store.database import Store
    db = str(tmp_path / "s.sqlite3")
    Store(db).close()
    out = tmp_path / "typo" / "new.sqlite3"
    assert main(["store", "recover", "--db", db, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "jerklog: error: cannot write %s: directory %s does not exist" % (
        out, tmp_path / "typo")
    assert not os.path.exists(tmp_path / "typo")


def test_note_add_and_edit_name_the_note_once(tmp_path, capsys):
    db = str(tmp_path / "s.sqlite3")
    assert main(["note", "add", "--kind", "medication", "--name", "levetiracetam", "--dose",
                 "500 mg", "--time", "2026-11-21T08:00", "--tz", "UTC", "--db", db]) == 0
    assert capsys.readouterr().out.split() == [
        "note", "added:", "1", "2026-11-21T08:00:00.000+00:00", "medication", "levetiracetam",
        "500", "mg"]
    assert main(["note", "edit", "1", "--dose", "750 mg", "--tz", "UTC", "--db", db]) == 0
    assert capsys.readouterr().out.split()[:3] == ["note", "changed:", "1"]


def test_an_imports_last_line_gives_the_count_the_diary_has(tmp_path, capsys):
    """The last line of a folder's import names the events the diary counts of those files
    after the host's judgement, as the CSV export has them: one file imported before, so
    the board's new events and the newly judged candidates alone would not add up to it."""
    import re
    import shutil

    from test_import_formats import AX3, AX6
    folder = tmp_path / "loggers"
    folder.mkdir()
    shutil.copy(AX3, folder / "a.cwa")
    shutil.copy(AX6, folder / "b.cwa")
    db = str(tmp_path / "s.sqlite3")
    assert main(["import", str(folder / "a.cwa"), "--region", "left_wrist", "--db", db]) == 0
    assert main(["import", str(folder), "--region", "left_wrist", "--db", db]) == 0
    last = capsys.readouterr().err.strip().splitlines()[-1]
    counted = int(re.search(r"the diary counts (\d+) events of these 2 recordings", last)[1])
    out = str(tmp_path / "d.csv")
    assert main(["export", "--db", db, "--out", out]) == 0
    with open(out) as f:
        assert counted == sum(1 for _ in f) - 1 > 0
