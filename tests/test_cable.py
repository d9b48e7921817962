"""The cable: pulled and plugged back at random moments while a simulated board records.
The host reconnects by itself; the board keeps what it detects meanwhile in its on-board
log and the host collects it on reconnecting. No event is lost, none is stored twice."""
import random
import threading
import time

import pytest

from conftest import synthetic_recording
from jerklog import JerklogError
from jerklog.boards.recorder import PortRecorder
from jerklog.recordings.analysis import detect_samples
from jerklog.sim.device import Cable, SimDevice
from jerklog.store.database import Store

EPOCH = 1763677800000
JERKS = tuple(3.0 + 4.5 * k for k in range(13))  # every 4.5 s over a minute


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_cable_pulled_at_random_moments_loses_nothing(tmp_path, tmp_db, seed):
    raw = synthetic_recording(62, 100, JERKS, jerk_g=0.6, seed=seed)
    stream = str(tmp_path / "rec.jls")
    raw.write_stream(stream)
    expected = sorted(EPOCH + e["t_ms"] for e in detect_samples(raw))
    rng = random.Random(seed)
    with Store(tmp_db) as store, \
            SimDevice(stream, region="trunk", device_id=4, epoch_ms=EPOCH, speed=10,
                      log_dir=str(tmp_path / "flash")) as dev, \
            Cable(dev, str(tmp_path / "ttyJERK0")) as cable:
        rec = PortRecorder(cable.path, store, until_goodbye=True, reconnect=True,
                           retry_s=0.05)
        errors = []

        def record():
            try:
                rec.run()
            except Exception as e:  # reported below, not lost in the thread
                errors.append(e)

        thread = threading.Thread(target=record, daemon=True)  # a failure must not hang pytest
        thread.start()
        pulls = 0
        deadline = time.monotonic() + 5.0  # the recording plays for ~6.2 s at 10x
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(0.2, 0.9))
            cable.unplug()
            pulls += 1
            time.sleep(rng.uniform(0.1, 0.8))
            cable.plug()
        thread.join(60)
        assert not thread.is_alive(), "the recorder did not finish"
        assert not errors, errors
        stored = sorted(e["time_ms"] for e in store.events())
        lost_on_the_cable = cable.bytes_lost
    assert stored == expected                 # nothing lost, nothing twice
    assert rec.disconnects >= 1 and rec.connections >= 2
    assert pulls >= 3
    assert lost_on_the_cable > 0              # frames really died in the pulled cable


def test_record_command_with_two_boards_and_a_status_line(tmp_path, tmp_db, capsys,
                                                         monkeypatch):
    """jerklog record PORT PORT: both boards at once; Ctrl-C (here: the boards finish and
    the status loop is interrupted) stops cleanly with everything committed."""
    from jerklog.boards.recorder import device_status
    from jerklog.cli import main as cli
    raws = []
    devices = []
    for k in range(2):
        raw = synthetic_recording(20, 100, (5.0 + k, 12.0 + k), jerk_g=0.6, seed=10 + k)
        path = str(tmp_path / ("r%d.jls" % k))
        raw.write_stream(path)
        raws.append(raw)
        devices.append(SimDevice(path, region=("left_wrist", "trunk")[k], device_id=1 + k,
                                 epoch_ms=EPOCH, speed=20, log_dir=str(tmp_path / str(k))))
    calls = []
    original = device_status

    def status_then_interrupt(store, recorders, now=None):
        calls.append(original(store, recorders, now))
        if len(calls) > 4 and all(r.ingest.goodbyes for r in recorders):
            raise KeyboardInterrupt
        return calls[-1]

    monkeypatch.setattr("jerklog.boards.recorder.device_status", status_then_interrupt)
    try:
        rc = cli.main(["record", devices[0].port, devices[1].port, "--db", tmp_db])
    finally:
        for d in devices:
            d.close()
    assert rc == 0
    with Store(tmp_db) as store:
        got = sorted((e["device_id"], e["t_ms"]) for e in store.events())
    expected = sorted((1 + k, e["t_ms"]) for k, raw in enumerate(raws)
                      for e in detect_samples(raw))
    assert got == expected
    assert any("left_wrist #1" in c and "trunk #2" in c and "connected" in c for c in calls)
    assert "stopped; %d new events" % len(expected) in capsys.readouterr().err


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_host_killed_mid_ingest_loses_nothing(tmp_path, tmp_db, seed):
    """SIGKILL the recording process at a random moment, start a new one on the same port:
    the store is intact, and every event is stored exactly once (what the killed process had
    not committed comes back from the board's log)."""
    import signal
    import sqlite3
    import subprocess
    import sys
    raw = synthetic_recording(62, 100, JERKS, jerk_g=0.6, seed=seed)
    stream = str(tmp_path / "rec.jls")
    raw.write_stream(stream)
    expected = sorted(EPOCH + e["t_ms"] for e in detect_samples(raw))
    rng = random.Random(seed)
    record = [sys.executable, "-m", "jerklog", "record", "--db", tmp_db]
    with SimDevice(stream, region="trunk", device_id=4, epoch_ms=EPOCH, speed=10,
                   log_dir=str(tmp_path / "flash")) as dev:
        first = subprocess.Popen(record + [dev.port], stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.5, 4.0))
        first.send_signal(signal.SIGKILL)
        first.wait()
        second = subprocess.Popen(record + [dev.port], stderr=subprocess.DEVNULL)
        time.sleep(2.0)  # let it start before it is interrupted
        deadline = time.monotonic() + 60
        stored = []
        while time.monotonic() < deadline:
            time.sleep(0.5)
            with Store(tmp_db) as store:
                stored = sorted(e["time_ms"] for e in store.events())
            if stored == expected and dev.proc.poll() is None and len(stored):
                break
        second.send_signal(signal.SIGINT)
        try:
            assert second.wait(30) == 0
        finally:
            for proc in (first, second):  # never leave a recorder holding the port
                if proc.poll() is None:
                    proc.kill()
    assert stored == expected
    db = sqlite3.connect(tmp_db)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


def test_board_reset_mid_stream_starts_a_new_boot_and_keeps_the_old_one(tmp_path, tmp_db):
    """The board's process is killed mid-stream (a reset or a crash) and starts again with a
    new boot id and the same flash: every event the first boot had detected is stored once,
    under the first boot; the second boot's events follow under the second."""
    import signal
    first_raw = synthetic_recording(62, 100, JERKS, jerk_g=0.6, seed=8)
    second_raw = synthetic_recording(30, 100, (5.0, 10.0, 20.0), jerk_g=0.6, seed=9)
    paths = []
    for k, raw in enumerate((first_raw, second_raw)):
        paths.append(str(tmp_path / ("r%d.jls" % k)))
        raw.write_stream(paths[-1])
    flash = str(tmp_path / "flash")
    with Store(tmp_db) as store:
        with SimDevice(paths[0], region="trunk", device_id=4, epoch_ms=EPOCH, speed=10,
                       log_dir=flash, boot_id=1) as dev:
            rec = PortRecorder(dev.port, store)
            lost = []

            def record():
                try:
                    rec.run()
                except JerklogError as e:  # the line died with the board: said, not hidden
                    lost.append(str(e))

            thread = threading.Thread(target=record, daemon=True)  # a failure must not hang pytest
            thread.start()
            time.sleep(3.0)
            dev.proc.send_signal(signal.SIGKILL)  # the reset: mid-stream, mid-anything
            dev.proc.wait()
            time.sleep(0.5)
            rec.stop.set()
            thread.join(10)
            assert lost and "lost port" in lost[0]
        with SimDevice(paths[1], region="trunk", device_id=4, epoch_ms=EPOCH + 10 ** 6,
                       speed=10, log_dir=flash, boot_id=2) as dev:
            PortRecorder(dev.port, store, until_goodbye=True, idle_timeout_s=30).run()
        by_boot = {1: [], 2: []}
        for e in store.events():
            by_boot[e["boot_id"]].append(e["t_ms"])
    before = [e["t_ms"] for e in detect_samples(first_raw)]
    after = [e["t_ms"] for e in detect_samples(second_raw)]
    assert by_boot[2] == after
    # The first boot: a prefix of its events (those detected before the reset), each once.
    assert 3 <= len(by_boot[1]) < len(before)
    assert by_boot[1] == before[:len(by_boot[1])]


def test_host_sets_a_live_boards_clock_and_measures_it(tmp_path, tmp_db):
    """A board playing in real time with no clock of its own: the host sets its wall clock
    on connecting (the board says hello again with it, and logs it) and maps its events to
    UTC from its own measurement of the board's clock."""
    raw = synthetic_recording(6, 100, (2.0, 4.0), jerk_g=0.6, seed=12)
    path = str(tmp_path / "rt.jls")
    raw.write_stream(path)
    with Store(tmp_db) as store, \
            SimDevice(path, region="trunk", device_id=6, realtime=True,
                      log_dir=str(tmp_path / "flash")) as dev:
        opened = time.time() * 1000
        PortRecorder(dev.port, store, until_goodbye=True, idle_timeout_s=30).run()
        events = list(store.events())
        (boot,) = store.boots()
    expected = [opened + e["t_ms"] for e in detect_samples(raw)]
    assert len(events) == len(expected) == 2
    for e, want in zip(events, expected):
        assert abs(e["time_ms"] - want) < 250  # start-up of the board process included
    assert boot["epoch_ms"] and abs(boot["epoch_ms"] - opened) < 250
