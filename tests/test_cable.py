"""The cable: pulled and plugged back at random moments while a simulated board records.
The host reconnects by itself; the board keeps what it detects meanwhile in its on-board
log and the host collects it on reconnecting. No event is lost, none is stored twice."""
import random
import threading
import time

import pytest

from jerklog.analysis import detect_samples
from jerklog.recorder import PortRecorder
from jerklog.sim import Cable, SimDevice
from jerklog.store import Store

from conftest import synthetic_recording

EPOCH = 1763677800000
JERKS = tuple(3.0 + 4.5 * k for k in range(13))  # every 4.5 s over a minute


@pytest.mark.parametrize("seed", [1, 2, 3])
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

        thread = threading.Thread(target=record)
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
    import threading
    from jerklog import cli
    from jerklog.recorder import device_status
    raws = []
    devices = []
    for k in range(2):
        raw = synthetic_recording(20, 100, (5.0 + k, 12.0 + k), jerk_g=0.6, seed=10 + k)
        path = str(tmp_path / ("r%d.jls" % k))
        raw.write_stream(path)
        raws.append(raw)
        devices.append(SimDevice(path, region=("left arm", "trunk")[k], device_id=1 + k,
                                 epoch_ms=EPOCH, speed=20, log_dir=str(tmp_path / str(k))))
    calls = []
    original = device_status

    def status_then_interrupt(store, recorders, now=None):
        calls.append(original(store, recorders, now))
        if len(calls) > 4 and all(r.ingest.goodbyes for r in recorders):
            raise KeyboardInterrupt
        return calls[-1]

    monkeypatch.setattr("jerklog.recorder.device_status", status_then_interrupt)
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
    assert any("left arm #1" in c and "trunk #2" in c and "connected" in c for c in calls)
    assert "stopped; %d new events" % len(expected) in capsys.readouterr().err
