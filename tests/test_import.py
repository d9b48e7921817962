"""`jerklog import`: a logger's file through the board's own loop (MicroPython unix port) into
the store, as a board's recording: same events as the board's detector, the logger's identity
and clock, nothing new on a second import, bad blocks counted as lost samples, a folder on
every core with one line per file."""
import csv
import os
import shutil

import numpy as np
import pytest

from conftest import synthetic_recording
from jerklog import JerklogError
from jerklog.cli.main import main
from jerklog.firmware import detector
from jerklog.recordings.analysis import detect_samples
from jerklog.recordings.axivity import load_cwa
from jerklog.recordings.rawfile import RawSamples
from jerklog.sim.importer import import_file, utc_ms
from jerklog.store import Store
from test_import_formats import AX3, AX6, damage_cwa, signal, write_geneactiv, write_gt3x


def stored(db):
    with Store(db) as s:
        ev = sorted((e["t_ms"], e["time_ms"], e["kind"], e["peak_g"], e["duration_ms"],
                     e["confidence"]) for e in s.events())
        boots = [{k: v for k, v in b.items() if k != "first_seen_ms"} for b in s.boots()]
        return ev, boots, s.count_evidence()[0], len(s.epochs())


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "store.sqlite3")


def test_cwa_import_is_the_boards_detector_on_the_same_samples(db, tmp_path):
    """Events from the unix port equal the shared detector run in CPython on load_cwa's
    samples, and the CPython run of the same loop stores the very same rows."""
    with Store(db) as s:
        r = import_file(AX6, s, "left_wrist")
    rec = load_cwa(AX6)
    want = detect_samples(RawSamples.from_units(rec.t, rec.acc, rec.gyro),
                          detector.for_region(None, "left_wrist"))
    events, boots, cands, epochs = stored(db)
    assert [e[0] for e in events] == [w["t_ms"] for w in want]
    assert [e[2] for e in events] == [w["kind"] for w in want]
    assert r["new_events"] == len(want) == r["events"] and r["samples"] == rec.n_samples
    assert cands >= len(want) and epochs == int(rec.duration_s // 5)
    (b,) = boots
    assert (b["board"], b["sensor"], b["region"], b["has_gyro"]) == ("AX6 6011834", "cwa",
                                                                     "left_wrist", 1)
    assert b["clock"] == "device" and b["ended"] == "end of recording"
    # a .cwa states no UTC offset: its wall clock is read in this computer's zone
    assert abs(b["epoch_ms"] - utc_ms(int(round(rec.start_epoch * 1000)))) <= 1
    assert all(e[1] == b["epoch_ms"] + e[0] for e in events)
    ref = str(tmp_path / "ref.sqlite3")
    with Store(ref) as s:
        import_file(AX6, s, "left_wrist", python=True)
    assert stored(ref) == stored(db)


def test_importing_twice_stores_nothing_new(db):
    with Store(db) as s:
        first = import_file(AX3, s, "right_wrist")
        again = import_file(AX3, s, "right_wrist")
    assert first["new_events"] > 0 and again["new_events"] == 0
    assert again["duplicate_events"] == first["events"]
    assert (again["device_id"], again["boot_id"]) == (first["device_id"], first["boot_id"])
    events, boots, cands, epochs = stored(db)
    assert len(events) == first["events"] and len(boots) == 1


def test_bad_blocks_are_lost_samples_in_the_boards_counters(db, tmp_path):
    p = str(tmp_path / "damaged.cwa")
    damage_cwa(AX3, p, blocks=(30, 31, 32), drop=(90,))
    with Store(db) as s:
        r = import_file(p, s, "trunk")
    assert r["checks"]["bad_blocks"] == 3 and r["checks"]["sequence_gaps"] == 1
    assert r["checks"]["time_jumps"] == 0  # a missing block is not a clock jump
    (b,) = stored(db)[1]
    assert b["dropped"] == 4 * 120 == r["dropped"]  # what the report's data quality shows
    assert b["samples"] == 17400 - 4 * 120


def test_gt3x_and_geneactiv_on_their_own_clocks(db, tmp_path):
    gt = str(tmp_path / "a.gt3x")
    write_gt3x(gt, signal(60 * 30, 30), 30, start_s=1_700_000_000, tz="-05:00:00")
    ga = str(tmp_path / "b.bin")
    write_geneactiv(ga, signal(6000, 100), 100, start="2023-11-14 22:13:20:000",
                    tz="GMT +01:00")
    with Store(db) as s:
        r1 = import_file(gt, s, "left_wrist")
        r2 = import_file(ga, s, "right_ankle")
    # the files' wall clocks, with the offsets they state
    assert r1["epoch_ms"] == (1_700_000_000 + 5 * 3600) * 1000
    assert r2["epoch_ms"] == 1_700_000_000_000 - 3600_000
    assert r1["rate_hz"] == 30 and r2["rate_hz"] == 100
    boards = sorted(b["board"] for b in stored(db)[1])
    assert boards == ["GENEActiv 012345", "GT3X+ NEO1C16110020"]


def test_raw_csv_import_equals_analyze(db, tmp_path):
    raw = synthetic_recording(40.0, 200, jerk_times=(10.0, 25.0))
    p = str(tmp_path / "rec.csv")
    raw.write_csv(p)
    with pytest.raises(JerklogError, match="no clock: give --start"):
        with Store(db) as s:
            import_file(p, s, "trunk")
    with Store(db) as s:
        r = import_file(p, s, "trunk", start_ms=1_800_000_000_000)
    want = detect_samples(raw, detector.for_region(None, "trunk"))
    events = stored(db)[0]
    assert [e[0] for e in events] == [w["t_ms"] for w in want] and len(want) == 2
    assert [e[1] for e in events] == [1_800_000_000_000 + w["t_ms"] for w in want]
    assert r["new_events"] == 2


def test_cli_folder_one_line_per_file_and_a_failing_file_does_not_stop_the_others(
        db, tmp_path, capsys):
    folder = tmp_path / "cohort"
    folder.mkdir()
    shutil.copy(AX3, folder / "p1.cwa")
    shutil.copy(AX6, folder / "p2.cwa")
    (folder / "broken.cwa").write_bytes(b"PK\x03\x04" + bytes(3000))
    (folder / "notes.txt").write_text("not a recording")
    assert main(["import", str(folder), "--region", "left wrist", "--db", db,
                 "--jobs", "2"]) == 1
    err = capsys.readouterr().err.splitlines()
    lines = [x for x in err if x.startswith("import: [")]
    assert len(lines) == 3
    assert sum("error:" in x and "broken.cwa: not an Axivity .cwa file" in x
               for x in lines) == 1
    assert "3 files: 2 imported, 1 failed" in err[-1]
    assert len(stored(db)[1]) == 2
    assert oct(os.stat(db).st_mode & 0o777) == "0o600"
    # export and report work on it as on a board's night
    out = tmp_path / "diary.csv"
    assert main(["export", "--format", "csv", "--out", str(out), "--db", db]) == 0
    rows = list(csv.DictReader(open(out)))
    assert rows and {r["region"] for r in rows} == {"left_wrist"}


def test_cli_one_file_says_what_is_wrong_in_one_line(db, tmp_path, capsys):
    p = tmp_path / "fake.gt3x"
    p.write_bytes(b"MD" + bytes(2000))
    assert main(["import", str(p), "--region", "trunk", "--db", db]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["jerklog: error: %s: not an ActiGraph .gt3x file: not a zip archive" % p]
    assert main(["import", AX3, "--region", "trunk", "--db", db]) == 0
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "AX3 39434" in last and "x real time" in last and "0 bad blocks" in last


def test_import_stream_is_bounded_and_times_stay_on_the_grid():
    """The batches the loop reads: full batches of BATCH, the rest and an end marker; each
    batch says the samples lost up to its end."""
    from jerklog.recordings.batches import BATCH, BatchWriter
    from jerklog.recordings.logger import Chunk
    out = []
    w = BatchWriter(out.append)
    total = 3 * BATCH + 4
    split = BATCH + BATCH // 2  # the second chunk starts inside the second batch
    t = np.arange(total) * 10_000
    w.add(Chunk(t[:split], np.ones((split, 3), dtype=np.int64), None, [(3, 7)]))
    w.add(Chunk(t[split:], np.ones((total - split, 3), dtype=np.int64), None, [(0, 5)]))
    w.close()
    data = b"".join(out)
    per = 8 + 4 * BATCH + 12 * BATCH
    assert len(data) == 4 * per + 8 and data.endswith(bytes(8))
    n = [int.from_bytes(data[k * per:k * per + 4], "little") for k in range(4)]
    dropped = [int.from_bytes(data[k * per + 4:k * per + 8], "little") for k in range(4)]
    assert n == [BATCH, BATCH, BATCH, 4] and dropped == [7, 12, 12, 12] and w.samples == total


def test_a_cwa_wall_clock_is_read_in_the_zone_at_its_date():
    """A .cwa states no offset: --tz gives the zone, and the offset is the one that date had
    (DST); a file that states its offset (gt3x, GENEActiv) uses it as it is."""
    from jerklog.localtime import zone
    berlin = zone("Europe/Berlin")
    winter = 1_736_942_400_000   # 2025-01-15 12:00 on the logger's wall clock
    summer = 1_752_580_800_000   # 2025-07-15 12:00
    assert utc_ms(winter, None, berlin) == winter - 3_600_000
    assert utc_ms(summer, None, berlin) == summer - 7_200_000
    assert utc_ms(summer, -18_000_000, berlin) == summer + 18_000_000


def test_a_rate_the_boards_loop_cannot_hold_is_refused_in_one_line(db, tmp_path):
    raw = synthetic_recording(1.0, 1600)
    p = str(tmp_path / "fast.csv")
    raw.write_csv(p)
    with Store(db) as s, pytest.raises(JerklogError, match="1600 Hz is outside the 25..1000"):
        import_file(p, s, "trunk", start_ms=1_800_000_000_000)


def test_a_failing_board_loop_says_why(tmp_path, monkeypatch):
    """MicroPython prints an uncaught error on its stdout, among the frames: the import's
    error line ends with the error's last line, not only 'the board's loop failed'."""
    import sys

    from jerklog.sim import importer
    from test_import_formats import AX3
    script = ("import sys\nsys.stdin.buffer.read()\n"
              "sys.stdout.write('Traceback (most recent call last):\\n  File x\\n"
              "ValueError: a fault in the loop\\n')\nsys.exit(1)\n")
    monkeypatch.setattr(importer, "find_runner", lambda python=False: [sys.executable, "-c",
                                                                        script])
    with Store(str(tmp_path / "s.sqlite3")) as s, pytest.raises(JerklogError) as e:
        importer.import_file(AX3, s, "left_wrist")
    assert str(e.value).endswith("the board's loop failed (exit 1): ValueError: a fault in the "
                                 "loop")
