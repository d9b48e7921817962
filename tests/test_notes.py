"""Notes: medication changes, trigger marks and free notes in the store."""
import datetime as dt
import sqlite3

import pytest

from jerklog import JerklogError
from jerklog.localtime import zone
from jerklog.store.database import Store
from jerklog.store.notes import add_note, delete_note, describe, edit_note, format_notes, list_notes

T = 1772409600000  # 2026-03-02T00:00:00Z


@pytest.fixture
def store(tmp_path):
    s = Store(str(tmp_path / "notes.sqlite3"))
    yield s
    s.close()


def test_add_list_edit_delete(store):
    a = add_note(store, "2026-03-02T09:00:00+01:00", "medication", name="levetiracetam",
                 dose="500 mg twice daily")
    b = add_note(store, T + 5000, "trigger", text="flashing light")
    c = add_note(store, dt.datetime(2026, 3, 1, 20, 0, tzinfo=dt.timezone.utc), "note",
                 text="two glasses of wine")
    assert [n["id"] for n in list_notes(store)] == [c, b, a]
    assert [n["id"] for n in list_notes(store, kind="medication")] == [a]
    assert [n["id"] for n in list_notes(store, T, T + 10000)] == [b]
    n = store.note(a)
    assert n["time_ms"] == T + 8 * 3600000 and n["dose"] == "500 mg twice daily"
    assert n["device_id"] is None and n["created_ms"] > 0
    after = edit_note(store, a, dose="750 mg twice daily", when="2026-03-03T09:00:00+01:00")
    assert after["dose"] == "750 mg twice daily" and after["time_ms"] == T + 32 * 3600000
    assert edit_note(store, a, text="after the visit")["text"] == "after the visit"
    assert edit_note(store, a, text="")["text"] is None            # '' clears
    assert describe(store.note(a)) == "levetiracetam 750 mg twice daily"
    assert describe(store.note(b)) == "flashing light"
    gone = delete_note(store, b)
    assert gone["text"] == "flashing light" and store.note(b) is None
    with pytest.raises(JerklogError, match="no note"):
        delete_note(store, b)
    with pytest.raises(JerklogError, match="no note"):
        edit_note(store, 999, text="x")


def test_notes_survive_reopening(tmp_path):
    path = str(tmp_path / "s.sqlite3")
    with Store(path) as s:
        nid = add_note(s, T, "note", text="coffee")
    with Store(path) as s:
        assert s.note(nid)["text"] == "coffee"


def test_an_older_store_gains_the_notes_table(tmp_path):
    path = str(tmp_path / "old.sqlite3")
    with Store(path):
        pass
    db = sqlite3.connect(path)
    db.execute("DROP TABLE notes")
    db.commit()
    db.close()
    with Store(path) as s:
        assert add_note(s, T, "note", text="stress at work") == 1


@pytest.mark.parametrize("kwargs, message", [
    (dict(kind="medication"), "needs the drug's name"),
    (dict(kind="note"), "needs a text"),
    (dict(kind="trigger", text="  "), "needs a text"),
    (dict(kind="drug", name="x"), "not one of medication, trigger, note"),
    (dict(kind="note", text="x", when="yesterday"), "not an ISO 8601 time"),
    (dict(kind="note", text="x", device_id="one"), "not a number"),
    (dict(kind="note", text="x", device_id=2 ** 64), "outside 0..1073741823"),
    (dict(kind="note", text="x", device_id=-1), "outside 0..1073741823"),
    (dict(kind="note", text="x", when="0001-01-01T00:00"), "in 1985-2084"),
    (dict(kind="note", text="x" * 3000), "longer than"),
])
def test_bad_notes_are_refused(store, kwargs, message):
    when = kwargs.pop("when", T)
    with pytest.raises(JerklogError, match=message):
        add_note(store, when, **kwargs)
    assert list_notes(store) == []


def test_edit_is_checked(store):
    nid = add_note(store, T, "medication", name="clonazepam", dose="0.5 mg")
    with pytest.raises(JerklogError, match="needs the drug's name"):
        edit_note(store, nid, name="")
    with pytest.raises(JerklogError, match="cannot edit"):
        edit_note(store, nid, created_ms=1)
    with pytest.raises(JerklogError, match="not one of"):
        edit_note(store, nid, kind="drug")
    assert store.note(nid)["name"] == "clonazepam"


def test_times_without_offset_use_the_zone(store):
    nid = add_note(store, "2026-07-01T08:00", "note", text="x", tz=zone("America/New_York"))
    assert store.note(nid)["time_ms"] == 1782907200000          # 12:00Z
    lines = format_notes(list_notes(store), zone("Europe/Berlin"))
    assert lines == ["%5d  2026-07-01T14:00:00.000+02:00  note        x" % nid]
