"""Storage faults while recording, and output paths over inputs (issue 16, items 1 and 2).

A store that cannot be written (locked by another process, a full disk, damaged pages,
read-only) never passes silently: `simulate` and `record` stop with one line and exit 1,
acknowledge nothing that was not committed, and count what was stored and what the board
still keeps. Every case ends with every event either in the store or on the (simulated)
board, and the next connection collects what the board kept. A lock held for a while is
waited for. Disk-full and read-only cases run the command with its store on a small tmpfs
in a private mount namespace (`unshare -m`), skipped where that is not permitted.

No output path may overwrite an input: the store (and its -wal/-shm files) or the input
recording, by any path that reaches the same file.
"""
import argparse
import hashlib
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from conftest import synthetic_recording
from jerklog.boards.recorder import PortRecorder
from jerklog.cli.main import main
from jerklog.events import EVENT_COLUMNS
from jerklog.recordings.analysis import detect_samples
from jerklog.sim import flash
from jerklog.sim.device import SimDevice
from jerklog.store.database import Store

START = "2025-11-20T22:30:00+00:00"
START_MS = 1763677800000
EPOCH_MORNING = 1763712000000
JERKS = tuple(2.0 + 1.5 * k for k in range(150))   # a jerk every 1.5 s for 4 minutes
COUNTS = re.compile(r"(\d+) new events stored, (\d+) not stored are kept on the board "
                    r"\(not acknowledged\)")


@pytest.fixture(autouse=True)
def _private_port_locks(tmp_path, monkeypatch):
    """Port locks of this test only (a pty's name is reused once another test closed it)."""
    monkeypatch.setenv("JERKLOG_LOCK_DIR", str(tmp_path / "locks"))


def recording(tmp_path, name="rec", seconds=240, jerks=JERKS, seed=1):
    """A raw CSV and the events the board finds in it: their uptimes (ms since its boot)."""
    raw = synthetic_recording(seconds, 100, jerks, jerk_g=0.6, seed=seed)
    path = str(tmp_path / (name + ".csv"))
    raw.write_csv(path)
    return path, [e["t_ms"] for e in detect_samples(raw)]


def error_line(err):
    """The one error line the command ended with."""
    lines = [line for line in err.strip().splitlines() if line.startswith("jerklog: ")]
    assert len(lines) == 1 and err.strip().splitlines()[-1] == lines[0], err
    assert "Traceback" not in err, err
    return lines[0]


def counts(line):
    print(line, file=sys.__stderr__)  # the figures docs/reliability.md quotes (with -s)
    m = COUNTS.search(line)
    assert m, line
    return int(m.group(1)), int(m.group(2))


def kept_on_board(device_id=1):
    return flash.events_kept(flash.log_dir(device_id))


def boot_uptimes(db, boot_ids):
    """The stored events of some boots: their uptimes, which are the board's own (a store
    that never heard a boot's hello, acknowledged long ago, can only estimate the time of
    day of its events)."""
    with Store(str(db), create=False) as store:
        return sorted(e["t_ms"] for e in store.events() if e["boot_id"] in boot_ids)


def collect(tmp_path, db, capsys):
    """The next connection: simulate again (another recording, the same device id) into a
    sound store; what the board kept from before is collected."""
    path, _ = recording(tmp_path, "next", seconds=20, jerks=(5.0,), seed=9)
    assert main(["simulate", "--raw", path, "--start", "2025-11-21T08:00:00Z",
                 "--db", str(db)]) == 0
    capsys.readouterr()
    assert kept_on_board() == []  # acknowledged: the board's log is empty again


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ============================================================================ a lock
def hold_lock(db, seconds):
    """Another writer (a connection of its own, as another process holds it): take the
    store's write lock now and hold it for `seconds`."""
    con = sqlite3.connect(str(db), check_same_thread=False)
    con.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(seconds, con.rollback)
    timer.start()
    return timer


def test_simulate_waits_for_a_store_locked_by_another_process(tmp_path, tmp_db, capsys):
    path, expected = recording(tmp_path)
    Store(tmp_db).close()
    timer = hold_lock(tmp_db, 2.0)
    t0 = time.monotonic()
    rc = main(["simulate", "--raw", path, "--start", START, "--db", tmp_db])
    timer.join()
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "simulate: store locked by another process, waiting (up to 120 s)..." in err
    assert re.search(r"simulate: store unlocked after [12] s; recording goes on", err), err
    assert time.monotonic() - t0 >= 2.0
    with Store(tmp_db, create=False) as store:  # all, once, at the time they happened
        assert sorted(e["time_ms"] for e in store.events()) == [START_MS + t for t in expected]
    assert kept_on_board() == []  # and acknowledged once stored


def test_simulate_stops_when_the_lock_is_held_too_long_and_the_board_keeps_all(
        tmp_path, tmp_db, capsys):
    path, expected = recording(tmp_path)
    Store(tmp_db).close()
    timer = hold_lock(tmp_db, 2.5)
    rc = main(["simulate", "--raw", path, "--start", START, "--db", tmp_db,
               "--lock-wait", "1"])
    line = error_line(capsys.readouterr().err)
    assert rc == 1
    assert "is still locked by another process after 1 s" in line, line
    stored, kept = counts(line)
    board = kept_on_board()
    assert stored == 0 and kept == len(board) > 0  # nothing acknowledged, all counted
    timer.join()
    first_boot = {k[1] for k in board}
    collect(tmp_path, tmp_db, capsys)
    # Every event the board found before it stopped is stored, with no hole and once.
    assert boot_uptimes(tmp_db, first_boot) == expected[:kept]


def record(args, within_s=60):
    """`jerklog record ARGS` in this process, which should stop by itself: if it still runs
    after within_s, Ctrl-C stops it (and the test fails on its exit code, not by hanging)."""
    watchdog = threading.Timer(within_s, os.kill, (os.getpid(), signal.SIGINT))
    watchdog.start()
    try:
        return main(["record"] + args)
    finally:
        watchdog.cancel()


def untethered_night(tmp_path, seconds=60, jerks=(10.0, 20.0, 30.5, 41.0, 50.0)):
    """A night with no computer near: the board's log holds its events. Returns the log
    directory and the night's event times."""
    log_dir = str(tmp_path / "flash")
    raw = synthetic_recording(seconds, 100, jerks, jerk_g=0.6, seed=3)
    night = str(tmp_path / "night.jls")
    raw.write_stream(night)
    with SimDevice(night, region="trunk", device_id=9, epoch_ms=START_MS, log_dir=log_dir,
                   untethered=True, boot_id=111) as dev:
        assert dev.wait(120) == 0, dev.error_text()
    uptimes = [e["t_ms"] for e in detect_samples(raw)]
    assert len(flash.events_kept(log_dir)) == len(uptimes) >= 4
    return log_dir, uptimes


def morning_board(tmp_path, log_dir, speed=5, jerks=(10.0,), boot_id=222):
    """The board connected in the morning (a new boot); it plays 30 s at `speed`x."""
    raw = synthetic_recording(30, 100, jerks, jerk_g=0.6, seed=4)
    path = str(tmp_path / ("morning%d.jls" % boot_id))
    raw.write_stream(path)
    dev = SimDevice(path, region="trunk", device_id=9, epoch_ms=EPOCH_MORNING,
                    log_dir=log_dir, boot_id=boot_id, speed=speed)
    dev.uptimes = [e["t_ms"] for e in detect_samples(raw)]
    return dev


def collect_night(dev_log, db, night):
    """The next connection, into a sound store: the night comes in, once."""
    with Store(str(db)) as store, morning_board(dev_log[0], dev_log[1], speed=0) as dev:
        PortRecorder(dev.port, store, until_goodbye=True, idle_timeout_s=30,
                     alive=lambda: dev.proc.poll() is None).run()
        got = sorted(e["t_ms"] for e in store.events() if e["boot_id"] == 111)
    assert got == night
    assert flash.events_kept(dev_log[1]) == []


def test_record_with_a_store_locked_too_long_acknowledges_nothing(tmp_path, tmp_db, capsys):
    log_dir, night = untethered_night(tmp_path)
    Store(tmp_db).close()
    timer = hold_lock(tmp_db, 2.5)
    with morning_board(tmp_path, log_dir) as dev:
        rc = record([dev.port, "--db", tmp_db, "--lock-wait", "1"])
    line = error_line(capsys.readouterr().err)
    assert rc == 1 and "is still locked by another process after 1 s" in line, line
    stored, kept = counts(line)
    assert stored == 0 and kept >= len(night)  # the night, and what the morning sent
    assert len(flash.events_kept(log_dir)) >= kept  # all still on the board
    timer.join()
    collect_night((tmp_path, log_dir), tmp_db, night)


def test_record_waits_for_a_lock_and_stores_everything(tmp_path, tmp_db, capsys):
    log_dir, night = untethered_night(tmp_path)
    Store(tmp_db).close()
    timer = hold_lock(tmp_db, 2.0)

    def stop_when_stored():  # Ctrl-C once the night is in
        deadline = time.monotonic() + 60
        con = sqlite3.connect(tmp_db)
        while time.monotonic() < deadline and con.execute(
                "SELECT COUNT(*) FROM events WHERE boot_id = 111").fetchone()[0] < len(night):
            time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGINT)

    with morning_board(tmp_path, log_dir) as dev:
        stopper = threading.Thread(target=stop_when_stored)
        stopper.start()
        rc = main(["record", dev.port, "--db", tmp_db])
        stopper.join()
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "record: store locked by another process, waiting (up to 600 s)..." in err
    assert "record: store unlocked after 2 s; recording goes on" in err
    timer.join()
    assert boot_uptimes(tmp_db, {111}) == night


# ============================================================================ damaged pages
def earlier_night(db, n):
    """n events of another device (99) in the store."""
    with Store(db) as store:
        store.upsert_boot(99, 1, START_MS, epoch_ms=START_MS)
        store.add_event_rows([(99, 1, i, i, START_MS + i * 1000) + (None,) * len(EVENT_COLUMNS)
                              for i in range(n)])
        store.commit()


def damaged_store(tmp_path):
    """A store whose events pages are overwritten with garbage (a disk's bad sectors)."""
    db = str(tmp_path / "damaged.sqlite3")
    earlier_night(db, 2000)
    con = sqlite3.connect(db)
    pages = [r[0] for r in con.execute("SELECT pageno FROM dbstat WHERE name = 'events'")]
    con.close()
    with open(db, "r+b") as f:
        for p in pages[len(pages) // 2:]:
            f.seek((p - 1) * 4096)
            f.write(os.urandom(4096))
    return db


def test_simulate_refuses_a_damaged_store_before_writing_anything(tmp_path, capsys):
    db = damaged_store(tmp_path)
    before = sha(db)
    path, _ = recording(tmp_path, seconds=20, jerks=(5.0,))
    rc = main(["simulate", "--raw", path, "--db", db])
    line = error_line(capsys.readouterr().err)
    assert rc == 1 and "the store %s is damaged" % db in line, line
    assert sha(db) == before
    assert not os.path.exists(flash.log_dir(1))  # no board was started


def test_record_refuses_a_damaged_store_and_the_board_keeps_its_night(tmp_path, capsys):
    log_dir, night = untethered_night(tmp_path)
    db = damaged_store(tmp_path)
    before = sha(db)
    with morning_board(tmp_path, log_dir) as dev:
        rc = record([dev.port, "--db", db])
    line = error_line(capsys.readouterr().err)
    assert rc == 1 and "is damaged" in line, line
    assert sha(db) == before
    assert len(flash.events_kept(log_dir)) == len(night)  # nothing acknowledged


def damage_when_stored(db, n, device_id):
    """In a thread: once n events of device_id are stored, damage the events and heartbeats
    pages of the store under the running recorder. Returns (thread, [pages damaged])."""
    done = []

    def damage():
        con = sqlite3.connect(db)
        deadline = time.monotonic() + 30
        while con.execute("SELECT COUNT(*) FROM events WHERE device_id = ?",
                          (device_id,)).fetchone()[0] < n:
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        writer = sqlite3.connect(db, timeout=30)
        writer.execute("BEGIN IMMEDIATE")  # the recorder waits meanwhile
        con.execute("PRAGMA wal_checkpoint(PASSIVE)")  # its pages into the main file...
        pages = [r[0] for r in con.execute(
            "SELECT pageno FROM dbstat WHERE name IN ('events', 'events_time', "
            "'sqlite_autoindex_events_1', 'heartbeats', 'sqlite_autoindex_heartbeats_1')")]
        fd = os.open(db, os.O_RDWR)
        for p in pages:  # ...which then go bad
            os.pwrite(fd, os.urandom(4096), (p - 1) * 4096)
        os.close(fd)
        writer.execute("INSERT INTO notes (time_ms, kind, created_ms) VALUES (1, 'note', 1)")
        writer.commit()  # another writer: the recorder's page cache is dropped
        done.append(len(pages))

    t = threading.Thread(target=damage)
    t.start()
    return t, done


def test_pages_damaged_while_simulate_runs(tmp_path, tmp_db, capsys):
    """Pages go bad under a running simulate: it stops at the first batch that meets them,
    stores nothing of that batch, and the board keeps every event."""
    path, expected = recording(tmp_path)
    earlier_night(tmp_db, 20000)  # a long earlier night: its tables span many pages
    t, done = damage_when_stored(tmp_db, 3, 1)
    rc = main(["simulate", "--raw", path, "--start", START, "--db", tmp_db])
    t.join()
    assert done
    line = error_line(capsys.readouterr().err)
    assert rc == 1 and "the store %s is damaged" % tmp_db in line, line
    stored, kept = counts(line)
    board = kept_on_board()
    assert stored >= 3 and kept > 0
    assert stored + kept == len(board)  # live events are acknowledged at the end only
    first_boot = {k[1] for k in board}
    fresh = tmp_path / "fresh.sqlite3"
    collect(tmp_path, fresh, capsys)  # the next simulate, into a sound store
    assert boot_uptimes(fresh, first_boot) == expected[:stored + kept]


def test_pages_damaged_while_record_runs(tmp_path, tmp_db, capsys):
    """The night is collected, then pages go bad while the morning is recorded live: record
    stops with one line (its status line never trips over the damage), and the next record,
    into a sound store, collects every morning event the board found."""
    log_dir, night = untethered_night(tmp_path)
    earlier_night(tmp_db, 20000)
    t, done = damage_when_stored(tmp_db, len(night) + 2, 9)  # the night and 2 live events
    with morning_board(tmp_path, log_dir, jerks=JERKS[:18]) \
            as dev:
        morning = dev.uptimes
        assert len(morning) == 18
        rc = record([dev.port, "--db", tmp_db])
    t.join()
    assert done
    line = error_line(capsys.readouterr().err)
    assert rc == 1 and "the store %s is damaged" % tmp_db in line, line
    stored, kept = counts(line)
    assert stored >= len(night) + 2
    on_board = [k for k in flash.events_kept(log_dir) if k[1] == 222]
    assert len(on_board) >= 2 + kept  # the live ones stored (not yet acknowledged) too
    fresh = tmp_path / "fresh.sqlite3"
    with Store(str(fresh)) as store, morning_board(tmp_path, log_dir, speed=0,
                                                   boot_id=333) as dev:
        PortRecorder(dev.port, store, until_goodbye=True, idle_timeout_s=30,
                     alive=lambda: dev.proc.poll() is None).run()
    assert boot_uptimes(fresh, {222}) == morning[:len(on_board)]


# ============================================================================ a full disk
_NAMESPACE = {}


def _namespace_ok():
    if "ok" not in _NAMESPACE:
        d = "/tmp/jerklog-ns-probe-%d" % os.getpid()
        os.makedirs(d, exist_ok=True)
        try:
            proc = subprocess.run(["unshare", "-m", "sh", "-c",
                                   "mount -t tmpfs -o size=64k tmpfs %s" % d],
                                  capture_output=True, text=True, timeout=30)
            _NAMESPACE["ok"] = proc.returncode == 0
            _NAMESPACE["why"] = proc.stderr.strip()
        except (OSError, subprocess.SubprocessError) as e:
            _NAMESPACE["ok"], _NAMESPACE["why"] = False, str(e)
        os.rmdir(d)
    if not _NAMESPACE["ok"]:
        pytest.skip("cannot mount a tmpfs in a private mount namespace here (unshare -m, "
                    "mount): %s" % _NAMESPACE["why"])


# Inside the namespace: a tmpfs of $3 bytes at $1 (a store prepared at $4, if given, is
# copied in first; "ro" as $5 remounts it read-only), then the command; afterwards what is
# on the tmpfs is copied to $2, since the tmpfs goes with the namespace.
SHELL = """
mnt=$1 out=$2 size=$3 seed=$4 ro=$5; shift 5
mount -t tmpfs -o size=$size,mode=0700 tmpfs "$mnt" || exit 97
if [ -n "$seed" ]; then cp -a "$seed" "$mnt/" || exit 98; fi
if [ "$ro" = ro ]; then mount -o remount,ro "$mnt" || exit 99; fi
"$@"; rc=$?
cp -a "$mnt"/. "$out"/
exit $rc
"""


def on_tmpfs(tmp_path, size, args, seed_store=None, read_only=False, timeout=120):
    """Run `jerklog ARGS` with DB standing for a store on a tmpfs of `size`; return (rc,
    stderr, the store's path after, copied out)."""
    _namespace_ok()
    mnt, out = tmp_path / "mnt", tmp_path / "out"
    mnt.mkdir()
    out.mkdir()
    db = str(mnt / "s.sqlite3")
    cmd = [sys.executable, "-m", "jerklog"] + [db if a == "DB" else str(a) for a in args]
    proc = subprocess.run(["unshare", "-m", "sh", "-c", SHELL, "sh", str(mnt), str(out),
                           str(size), seed_store or "", "ro" if read_only else ""] + cmd,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode not in (97, 98, 99), proc.stderr
    return proc.returncode, proc.stderr, out / "s.sqlite3"


def test_simulate_on_a_full_disk(tmp_path, capsys):
    path, expected = recording(tmp_path)
    rc, err, db = on_tmpfs(tmp_path, "400k", ["simulate", "--raw", path, "--start", START,
                                              "--db", "DB"])
    line = error_line(err)
    assert rc == 1 and "the disk is full" in line, line
    stored, kept = counts(line)
    with Store(str(db), create=False) as store:
        assert store.count_events() == stored
    board = kept_on_board()
    assert stored + kept == len(board) > 0
    first_boot = {k[1] for k in board}
    collect(tmp_path, db, capsys)  # room again (the store on a real disk): collected
    assert boot_uptimes(db, first_boot) == expected[:stored + kept]


def test_record_on_a_full_disk(tmp_path, capsys):
    """A night's log collected in the morning onto a full disk: the store takes what fits,
    the board keeps the rest (a dump is acknowledged only once all of it is stored), and
    the next record takes all."""
    log_dir, night = untethered_night(tmp_path, seconds=240, jerks=JERKS)
    night_keys = set(flash.events_kept(log_dir))
    with morning_board(tmp_path, log_dir) as dev:
        rc, err, db = on_tmpfs(tmp_path, "320k", ["record", dev.port, "--db", "DB"])
    line = error_line(err)
    assert rc == 1 and "the disk is full" in line, line
    stored, kept = counts(line)
    with Store(str(db), create=False) as store:
        in_store = {(e["device_id"], e["boot_id"], e["seq"]) for e in store.events()}
    assert len(in_store) == stored
    on_board = set(flash.events_kept(log_dir))
    assert night_keys <= in_store | on_board  # nothing of the night is lost
    # The count is what the board held when asked; it kept recording after that.
    assert len(night_keys - in_store) <= kept <= len(on_board - in_store)
    collect_night((tmp_path, log_dir), db, night)


# ============================================================================ read-only
def test_simulate_and_record_on_a_read_only_store(tmp_path, capsys):
    seed = str(tmp_path / "s.sqlite3")
    with Store(seed) as store:
        store.upsert_boot(5, 5, START_MS)
        store.commit()
    before = sha(seed)
    path, _ = recording(tmp_path, seconds=20, jerks=(5.0,))
    rc, err, db = on_tmpfs(tmp_path, "1m", ["simulate", "--raw", path, "--db", "DB"],
                           seed_store=seed, read_only=True)
    line = error_line(err)
    assert rc == 1 and "cannot open the store %s" % db.parent.parent.joinpath(
        "mnt", "s.sqlite3") in line and "read-only" in line, line
    assert sha(db) == before and not os.path.exists(flash.log_dir(1))
    log_dir, night = untethered_night(tmp_path)
    shutil.rmtree(tmp_path / "mnt")
    shutil.rmtree(tmp_path / "out")
    with morning_board(tmp_path, log_dir) as dev:
        rc, err, db = on_tmpfs(tmp_path, "1m", ["record", dev.port, "--db", "DB"],
                               seed_store=seed, read_only=True)
    line = error_line(err)
    assert rc == 1 and "read-only" in line, line
    assert len(flash.events_kept(log_dir)) == len(night)


# ============================================================================ output paths
@pytest.fixture
def store_with_events(tmp_path, capsys):
    path, _ = recording(tmp_path, seconds=20, jerks=(5.0, 12.0))
    db = str(tmp_path / "s.sqlite3")
    assert main(["simulate", "--raw", path, "--start", START, "--db", db]) == 0
    capsys.readouterr()
    return db


def _refused(args, capsys, *unchanged):
    before = {p: sha(p) for p in unchanged}
    listing = sorted(os.listdir(os.path.dirname(unchanged[0])))
    rc = main(args)
    line = error_line(capsys.readouterr().err)
    assert rc == 1 and "would be overwritten" in line, line
    assert {p: sha(p) for p in unchanged} == before
    assert sorted(os.listdir(os.path.dirname(unchanged[0]))) == listing  # nothing new
    return line


@pytest.mark.parametrize("fmt", ["csv", "summary", "edf"])
def test_export_over_its_store_is_refused(store_with_events, tmp_path, capsys, fmt,
                                          monkeypatch):
    db = store_with_events
    line = _refused(["export", "--format", fmt, "--db", db, "--out", db], capsys, db)
    assert "is the store %s" % db in line
    os.symlink(db, str(tmp_path / "link.csv"))
    _refused(["export", "--format", fmt, "--db", db, "--out", str(tmp_path / "link.csv")],
             capsys, db)
    os.link(db, str(tmp_path / "hard.csv"))
    _refused(["export", "--format", fmt, "--db", db, "--out", str(tmp_path / "hard.csv")],
             capsys, db)
    sub = tmp_path / "sub"
    sub.mkdir()
    _refused(["export", "--format", fmt, "--db", db, "--out", str(sub / ".." / "s.sqlite3")],
             capsys, db)
    # its -wal and -shm files, there or not
    line = _refused(["export", "--format", fmt, "--db", db, "--out", db + "-wal"], capsys, db)
    assert "the store's -wal file" in line
    _refused(["export", "--format", fmt, "--db", db, "--out", db + "-shm"], capsys, db)
    # the store named by $JERKLOG_DB
    monkeypatch.setenv("JERKLOG_DB", db)
    _refused(["export", "--format", fmt, "--out", db], capsys, db)


def test_report_over_its_store_is_refused(store_with_events, tmp_path, capsys):
    db = store_with_events
    os.symlink(db, str(tmp_path / "report.html"))
    _refused(["report", "--db", db, "--out", str(tmp_path / "report.html")], capsys, db)
    before = sha(db)  # the store's own name is no report name: a usage error, untouched
    with pytest.raises((SystemExit, argparse.ArgumentError)) as e:
        main(["report", "--db", db, "--out", db])
    assert "use a .pdf or .html name" in str(e.value) + capsys.readouterr().err
    assert sha(db) == before
    out = tmp_path / "fine.html"  # and a path of its own is fine
    assert main(["report", "--db", db, "--out", str(out)]) == 0 and out.exists()


def test_analyze_over_its_recording_is_refused(tmp_path, capsys, monkeypatch):
    path, _ = recording(tmp_path, seconds=20, jerks=(5.0,))
    line = _refused(["analyze", path, "--out", path], capsys, path)
    assert "is the input %s" % path in line
    os.link(path, str(tmp_path / "events.csv"))
    _refused(["analyze", path, "--out", str(tmp_path / "events.csv")], capsys, path)
    monkeypatch.chdir(tmp_path)
    _refused(["analyze", "rec.csv", "--out", "./rec.csv"], capsys, path)


def test_simulate_save_raw_onto_something_that_exists(store_with_events, tmp_path, capsys):
    db = store_with_events
    before = sha(db)
    rc = main(["simulate", "--scenario", "rest", "--minutes", "1", "--db", db,
               "--save-raw", db])
    line = error_line(capsys.readouterr().err)
    assert rc == 1 and "is not a directory" in line and sha(db) == before
    # a directory where raw.csv would be the store
    d = tmp_path / "keep"
    d.mkdir()
    store = str(d / "raw.csv")
    shutil.copy(db, store)
    rc = main(["simulate", "--scenario", "rest", "--minutes", "1", "--db", store,
               "--save-raw", str(d)])
    line = error_line(capsys.readouterr().err)
    assert rc == 1 and "would be overwritten" in line and sha(store) == before
    assert sorted(os.listdir(str(d))) == ["raw.csv"]


# ============================================================================ odd stores
def test_an_existing_store_readable_by_others_is_made_private(store_with_events, capsys):
    db = store_with_events
    os.chmod(db, 0o644)
    assert main(["note", "list", "--db", db]) == 0
    assert os.stat(db).st_mode & 0o777 == 0o600
