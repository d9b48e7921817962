"""Annotations: medication changes and doses, trigger marks and free notes, kept in the store.

The diary reads them back: medication notes are the change points for before/after rates,
trigger notes join the board's trigger button as trigger marks, and every note is listed in
the report. Times are stored as Unix ms (UTC); what the user types is parsed with
localtime.parse_time (ISO 8601, 1985-2084; without an offset it is local time, or the
zone given).

    add_note(store, when, kind, name=None, dose=None, text=None, device_id=None, tz=None)
    list_notes(store, from_ms=None, to_ms=None, kind=None)      -> [dict]
    edit_note(store, note_id, tz=None, **changes)               -> dict (the note after)
    delete_note(store, note_id)                                 -> dict (the note deleted)
    format_notes(notes, tz=None)                                -> lines for a terminal
"""
import numbers

from jerklog import JerklogError
from jerklog.localtime import check_time, format_ms, parse_time
from jerklog.store.database import NOTE_KINDS as KINDS  # one list, the same as the table's CHECK
from jerklog.store.database import Store
from jerklog_firmware.config import DEVICE_ID_MAX

MAX_TEXT = 2000


def _time_ms(when, tz=None):
    """An int (Unix ms), a datetime or an ISO 8601 string -> Unix ms."""
    if isinstance(when, bool):
        raise JerklogError("note time %r is not a time" % (when,))
    if isinstance(when, numbers.Integral):
        return check_time(int(when), "note time")
    if hasattr(when, "timestamp"):
        try:
            if getattr(when, "tzinfo", None) is None:
                when = when.replace(tzinfo=tz) if tz else when.astimezone()
            ms = int(round(when.timestamp() * 1000))
        except (ValueError, OverflowError, OSError):
            raise JerklogError("note time %r is not a time jerklog can hold" % (when,)) from None
        return check_time(ms, "note time")
    if isinstance(when, str):
        return parse_time(when, tz, "note time")
    raise JerklogError("note time %r is not a time" % (when,))


def _clean(value, what):
    if value is None:
        return None
    value = str(value).strip()
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # bytes the terminal sent that are not UTF-8 text
        raise JerklogError("%s %r is not UTF-8 text: check the terminal's character set"
                           % (what, value)) from None
    if len(value) > MAX_TEXT:
        raise JerklogError("%s is longer than %d characters" % (what, MAX_TEXT))
    return value or None


def _check(note):
    if note["kind"] not in KINDS:
        raise JerklogError("note kind %r is not one of %s" % (note["kind"], ", ".join(KINDS)))
    if note["kind"] == "medication" and not note.get("name"):
        raise JerklogError("a medication note needs the drug's name (--name)")
    if note["kind"] != "medication" and not (note.get("text") or note.get("name")):
        raise JerklogError("a %s note needs a text (--text)" % note["kind"])
    if note.get("device_id") is not None and (isinstance(note["device_id"], bool) or
                                              not isinstance(note["device_id"],
                                                             numbers.Integral)):
        raise JerklogError("device id %r is not a number" % (note["device_id"],))
    if note.get("device_id") is not None and not 0 <= note["device_id"] <= DEVICE_ID_MAX:
        raise JerklogError("device id %d is outside 0..%d, the ids a board can have"
                           % (note["device_id"], DEVICE_ID_MAX))


def new_note(when, kind: str, name: str | None = None, dose: str | None = None,
             text: str | None = None, device_id: int | None = None, tz=None) -> dict:
    """One note checked, as the fields Store.add_note takes (a JerklogError if it is wrong),
    so a wrong note is refused before a store is opened or created.

    kind 'medication' needs a name (dose is free text: '500 mg', '2 x 250 mg', 'stopped');
    'trigger' (a stimulus the wearer noticed: light, sound, touch, movement) and 'note'
    (alcohol, stress, caffeine, exercise, anything) need a text.
    """
    note = dict(time_ms=_time_ms(when, tz), kind=(kind or "").strip().lower(),
                name=_clean(name, "name"), dose=_clean(dose, "dose"),
                text=_clean(text, "text"), device_id=device_id)
    _check(note)
    return note


def add_note(store: Store, when, kind: str, name: str | None = None, dose: str | None = None,
             text: str | None = None, device_id: int | None = None, tz=None) -> int:
    """Check and store one note (see new_note); return its id."""
    return store.add_note(**new_note(when, kind, name, dose, text, device_id, tz))


def list_notes(store: Store, from_ms: int | None = None, to_ms: int | None = None,
               kind: str | None = None) -> list:
    """Notes in [from_ms, to_ms), optionally of one kind, by time."""
    if kind is not None and kind not in KINDS:
        raise JerklogError("note kind %r is not one of %s" % (kind, ", ".join(KINDS)))
    return store.notes(from_ms, to_ms, kind)


def _get(store, note_id):
    note = store.note(note_id)
    if note is None:
        raise JerklogError("there is no note %s" % note_id)
    return note


def edit_note(store: Store, note_id: int, tz=None, **changes) -> dict:
    """Change fields of a note (time, kind, name, dose, text, device_id); a value of ''
    clears a text field. Unknown fields are an error. Return the note as stored after."""
    allowed = {"when", "time_ms", "kind", "name", "dose", "text", "device_id"}
    bad = set(changes) - allowed
    if bad:
        raise JerklogError("cannot edit %s of a note" % ", ".join(sorted(bad)))
    note = _get(store, note_id)
    fields = {}
    for key, value in changes.items():
        if value is None:
            continue  # not given
        if key in ("when", "time_ms"):
            fields["time_ms"] = _time_ms(value, tz)
        elif key == "kind":
            fields["kind"] = str(value).strip().lower()
        elif key == "device_id":
            fields["device_id"] = None if value == "" else value
        else:
            fields[key] = _clean(value, key)
    merged = dict(note, **fields)
    _check(merged)
    store.update_note(note_id, **fields)
    return store.note(note_id)


def delete_note(store: Store, note_id: int) -> dict:
    """Delete a note; return it as it was (an error if there is none)."""
    note = _get(store, note_id)
    store.delete_note(note_id)
    return note


def describe(note: dict) -> str:
    """One-line description: 'levetiracetam 500 mg', 'trigger: flashing light', ..."""
    if note["kind"] == "medication":
        parts = [note.get("name") or "", note.get("dose") or ""]
        if note.get("text"):
            parts.append("(%s)" % note["text"])
        return " ".join(p for p in parts if p)
    label = note.get("name") or ""
    text = note.get("text") or ""
    body = ("%s: %s" % (label, text)) if label and text else (label or text)
    return body


def format_notes(notes: list, tz=None) -> list:
    """Lines for `jerklog note list`: id, local time with offset, kind, description."""
    lines = []
    for n in notes:
        dev = "  [device %d]" % n["device_id"] if n.get("device_id") is not None else ""
        lines.append("%5d  %s  %-10s  %s%s" % (n["id"], format_ms(n["time_ms"], tz), n["kind"],
                                               describe(n), dev))
    return lines
