"""Untethered wear: the board keeps events in its on-board log while no computer is near;
the next time it is connected the host collects them, stores them once, and acknowledges
them so the board can trim its log."""

from conftest import synthetic_recording
from jerklog.boards.recorder import PortRecorder
from jerklog.recordings.analysis import detect_samples
from jerklog.sim.device import SimDevice
from jerklog.store.database import Store

EPOCH_NIGHT = 1763677800000   # 2025-11-20T22:30Z: the untethered night
EPOCH_MORNING = 1763712000000  # the next morning, connected


def recording(tmp_path, name, jerks, seed):
    raw = synthetic_recording(60, 100, jerks, jerk_g=0.6, seed=seed)
    path = str(tmp_path / (name + ".jls"))
    raw.write_stream(path)
    return raw, path


def test_log_collected_after_an_untethered_night(tmp_path, tmp_db):
    log_dir = tmp_path / "flash"
    night, night_path = recording(tmp_path, "night", (10.0, 20.0, 30.5, 41.0), 1)
    morning, morning_path = recording(tmp_path, "morning", (15.0, 45.0), 2)

    # 1. No computer: the board plays the night to the end; events go to its log only.
    with SimDevice(night_path, region="trunk", device_id=9, epoch_ms=EPOCH_NIGHT,
                   log_dir=str(log_dir), untethered=True, boot_id=111) as dev:
        assert dev.wait(120) == 0, dev.error_text()

    # 2. Connected in the morning (a new boot): the host pulls the night from the log,
    #    records the morning live, and acknowledges everything.
    with Store(tmp_db) as store, \
            SimDevice(morning_path, region="trunk", device_id=9, epoch_ms=EPOCH_MORNING,
                      log_dir=str(log_dir), boot_id=222) as dev:
        rec = PortRecorder(dev.port, store, until_goodbye=True, idle_timeout_s=30,
                           alive=lambda: dev.proc.poll() is None).run()
        events = list(store.events())
    expected = [EPOCH_NIGHT + e["t_ms"] for e in detect_samples(night)] + \
        [EPOCH_MORNING + e["t_ms"] for e in detect_samples(morning)]
    assert sorted(e["time_ms"] for e in events) == sorted(expected)
    assert {(e["boot_id"]) for e in events} == {111, 222}
    assert rec.acked_records >= len(expected)
    status = rec.ingest.log_status[9]
    assert status["pending"] == 0 and status["dropped"] == 0

    # 3. Connected again: the log is empty, nothing is stored twice.
    with Store(tmp_db) as store, \
            SimDevice(morning_path, region="trunk", device_id=9, epoch_ms=EPOCH_MORNING,
                      log_dir=str(log_dir), boot_id=222) as dev:
        rec = PortRecorder(dev.port, store, until_goodbye=True, idle_timeout_s=30,
                           alive=lambda: dev.proc.poll() is None).run()
        assert store.count_events() == len(expected)
        assert rec.ingest.new_events == 0


def test_a_full_board_log_drops_the_oldest_and_the_report_says_so(tmp_path, tmp_db):
    """Two untethered nights into a log too small for them: the oldest records are dropped
    and counted on the board, the count reaches the store, and the report's data-quality
    line shows it."""
    from jerklog.diary import Diary
    from jerklog.exports.report import write_report
    log_dir = tmp_path / "flash"
    raw, path = recording(tmp_path, "night", tuple(2.0 + 1.5 * k for k in range(38)), 3)
    # 8 KB: two 4 KB segments of 124 events each hold fewer than the events that follow.
    for boot in (1, 2, 3, 4, 5, 6, 7, 8):
        with SimDevice(path, region="trunk", device_id=9, epoch_ms=EPOCH_NIGHT + boot * 10**6,
                       log_dir=str(log_dir), untethered=True, boot_id=boot,
                       log_bytes=8192) as dev:
            assert dev.wait(120) == 0, dev.error_text()
    with Store(tmp_db) as store, \
            SimDevice(path, region="trunk", device_id=9, epoch_ms=EPOCH_MORNING,
                      log_dir=str(log_dir), boot_id=99, log_bytes=8192) as dev:
        PortRecorder(dev.port, store, until_goodbye=True, idle_timeout_s=30).run()
        (board_log,) = store.board_logs()
        assert board_log["dropped"] > 0 and board_log["pending"] == 0
        per_night = len(detect_samples(raw))
        stored_nights = {e["boot_id"] for e in store.events()} - {99}
        assert len(stored_nights) < 8      # the oldest nights are gone...
        assert max(stored_nights) == 8     # ...the newest kept
        assert Diary(store).quality()["log_dropped"] == board_log["dropped"]
        out = tmp_path / "report.html"
        write_report(store, str(out), None, None)
        assert "because a board&#x27;s on-board log was full" in out.read_text() or \
            "because a board's on-board log was full" in out.read_text()
    assert per_night >= 30
