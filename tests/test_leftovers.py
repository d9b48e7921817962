"""Nothing left behind, nothing hangs (issue 16, item 8): a pipe as input is refused at once,
what a killed jerklog was writing is removed by the next run, a simulation's streams live in
the data dir and go with it."""
import os
import subprocess
import sys
import time

import pytest

from conftest import synthetic_recording
from jerklog import JerklogError
from jerklog.cli.main import main
from jerklog.files import atomic_output, data_dir, scratch


def _dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_a_named_pipe_nobody_writes_is_refused_at_once(tmp_path, capsys):
    fifo = tmp_path / "rec.csv"
    os.mkfifo(fifo)
    out = tmp_path / "events.csv"
    t0 = time.monotonic()
    assert main(["analyze", str(fifo), "--out", str(out)]) == 1
    assert time.monotonic() - t0 < 5
    assert "is not a regular file" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["rec.csv"]   # no events file, no .part
    assert main(["simulate", "--raw", str(fifo), "--db", str(tmp_path / "s.sqlite3")]) == 1
    assert "is not a regular file" in capsys.readouterr().err


def test_a_folder_as_recording_is_one_line(tmp_path, capsys):
    assert main(["analyze", str(tmp_path), "--out", str(tmp_path / "e.csv")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a regular file" in err


def test_what_a_killed_writer_left_is_removed_by_the_next_write(tmp_path):
    out = tmp_path / "diary.csv"
    dead = tmp_path / (".diary.csv.%d.abc123.part" % _dead_pid())
    dead.write_text("half a diary")
    alive = tmp_path / (".diary.csv.%d.def456.part" % os.getpid())  # a writer still running
    alive.write_text("being written")
    other = tmp_path / ".notes.txt.1.part"  # not ours to judge
    other.write_text("x")
    with atomic_output(str(out)) as f:
        f.write("t\n")
    assert out.read_text() == "t\n"
    assert not dead.exists() and alive.exists() and other.exists()


def test_a_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(JerklogError):
        with atomic_output(str(tmp_path / "x.csv")) as f:
            f.write("partial")
            raise JerklogError("stopped")
    assert os.listdir(tmp_path) == []


def test_simulation_streams_live_in_the_data_dir_and_go_with_the_run(tmp_path):
    root = os.path.join(data_dir(), "scratch")
    with scratch("simulate") as folder:
        assert os.path.dirname(folder) == root and os.path.isdir(folder)
        assert oct(os.stat(root).st_mode & 0o777) == "0o700"
    assert not os.path.exists(folder)
    stale = os.path.join(root, "simulate-%d-xyz" % _dead_pid())
    os.makedirs(stale)
    open(os.path.join(stale, "device1.jls"), "wb").write(b"\0" * 1024)
    with scratch("simulate"):
        assert not os.path.exists(stale)   # a killed run's streams are removed


def test_simulate_leaves_no_stream_behind(tmp_path):
    rec = synthetic_recording(20, 100, (5.0,))
    raw = str(tmp_path / "rec.csv")
    rec.write_csv(raw)
    assert main(["simulate", "--raw", raw, "--db", str(tmp_path / "s.sqlite3"),
                 "--start", "2026-03-02T10:00:00+00:00"]) == 0
    assert os.listdir(os.path.join(data_dir(), "scratch")) == []
