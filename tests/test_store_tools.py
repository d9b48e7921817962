"""`jerklog store check` and `store recover`, and foreign SQLite files (issue 16, item 3):
a damaged store is reported and what is readable of it copied into a new store, its own
bytes unchanged; another program's SQLite file is refused by every command, never extended."""
import hashlib
import os
import sqlite3

import pytest

from conftest import synthetic_recording
from jerklog import JerklogError
from jerklog.cli.main import main
from jerklog.events import EVENT_COLUMNS
from jerklog.store.database import Store

START_MS = 1763677800000
N = 2000


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def listing(path):
    """The files beside path; the tests' data dir (XDG_DATA_HOME, conftest) is not one of them."""
    return sorted(n for n in os.listdir(os.path.dirname(path)) if n != "xdg")


def sound_store(path, n=N):
    with Store(path) as store:
        store.upsert_boot(99, 1, START_MS, epoch_ms=START_MS)
        store.add_event_rows([(99, 1, i, i, START_MS + i * 1000) + (None,) * len(EVENT_COLUMNS)
                              for i in range(n)])
        store.add_heartbeat_rows([(99, 1, i, START_MS + i, i, i, 0, 0) for i in range(50)])
        store.commit()
    return path


def damage(path):
    """Overwrite the second half of the events table's pages (as test_storage_faults does)."""
    con = sqlite3.connect(path)
    pages = [r[0] for r in con.execute("SELECT pageno FROM dbstat WHERE name = 'events'")]
    con.close()
    with open(path, "r+b") as f:
        for p in pages[len(pages) // 2:]:
            f.seek((p - 1) * 4096)
            f.write(os.urandom(4096))
    return path


def foreign(path):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
    con.execute("INSERT INTO contacts VALUES ('Ann', '555')")
    con.commit()
    con.close()
    return path


def run(args, capsys):
    rc = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return rc, out, err


def test_a_sound_store_checks_clean(tmp_path, capsys):
    db = sound_store(str(tmp_path / "s.sqlite3"))
    before, files = sha(db), listing(db)
    rc, out, err = run(["store", "check", "--db", db], capsys)
    assert rc == 0, err
    assert out.strip().splitlines() == [
        "%s is sound: %d events, 1 boots, 0 notes, 50 heartbeats" % (db, N)]
    assert sha(db) == before and listing(db) == files


def test_check_of_a_missing_store_is_one_line_and_creates_nothing(tmp_path, capsys):
    db = str(tmp_path / "none.sqlite3")
    rc, out, err = run(["store", "check", "--db", db], capsys)
    assert rc == 1 and err.strip() == "jerklog: error: no jerklog store at %s" % db
    assert os.listdir(tmp_path) == []


def test_a_damaged_store_is_reported_and_recovered_into_a_new_store(tmp_path, capsys):
    db = damage(sound_store(str(tmp_path / "d.sqlite3")))
    before, files = sha(db), listing(db)
    rc, out, err = run(["store", "check", "--db", db], capsys)
    lines = out.strip().splitlines()
    assert rc == 1 and lines[-1].startswith("%s is damaged (" % db), out
    assert any("integrity:" in line for line in lines[:-1]), out
    assert sha(db) == before and listing(db) == files

    new = str(tmp_path / "new.sqlite3")
    rc, out, err = run(["store", "recover", "--db", db, "--out", new], capsys)
    assert rc == 1, err
    by_table = {line.split(":")[0]: line for line in out.strip().splitlines()[:-1]}
    assert by_table["boots"] == "boots: 1 rows copied"
    assert by_table["heartbeats"] == "heartbeats: 50 rows copied"
    assert "rows unreadable" in by_table["events"], out
    assert "some rows were lost" in out.strip().splitlines()[-1]
    assert sha(db) == before and sorted(set(listing(db)) - {"new.sqlite3"}) == files

    with Store(new, create=False) as store:
        seqs = [e["seq"] for e in store.events()]
    copied = int(by_table["events"].split()[1])
    assert 0 < copied < N and len(seqs) == copied == len(set(seqs))
    # what was copied is exactly as stored: the readable events of the first half at least
    assert set(range(copied // 2)) <= set(seqs)
    rc, out, err = run(["store", "check", "--db", new], capsys)
    assert rc == 0, out + err
    csv = str(tmp_path / "diary.csv")
    rc, out, err = run(["export", "--db", new, "--out", csv], capsys)
    assert rc == 0 and out.strip() == "%d events written to %s" % (copied, csv), err

    # NEW exists now: refused, and nothing changes
    new_sha = sha(new)
    rc, out, err = run(["store", "recover", "--db", db, "--out", new], capsys)
    assert rc == 1 and "exists" in err and sha(new) == new_sha and sha(db) == before


def test_recover_of_a_sound_store_copies_everything(tmp_path, capsys):
    db = sound_store(str(tmp_path / "s.sqlite3"))
    with Store(db) as store:
        store.add_note(START_MS, "medication", name="levetiracetam", dose="500 mg")
    before = sha(db)
    new = str(tmp_path / "new.sqlite3")
    rc, out, err = run(["store", "recover", "--db", db, "--out", new], capsys)
    assert rc == 0, err
    assert "events: %d rows copied" % N in out and "notes: 1 rows copied" in out
    assert out.strip().splitlines()[-1].endswith("every row copied")
    assert sha(db) == before
    with Store(new, create=False) as store:
        assert store.count_events() == N and store.notes()[0]["dose"] == "500 mg"


def test_recover_onto_its_own_store_is_refused(tmp_path, capsys):
    db = sound_store(str(tmp_path / "s.sqlite3"))
    before = sha(db)
    for out in (db, db + "-wal"):
        rc, _, err = run(["store", "recover", "--db", db, "--out", out], capsys)
        assert rc == 1 and err.startswith("jerklog: error: --out ") and sha(db) == before


def refused(err, path):
    lines = [line for line in err.strip().splitlines() if line.startswith("jerklog: ")]
    assert len(lines) == 1 and err.strip().splitlines()[-1] == lines[0] and lines[0].startswith(
        "jerklog: error: %s is an SQLite file of another program, not a jerklog store"
        % path), err


@pytest.mark.parametrize("args", [
    ["export", "--out", "{dir}/out.csv"],
    ["report", "--out", "{dir}/out.html"],
    ["note", "add", "--text", "two coffees"],
    ["note", "list"],
    ["store", "check"],
    ["store", "recover", "--out", "{dir}/new.sqlite3"],
])
def test_a_foreign_sqlite_file_is_refused_and_stays_byte_identical(tmp_path, capsys, args):
    db = foreign(str(tmp_path / "other.sqlite3"))
    before, files = sha(db), listing(db)
    rc, out, err = run([a.format(dir=tmp_path) for a in args] + ["--db", db], capsys)
    assert rc == 1
    refused(err, db)
    assert sha(db) == before and listing(db) == files
    con = sqlite3.connect(db)
    assert [r[0] for r in con.execute("SELECT name FROM sqlite_master")] == ["contacts"]
    con.close()


def test_simulate_refuses_a_foreign_sqlite_file(tmp_path, capsys):
    db = foreign(str(tmp_path / "other.sqlite3"))
    before, files = sha(db), listing(db)
    raw = str(tmp_path / "rec.csv")
    synthetic_recording(10, 100, (5.0,)).write_csv(raw)
    files = listing(db)
    rc, out, err = run(["simulate", "--raw", raw, "--db", db], capsys)
    assert rc == 1
    refused(err, db)
    assert sha(db) == before and listing(db) == files


def test_store_open_refuses_foreign_files_and_accepts_empty_ones(tmp_path):
    db = foreign(str(tmp_path / "other.sqlite3"))
    before = sha(db)
    for create in (True, False):  # record's and simulate's open, and the readers'
        with pytest.raises(JerklogError, match="SQLite file of another program"):
            Store(db, create=create)
    assert sha(db) == before
    # another program's table that happens to be called notes, at schema version 0
    notes_only = str(tmp_path / "notes.sqlite3")
    con = sqlite3.connect(notes_only)
    con.execute("CREATE TABLE notes (title TEXT)")
    con.commit()
    con.close()
    with pytest.raises(JerklogError, match="another program"):
        Store(notes_only)
    # an empty file (0 bytes) and an SQLite file with no tables become new stores
    empty = str(tmp_path / "empty.sqlite3")
    open(empty, "wb").close()
    blank = str(tmp_path / "blank.sqlite3")
    sqlite3.connect(blank).execute("PRAGMA user_version=0").connection.close()
    for path in (empty, blank):
        with Store(path) as store:
            assert store.count_events() == 0
