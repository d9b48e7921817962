"""The SQLite store: devices, boots, events and heartbeats, written durably and idempotently.

One file (WAL mode), private to the user. Ingest is keyed on (device, boot, seq), so a record
received twice (a replayed on-board log, a reconnect) is stored once.
Times: `t_ms` is the device's uptime clock; `time_ms` is Unix time in ms (UTC) as mapped by
the host; display time zones are applied only at export.
"""
import contextlib
import errno
import json
import os
import re
import sqlite3

from jerklog import JerklogError, StorageError
from jerklog import evidence as ev
from jerklog.events import EVENT_COLUMNS
from jerklog.files import private_dir

SCHEMA_VERSION = 1

_EVENT_SQL = ",\n    ".join("%s %s" % (c.name, c.sql) for c in EVENT_COLUMNS)
SCHEMA = """
CREATE TABLE IF NOT EXISTS boots (
    device_id INTEGER NOT NULL,
    boot_id INTEGER NOT NULL,
    first_seen_ms INTEGER NOT NULL,   -- host Unix ms when this boot was first heard
    epoch_ms INTEGER,                 -- Unix ms at the device's uptime 0
    clock TEXT,                       -- 'device' (board knew the time) or 'host' (estimated)
    firmware TEXT, board TEXT, sensor TEXT, region TEXT,
    rate_hz INTEGER, has_gyro INTEGER,
    last_seq INTEGER, uptime_ms INTEGER, samples INTEGER, dropped INTEGER, events INTEGER,
    ended TEXT,                       -- goodbye reason, if the device said goodbye
    PRIMARY KEY (device_id, boot_id)
);
CREATE TABLE IF NOT EXISTS events (
    device_id INTEGER NOT NULL,
    boot_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    t_ms INTEGER NOT NULL,            -- device uptime of the peak, ms
    time_ms INTEGER NOT NULL,         -- Unix ms (UTC) of the peak
    %s,
    PRIMARY KEY (device_id, boot_id, seq)
);
CREATE INDEX IF NOT EXISTS events_time ON events (time_ms);
CREATE TABLE IF NOT EXISTS clock_corrections (  -- the host's estimate of a board's clock jumped
    device_id INTEGER NOT NULL,
    boot_id INTEGER NOT NULL,
    host_ms INTEGER NOT NULL,         -- when it was noticed
    uptime_ms INTEGER NOT NULL,       -- at this device uptime
    shift_ms INTEGER NOT NULL         -- by how much the mapping moved (a host clock jump)
);
CREATE TABLE IF NOT EXISTS board_logs (  -- each board's on-board log, as it last reported
    device_id INTEGER PRIMARY KEY,
    host_ms INTEGER NOT NULL,         -- when it reported
    dropped INTEGER,                  -- records its log lost to the size bound, ever
    pending INTEGER,                  -- records not yet acknowledged
    used_bytes INTEGER, capacity_bytes INTEGER
);
CREATE TABLE IF NOT EXISTS heartbeats (
    device_id INTEGER NOT NULL,
    boot_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    host_ms INTEGER NOT NULL,         -- host Unix ms at reception
    uptime_ms INTEGER, samples INTEGER, dropped INTEGER, events INTEGER,
    PRIMARY KEY (device_id, boot_id, seq)
);
""" % _EVENT_SQL

# Annotations the wearer (or a carer) adds: medication changes and doses, trigger marks, free
# notes (alcohol, stress, caffeine, exercise). Appended to SCHEMA: older stores gain the table
# on opening, and the store's schema version is unchanged.
NOTE_KINDS = ("medication", "trigger", "note")
SCHEMA += """
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ms INTEGER NOT NULL,         -- Unix ms (UTC) the note is about
    kind TEXT NOT NULL CHECK (kind IN ('medication', 'trigger', 'note')),
    name TEXT,                        -- medication name (or a short label)
    dose TEXT,                        -- as written: '500 mg', '2 x 250 mg', 'stopped'
    text TEXT,                        -- free text
    created_ms INTEGER NOT NULL,      -- host Unix ms when the note was written
    device_id INTEGER                 -- the board a note is about, NULL for the wearer
);
CREATE INDEX IF NOT EXISTS notes_time ON notes (time_ms);
"""

# What the board saw besides its events (issue 12): every candidate its detector judged, with
# the waveform around it, and 5 s activity epochs. Evidence travels in parts (docs/protocol.md);
# parts wait in evidence_parts until the last one is in, then become one evidence row. The
# host's judgement of a candidate (jerklog.judge) is kept in the same row, beside the board's.
_EVIDENCE_SQL = ",\n    ".join("%s %s" % c for c in ev.ROW_COLUMNS)
SCHEMA += """
CREATE TABLE IF NOT EXISTS evidence_parts (  -- parts of a candidate whose last part is missing
    device_id INTEGER NOT NULL,
    boot_id INTEGER NOT NULL,
    cand INTEGER NOT NULL,            -- the boot's candidate counter
    part INTEGER NOT NULL,
    seq INTEGER NOT NULL,             -- the part's record seq
    last INTEGER NOT NULL,
    head TEXT,                        -- part 0: features and wave shape (JSON)
    wave BLOB NOT NULL,
    PRIMARY KEY (device_id, boot_id, cand, part)
);
CREATE TABLE IF NOT EXISTS evidence (  -- one candidate the board judged, kept or dropped
    device_id INTEGER NOT NULL,
    boot_id INTEGER NOT NULL,
    cand INTEGER NOT NULL,
    seq INTEGER NOT NULL,             -- the record seq of its part 0
    %s,
    host_kept INTEGER,                -- the host's judgement: 1 a jerk, 0 not; NULL not judged
    host_confidence REAL,             -- 0..1
    host_reason TEXT,                 -- why (judge's words)
    judge TEXT,                       -- which judgement (name and version) decided
    PRIMARY KEY (device_id, boot_id, cand)
);
CREATE INDEX IF NOT EXISTS evidence_time ON evidence (time_ms);
CREATE INDEX IF NOT EXISTS evidence_peak ON evidence (device_id, boot_id, t_ms);
CREATE TABLE IF NOT EXISTS epochs (  -- 5 s of activity as the board summed it
    device_id INTEGER NOT NULL,
    boot_id INTEGER NOT NULL,
    t_ms INTEGER NOT NULL,            -- device uptime of its first sample, ms
    seq INTEGER NOT NULL,
    time_ms INTEGER NOT NULL,         -- Unix ms (UTC) of its first sample
    samples INTEGER,
    gx_mg INTEGER, gy_mg INTEGER, gz_mg INTEGER,  -- mean gravity, mg
    peak_rms_mg INTEGER,              -- RMS of the 100 ms peaks of |dynamic acceleration|, mg
    max_mg INTEGER,                   -- largest |dynamic acceleration|, mg
    PRIMARY KEY (device_id, boot_id, t_ms)
);
CREATE INDEX IF NOT EXISTS epochs_time ON epochs (time_ms);
""" % _EVIDENCE_SQL
# The host's measurement of each boot's clock, one per minute of uptime: the smallest offset
# (host receive ms - uptime ms) of the minute's heartbeats, the best estimate of the true one
# (boards/clock.py). Records a board logged while no host was there are later placed between
# the measurements before and after them (retime_boot), not by the clock of one connection.
SCHEMA += """
CREATE TABLE IF NOT EXISTS clock_anchors (
    device_id INTEGER NOT NULL,
    boot_id INTEGER NOT NULL,
    minute INTEGER NOT NULL,          -- uptime // 60000
    uptime_ms INTEGER NOT NULL,
    offset_ms INTEGER NOT NULL,       -- host ms - uptime ms, the minute's smallest
    PRIMARY KEY (device_id, boot_id, minute)
);
"""

# Marks the wearer or a doctor gives an event on the review page (jerklog review): every mark
# is a new row, so a mark is undone by removing the newest and nothing is overwritten. An
# event is (device_id, boot_id, seq) as the diary lists it (JUDGED_EVENTS).
REVIEW_MARKS = ("confirmed", "rejected", "unsure")
SCHEMA += """
CREATE TABLE IF NOT EXISTS review_marks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id INTEGER NOT NULL,
    boot_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    mark TEXT CHECK (mark IN ('confirmed', 'rejected', 'unsure')),  -- NULL: mark cleared
    marked_ms INTEGER NOT NULL        -- host Unix ms when it was given
);
CREATE INDEX IF NOT EXISTS review_marks_event ON review_marks (device_id, boot_id, seq);
"""
EPOCH_COLUMNS = ("device_id", "boot_id", "t_ms", "seq", "time_ms", "samples", "gx_mg", "gy_mg",
                 "gz_mg", "peak_rms_mg", "max_mg")

# The events the diary counts: the board's events, except those the host judged not a jerk,
# and the candidates the board dropped that the host judged a jerk. Where a boot sent no
# evidence (older firmware; evidence left off a full log), the board's decision stands.
# The host's confidence replaces the board's where it judged.
_EVENT_VALUES = ", ".join("e.%s" % c.name if c.name != "confidence" else
                          "COALESCE(x.host_confidence, e.confidence) AS confidence"
                          for c in EVENT_COLUMNS)
_EVIDENCE_VALUES = ", ".join("x.%s" % c.name if c.name != "confidence" else
                             "x.host_confidence AS confidence" for c in EVENT_COLUMNS)
JUDGED_EVENTS = (
    "SELECT e.device_id, e.boot_id, e.seq, e.t_ms, e.time_ms, %s FROM events e "
    "LEFT JOIN evidence x ON x.device_id = e.device_id AND x.boot_id = e.boot_id "
    "AND x.t_ms = e.t_ms AND x.verdict = 'kept' WHERE x.host_kept IS NOT 0 "
    "UNION ALL SELECT x.device_id, x.boot_id, x.seq, x.t_ms, x.time_ms, %s FROM evidence x "
    "WHERE x.host_kept = 1 AND x.verdict != 'kept'" % (_EVENT_VALUES, _EVIDENCE_VALUES))


BUSY_TIMEOUT_MS = 10000  # other statements wait this long for another process's lock


def _is_busy(e):
    return getattr(e, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED") or \
        "database is locked" in str(e)


def describe_failure(path, e):
    """One line for a failure to write the store at path (an sqlite3.Error or OSError)."""
    name = getattr(e, "sqlite_errorname", "") or ""
    if isinstance(e, OSError) and e.errno == errno.ENOSPC or name.startswith("SQLITE_FULL"):
        return "cannot write the store %s: the disk is full (%s)" % (path, e.strerror if
                                                                       isinstance(e, OSError)
                                                                       else e)
    if isinstance(e, OSError):
        return "cannot write %s: %s" % (e.filename or path, e.strerror or e)
    if name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB":
        return "the store %s is damaged (%s)" % (path, e)
    if name.startswith("SQLITE_READONLY"):
        return "the store %s is read-only (%s)" % (path, e)
    if _is_busy(e):
        return "the store %s is locked by another process (%s)" % (path, e)
    return "cannot write the store %s: %s" % (path, e)


_SCHEMA_NAMES = set(re.findall(r"CREATE (?:TABLE|INDEX) IF NOT EXISTS (\w+)", SCHEMA))
TABLES = tuple(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", SCHEMA))
_COLUMNS = {}


def expected_columns() -> dict:
    """{table: [column names]} of jerklog's schema, in order."""
    if not _COLUMNS:
        mem = sqlite3.connect(":memory:")
        mem.executescript(SCHEMA)
        for t in TABLES:
            _COLUMNS[t] = [r[1] for r in mem.execute("PRAGMA table_info(%s)" % t)]
        mem.close()
    return _COLUMNS


def user_tables(db) -> dict:
    """{table: [column names]} of the tables in an open SQLite file (not SQLite's own)."""
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                      "AND name NOT LIKE 'sqlite%'")]
    return {n: [r[1] for r in db.execute('PRAGMA table_info("%s")' % n.replace('"', '""'))]
            for n in names}


def foreign_file(path, db, version) -> str | None:
    """The one line refusing path if it is another program's SQLite file (it has tables, and
    none is jerklog's; or, at schema version 0, tables that are not jerklog's or lack
    jerklog's columns), else None. An empty file is not foreign: it becomes a new store."""
    tables = user_tables(db)
    if not tables:
        return None
    expected = expected_columns()
    mine = set(tables) & set(expected)
    foreign = not mine
    if version == 0:
        foreign = foreign or bool(set(tables) - set(expected)) or any(
            set(expected[t]) - set(tables[t]) for t in mine)
    if not foreign:
        return None
    others = sorted(set(tables) - set(expected)) or sorted(tables)
    return ("%s is an SQLite file of another program, not a jerklog store (its tables: %s%s):"
            " nothing was written to it; give jerklog's store with --db"
            % (path, ", ".join(others[:3]), ", ..." if len(others) > 3 else ""))


def _dicts(cur):
    """Rows of a cursor as dicts by column name."""
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur]


def _time_range(column, from_ms, to_ms, where, params):
    """Add column in [from_ms, to_ms) (either end optional) to a WHERE list."""
    if from_ms is not None:
        where.append(column + " >= ?")
        params.append(from_ms)
    if to_ms is not None:
        where.append(column + " < ?")
        params.append(to_ms)


def _read_only(path):
    """' (it or its directory is read-only)' when that is so, else ''."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.access(path, os.W_OK) or not os.access(directory, os.W_OK):
        return " (it or its directory is read-only)"
    return ""


def _make_private(path):
    """Set an existing store (and its -wal/-shm files) to 0600 if others could read it."""
    for name in (path, path + "-wal", path + "-shm"):
        try:
            st = os.stat(name)
            if st.st_mode & 0o077 and st.st_uid == os.getuid():
                os.chmod(name, st.st_mode & 0o700 | 0o600)
        except (OSError, AttributeError):  # gone meanwhile, not ours, or no getuid (Windows)
            pass


class Store:
    """Open (creating if needed) the store at path."""

    def __init__(self, path: str, create: bool = True):
        self.path = path
        if not os.path.exists(path):
            if not create:
                raise JerklogError("no jerklog store at %s (record or simulate first, or give "
                                   "--db)" % path)
            try:
                private_dir(os.path.dirname(os.path.abspath(path)))
                # Create it private before SQLite does; its -wal/-shm files copy the mode.
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            except OSError as e:
                raise JerklogError("cannot create the store %s: %s" % (path, e.strerror or e))
        try:
            self.db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000.0,
                                      check_same_thread=False)
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as e:
            if "not a database" in str(e):
                raise JerklogError("%s is not a jerklog store (%s)" % (path, e))
            raise JerklogError("cannot open the store %s: %s%s" % (path, e, _read_only(path)))
        if version > SCHEMA_VERSION:
            self.db.close()
            raise JerklogError("%s was written by a newer jerklog (store schema %d; this "
                               "version reads up to %d): upgrade jerklog"
                               % (path, version, SCHEMA_VERSION))
        try:
            refusal = foreign_file(path, self.db, version)
        except sqlite3.DatabaseError:
            refusal = None  # its schema cannot be read: check() says it is damaged
        if refusal:
            self.db.close()
            raise JerklogError(refusal)
        _make_private(path)
        try:
            self.check()
        except StorageError:
            self.db.close()
            raise
        try:
            self._prepare()
            if create:  # a writer: find out now, not at its first record, if it cannot write
                self._probe_write()
        except sqlite3.DatabaseError as e:
            self.db.close()
            if getattr(e, "sqlite_errorname", "").startswith("SQLITE_FULL"):
                raise StorageError(describe_failure(path, e))
            raise StorageError("cannot open the store %s for writing: %s (is it or its "
                               "directory read-only?)" % (path, e))

    def check(self) -> None:
        """Raise a StorageError if the store has damaged pages (SQLite's quick_check reads
        every page), before anything is written into it."""
        try:
            rows = self.db.execute("PRAGMA quick_check(5)").fetchall()
        except sqlite3.DatabaseError as e:
            if _is_busy(e):
                return  # a writer holds it: it is being written, so it was readable
            rows = [(str(e),)]
        if rows != [("ok",)]:
            found = [part.strip() for r in rows for part in str(r[0]).splitlines()
                     if part.strip() and not part.startswith("***")]
            raise StorageError("the store %s is damaged (%s%s): nothing was written to it; "
                               "keep a copy, and record into another store (--db)"
                               % (self.path, "; ".join(found[:2]),
                                  "; ..." if len(found) > 2 else ""))

    def _probe_write(self):
        """Write (and roll back) one change, so a read-only file or place fails here."""
        if not self.begin(wait_s=0):
            return  # another process is writing it: it is writable
        try:
            self.db.execute("PRAGMA user_version=%d" % SCHEMA_VERSION)
        finally:
            self.rollback()

    def _prepare(self):
        self.db.execute("PRAGMA synchronous=NORMAL")
        names = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master")}
        mode = self.db.execute("PRAGMA journal_mode").fetchone()[0]
        if mode == "wal" and _SCHEMA_NAMES <= names and \
                self.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return  # nothing to write: another process holding the write lock is no matter
        self.db.execute("PRAGMA journal_mode=WAL")
        with self.db:
            self.db.executescript(SCHEMA)
            self.db.execute("PRAGMA user_version=%d" % SCHEMA_VERSION)

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- ingest -------------------------------------------------------------------------
    def upsert_boot(self, device_id: int, boot_id: int, host_ms: int, **fields) -> None:
        """Create the boot row if new, then set the given fields (None values are skipped)."""
        self.db.execute("INSERT OR IGNORE INTO boots (device_id, boot_id, first_seen_ms) "
                        "VALUES (?, ?, ?)", (device_id, boot_id, host_ms))
        fields = {k: v for k, v in fields.items() if v is not None}
        if fields:
            sets = ", ".join("%s = ?" % k for k in fields)
            self.db.execute("UPDATE boots SET %s WHERE device_id = ? AND boot_id = ?" % sets,
                            tuple(fields.values()) + (device_id, boot_id))

    def add_event(self, device_id: int, boot_id: int, seq: int, t_ms: int, time_ms: int,
                  values: dict) -> bool:
        """Insert one event; return True if new, False if it was already stored."""
        names = ["device_id", "boot_id", "seq", "t_ms", "time_ms"]
        names += [c.name for c in EVENT_COLUMNS]
        params = [device_id, boot_id, seq, t_ms, time_ms]
        params += [values[c.name] for c in EVENT_COLUMNS]
        cur = self.db.execute("INSERT OR IGNORE INTO events (%s) VALUES (%s)"
                              % (", ".join(names), ", ".join("?" * len(names))), params)
        return cur.rowcount == 1

    def add_event_rows(self, rows) -> None:
        """Insert many events at once, each a tuple (device_id, boot_id, seq, t_ms, time_ms,
        then the event columns in EVENT_COLUMNS order); already stored ones are skipped."""
        names = ["device_id", "boot_id", "seq", "t_ms", "time_ms"]
        names += [c.name for c in EVENT_COLUMNS]
        self.db.executemany("INSERT OR IGNORE INTO events (%s) VALUES (%s)"
                            % (", ".join(names), ", ".join("?" * len(names))), rows)

    def add_heartbeat_rows(self, rows) -> None:
        """Insert many heartbeats at once, as add_heartbeat's arguments in order."""
        self.db.executemany("INSERT OR IGNORE INTO heartbeats VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            rows)

    def add_heartbeat(self, device_id: int, boot_id: int, seq: int, host_ms: int,
                      uptime_ms: int, samples: int, dropped: int, events: int) -> None:
        self.db.execute("INSERT OR IGNORE INTO heartbeats VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (device_id, boot_id, seq, host_ms, uptime_ms, samples, dropped,
                         events))

    def add_evidence_part(self, device_id: int, boot_id: int, seq: int, cand: int, part: int,
                          last: bool, head: dict | None, wave: bytes) -> bool:
        """Keep one evidence part; return True if it completed its candidate (now one row of
        evidence), False while parts are missing or if it was already stored."""
        key = (device_id, boot_id, cand)
        done = self.db.execute("SELECT 1 FROM evidence WHERE device_id = ? AND boot_id = ? "
                               "AND cand = ?", key).fetchone()
        if done:
            return False  # a replayed log sends whole candidates again
        self.db.execute("INSERT OR IGNORE INTO evidence_parts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        key + (part, seq, int(last), json.dumps(head) if head else None,
                               bytes(wave)))
        rows = self.db.execute("SELECT part, last, head, wave, seq FROM evidence_parts WHERE "
                               "device_id = ? AND boot_id = ? AND cand = ?", key).fetchall()
        if not any(r[1] for r in rows):
            return False
        parts = [(r[0], r[1], json.loads(r[2]) if r[2] else None, r[3]) for r in rows]
        row = ev.join(parts)
        if row is None:
            return False
        first_seq = min(r[4] for r in rows if r[0] == 0)
        names = ["device_id", "boot_id", "cand", "seq"] + [c[0] for c in ev.ROW_COLUMNS]
        values = list(key) + [first_seq] + [row[c[0]] for c in ev.ROW_COLUMNS]
        self.db.execute("INSERT OR IGNORE INTO evidence (%s) VALUES (%s)"
                        % (", ".join(names), ", ".join("?" * len(names))), values)
        self.db.execute("DELETE FROM evidence_parts WHERE device_id = ? AND boot_id = ? AND "
                        "cand = ?", key)
        return True

    def add_epoch(self, device_id: int, boot_id: int, t_ms: int, seq: int, time_ms: int,
                  samples: int, gx_mg: int, gy_mg: int, gz_mg: int, peak_rms_mg: int,
                  max_mg: int) -> bool:
        """Store one activity epoch; True if new."""
        cur = self.db.execute("INSERT OR IGNORE INTO epochs VALUES (%s)"
                              % ", ".join("?" * len(EPOCH_COLUMNS)),
                              (device_id, boot_id, t_ms, seq, time_ms, samples, gx_mg, gy_mg,
                               gz_mg, peak_rms_mg, max_mg))
        return cur.rowcount == 1

    def evidence(self, from_ms: int | None = None, to_ms: int | None = None,
                 device_id: int | None = None, boot_id: int | None = None,
                 wave: bool = True) -> list:
        """Candidates with time_ms in [from_ms, to_ms), by time, as dicts (the row's columns,
        with the boot's region), of one device or boot if given; wave=False leaves the
        waveform bytes out (a listing)."""
        where, params = [], []
        _time_range("x.time_ms", from_ms, to_ms, where, params)
        for column, value in (("device_id", device_id), ("boot_id", boot_id)):
            if value is not None:
                where.append("x.%s = ?" % column)
                params.append(value)
        cols = "x.*" if wave else ", ".join(
            "x." + c for c in ["device_id", "boot_id", "cand", "seq"] +
            [c[0] for c in ev.ROW_COLUMNS if c[0] != "wave"] +
            ["host_kept", "host_confidence", "host_reason", "judge"])
        sql = ("SELECT %s, b.region FROM evidence x LEFT JOIN boots b ON "
               "b.device_id = x.device_id AND b.boot_id = x.boot_id" % cols)
        if where:
            sql += " WHERE " + " AND ".join(where)
        return _dicts(self.db.execute(sql + " ORDER BY x.time_ms, x.device_id, x.cand",
                                      params))

    def evidence_boots(self, unjudged_by: str | None = None) -> list:
        """[(device_id, boot_id)] of the boots with evidence; with unjudged_by, only those
        holding a candidate that judgement has not judged (not judged yet, or by another)."""
        sql = "SELECT DISTINCT device_id, boot_id FROM evidence"
        params = ()
        if unjudged_by is not None:
            sql += " WHERE host_kept IS NULL OR judge IS NOT ?"
            params = (unjudged_by,)
        return [tuple(r) for r in self.db.execute(sql + " ORDER BY device_id, boot_id",
                                                  params)]

    def boot_extents(self) -> dict:
        """{(device_id, boot_id): (first, last Unix ms)} of the boots with evidence, over
        their evidence and epochs (an epoch's last ms: its start + 5 s): when each sensor was
        recording, for judging it with the others worn at the same time."""
        out = {}
        for sql in ("SELECT device_id, boot_id, MIN(time_ms), MAX(time_ms) FROM evidence "
                    "GROUP BY device_id, boot_id",
                    "SELECT device_id, boot_id, MIN(time_ms), MAX(time_ms) + 5000 FROM epochs "
                    "WHERE (device_id, boot_id) IN (SELECT DISTINCT device_id, boot_id FROM "
                    "evidence) GROUP BY device_id, boot_id"):
            for device, boot, lo, hi in self.db.execute(sql):
                a, b = out.get((device, boot), (lo, hi))
                out[(device, boot)] = (min(a, lo), max(b, hi))
        return out

    def evidence_wave(self, device_id: int, boot_id: int, cand: int) -> dict | None:
        """One candidate's row (waveform included), or None."""
        rows = _dicts(self.db.execute("SELECT * FROM evidence WHERE device_id = ? AND "
                                      "boot_id = ? AND cand = ?", (device_id, boot_id, cand)))
        return rows[0] if rows else None

    def count_evidence(self) -> tuple:
        """(candidates, of them judged by the host, parts still waiting for their others)."""
        n, judged = self.db.execute("SELECT COUNT(*), COUNT(host_kept) FROM evidence").fetchone()
        waiting = self.db.execute("SELECT COUNT(*) FROM evidence_parts").fetchone()[0]
        return n, judged, waiting

    def set_judgements(self, rows) -> None:
        """Store the host's judgements: rows of (host_kept 0/1, host_confidence, host_reason,
        judge, device_id, boot_id, cand)."""
        self.db.executemany("UPDATE evidence SET host_kept = ?, host_confidence = ?, "
                            "host_reason = ?, judge = ? WHERE device_id = ? AND boot_id = ? "
                            "AND cand = ?", rows)

    def evidence_for_event(self, device_id: int, boot_id: int, seq: int) -> dict | None:
        """The evidence row (waveform included) behind an event of JUDGED_EVENTS, or None:
        a board's event pairs with the kept candidate of the same peak time, a candidate the
        host added is its own evidence."""
        rows = _dicts(self.db.execute(
            "SELECT x.* FROM evidence x JOIN events e ON x.device_id = e.device_id AND "
            "x.boot_id = e.boot_id AND x.t_ms = e.t_ms AND x.verdict = 'kept' WHERE "
            "e.device_id = ? AND e.boot_id = ? AND e.seq = ? UNION ALL SELECT x.* FROM "
            "evidence x WHERE x.device_id = ? AND x.boot_id = ? AND x.seq = ? AND "
            "x.verdict != 'kept'", (device_id, boot_id, seq) * 2))
        return rows[0] if rows else None

    def add_review_mark(self, device_id: int, boot_id: int, seq: int, mark: str | None,
                        marked_ms: int) -> None:
        """Mark an event confirmed, rejected (not a jerk) or unsure; None clears its mark."""
        if mark is not None and mark not in REVIEW_MARKS:
            raise JerklogError("unknown review mark %r (one of %s)"
                               % (mark, ", ".join(REVIEW_MARKS)))
        self.db.execute("INSERT INTO review_marks (device_id, boot_id, seq, mark, marked_ms) "
                        "VALUES (?, ?, ?, ?, ?)", (device_id, boot_id, seq, mark, marked_ms))

    def undo_review_mark(self, device_id: int, boot_id: int, seq: int) -> bool:
        """Take back the newest mark of an event; False if it had none."""
        cur = self.db.execute("DELETE FROM review_marks WHERE id = (SELECT MAX(id) FROM "
                              "review_marks WHERE device_id = ? AND boot_id = ? AND seq = ?)",
                              (device_id, boot_id, seq))
        return cur.rowcount == 1

    def review_marks(self) -> dict:
        """{(device_id, boot_id, seq): mark} of every event whose newest mark is not cleared."""
        rows = self.db.execute(
            "SELECT device_id, boot_id, seq, mark FROM review_marks WHERE id IN (SELECT "
            "MAX(id) FROM review_marks GROUP BY device_id, boot_id, seq)").fetchall()
        return {(r[0], r[1], r[2]): r[3] for r in rows if r[3] is not None}

    EPOCH_COLUMNS = EPOCH_COLUMNS  # the order of epochs()' tuples, for readers of the store

    def epochs(self, from_ms: int | None = None, to_ms: int | None = None) -> list:
        """Epochs with time_ms in [from_ms, to_ms) as tuples in EPOCH_COLUMNS order, by
        device, boot and time."""
        where, params = [], []
        _time_range("time_ms", from_ms, to_ms, where, params)
        sql = "SELECT %s FROM epochs" % ", ".join(EPOCH_COLUMNS)
        if where:
            sql += " WHERE " + " AND ".join(where)
        return self.db.execute(sql + " ORDER BY device_id, boot_id, t_ms", params).fetchall()

    def set_board_log(self, device_id: int, host_ms: int, dropped: int, pending: int,
                      used_bytes: int, capacity_bytes: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO board_logs VALUES (?, ?, ?, ?, ?, ?)",
                        (device_id, host_ms, dropped, pending, used_bytes, capacity_bytes))

    def add_clock_correction(self, device_id: int, boot_id: int, host_ms: int, uptime_ms: int,
                             shift_ms: int) -> None:
        self.db.execute("INSERT INTO clock_corrections VALUES (?, ?, ?, ?, ?)",
                        (device_id, boot_id, host_ms, uptime_ms, shift_ms))

    def add_clock_anchor(self, device_id: int, boot_id: int, uptime_ms: int,
                         offset_ms: int) -> None:
        """One heartbeat's measured offset; the minute keeps its smallest."""
        self.db.execute(
            "INSERT INTO clock_anchors VALUES (?, ?, ?, ?, ?) ON CONFLICT (device_id, boot_id, "
            "minute) DO UPDATE SET uptime_ms = excluded.uptime_ms, offset_ms = "
            "excluded.offset_ms WHERE excluded.offset_ms < clock_anchors.offset_ms",
            (device_id, boot_id, uptime_ms // 60000, uptime_ms, offset_ms))

    def clock_anchors(self, device_id: int, boot_id: int) -> list:
        """[(uptime_ms, offset_ms)] of a boot, by uptime."""
        return self.db.execute("SELECT uptime_ms, offset_ms FROM clock_anchors WHERE "
                               "device_id = ? AND boot_id = ? ORDER BY uptime_ms",
                               (device_id, boot_id)).fetchall()

    def retime_boot(self, device_id: int, boot_id: int, to_utc) -> int:
        """Set time_ms of a boot's events, evidence and epochs to to_utc(t_ms array) (Unix
        ms); return how many rows moved."""
        import numpy as np
        moved = 0
        for table in ("events", "evidence", "epochs"):
            key = "seq" if table == "events" else ("cand" if table == "evidence" else "t_ms")
            rows = self.db.execute("SELECT %s, t_ms, time_ms FROM %s WHERE device_id = ? AND "
                                   "boot_id = ?" % (key, table), (device_id, boot_id)).fetchall()
            if not rows:
                continue
            arr = np.array(rows, dtype=np.int64)
            new = np.asarray(to_utc(arr[:, 1]), dtype=np.int64)
            change = new != arr[:, 2]
            self.db.executemany("UPDATE %s SET time_ms = ? WHERE device_id = ? AND boot_id = ? "
                                "AND %s = ?" % (table, key),
                                [(int(n), device_id, boot_id, int(k))
                                 for n, k in zip(new[change], arr[change, 0])])
            moved += int(change.sum())
        return moved

    def clock_corrections(self) -> list:
        return _dicts(self.db.execute("SELECT * FROM clock_corrections ORDER BY host_ms"))

    def board_logs(self) -> list:
        return _dicts(self.db.execute("SELECT * FROM board_logs ORDER BY device_id"))

    # -- writing: one transaction per batch; every failure is a StorageError -------------
    def begin(self, wait_s: float = 0.2) -> bool:
        """Start a write transaction that holds the store's write lock, so nothing written in
        it can fail for a lock. False if another process holds the lock for wait_s (try
        again later); a StorageError for anything else (read-only, damaged, I/O)."""
        if self.db.in_transaction:
            return True
        try:
            self.db.execute("PRAGMA busy_timeout=%d" % max(0, int(wait_s * 1000)))
            try:
                self.db.execute("BEGIN IMMEDIATE")
            finally:
                self.db.execute("PRAGMA busy_timeout=%d" % BUSY_TIMEOUT_MS)
        except sqlite3.Error as e:
            if _is_busy(e):
                return False
            raise StorageError(describe_failure(self.path, e))
        return True

    @contextlib.contextmanager
    def writing(self):
        """Statements (and file writes beside the store) in the block that fail roll the
        transaction back and raise a StorageError saying why."""
        try:
            yield self
        except (sqlite3.Error, OSError) as e:
            self.rollback()
            raise StorageError(describe_failure(self.path, e)) from e

    def commit(self) -> None:
        """Commit; on failure roll back and raise a StorageError (nothing was committed)."""
        try:
            self.db.commit()
        except (sqlite3.Error, OSError) as e:
            self.rollback()
            raise StorageError(describe_failure(self.path, e)) from e

    def rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.rollback()

    def has_events(self, keys) -> int | None:
        """How many of the events (device_id, boot_id, seq) are stored; None if the store
        cannot be read to tell (damaged)."""
        n = 0
        try:
            for key in keys:
                n += self.db.execute("SELECT COUNT(*) FROM events WHERE device_id = ? AND "
                                     "boot_id = ? AND seq = ?", key).fetchone()[0]
        except sqlite3.Error:
            return None
        return n

    def transaction(self):
        """`with store.transaction():` commits once at the end, rolls back on an error."""
        return self.db

    # -- queries ------------------------------------------------------------------------
    def events(self, from_ms: int | None = None, to_ms: int | None = None):
        """Events in [from_ms, to_ms) by time, as dicts with the boot's device fields: the
        host's judgement where it judged, else the board's (JUDGED_EVENTS)."""
        where, params = [], []
        _time_range("e.time_ms", from_ms, to_ms, where, params)
        sql = ("SELECT e.*, b.region, b.board, b.sensor FROM (%s) e LEFT JOIN boots b "
               "ON b.device_id = e.device_id AND b.boot_id = e.boot_id" % JUDGED_EVENTS)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY e.time_ms, e.device_id, e.seq"
        cur = self.db.execute(sql, params)
        names = [d[0] for d in cur.description]
        for row in cur:
            yield dict(zip(names, row))

    def boot_state(self, device_id: int, boot_id: int) -> tuple | None:
        """(region, has_gyro, epoch_ms, clock, last_seq) of a boot heard before, or None."""
        return self.db.execute(
            "SELECT region, has_gyro, epoch_ms, clock, last_seq FROM boots WHERE "
            "device_id = ? AND boot_id = ?", (device_id, boot_id)).fetchone()

    def events_per_device(self, from_ms: int) -> dict:
        """{device_id: events with time_ms >= from_ms}; a StorageError if it cannot be read."""
        try:
            return dict(self.db.execute("SELECT device_id, COUNT(*) FROM events WHERE "
                                        "time_ms >= ? GROUP BY device_id",
                                        (from_ms,)).fetchall())
        except sqlite3.Error as e:
            raise StorageError(describe_failure(self.path, e)) from e

    def event_rows(self, names: list, lo: int, hi: int) -> tuple:
        """Rows (tuples of the columns `names`) of the events the diary counts
        (JUDGED_EVENTS) with time_ms in [lo, hi), and whether they are in the store's order
        (time, device, seq). Most of the table: a plain scan without the time index, left
        unsorted (sorting in numpy is faster)."""
        where = "WHERE time_ms >= ? AND time_ms < ?"
        cols = ", ".join(names)
        if not self.db.execute("SELECT 1 FROM evidence LIMIT 1").fetchone():
            # No evidence anywhere (older boards): the board's events, as fast as before.
            total = self.db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
            inside = self.db.execute("SELECT COUNT(*) FROM events " + where,
                                     (lo, hi)).fetchone()[0]
            if inside > total * 0.3:
                cur = self.db.execute("SELECT %s FROM events NOT INDEXED %s" % (cols, where),
                                      (lo, hi))
                return cur.fetchall(), False
            cur = self.db.execute("SELECT %s FROM events %s ORDER BY time_ms, device_id, seq"
                                  % (cols, where), (lo, hi))
            return cur.fetchall(), True
        cur = self.db.execute("SELECT %s FROM (%s) %s" % (cols, JUDGED_EVENTS, where), (lo, hi))
        return cur.fetchall(), False

    def heartbeat_rows(self, step_ms: int, keep_ms: int) -> list:
        """Heartbeats (device_id, boot_id, seq, uptime_ms, samples, dropped, events, host_ms)
        whose uptime falls in the first keep_ms of every step_ms: a thinned series."""
        return self.db.execute(
            "SELECT device_id, boot_id, seq, uptime_ms, samples, dropped, events, host_ms "
            "FROM heartbeats WHERE uptime_ms %% %d < %d" % (int(step_ms), int(keep_ms))
        ).fetchall()

    def recorded_extent(self) -> tuple:
        """(first, last) Unix ms of what was recorded (events and boots' spans), or Nones."""
        rows = [
            self.db.execute("SELECT MIN(time_ms), MAX(time_ms) FROM events").fetchone(),
            self.db.execute("SELECT MIN(epoch_ms), MAX(epoch_ms + uptime_ms) FROM boots "
                            "WHERE epoch_ms IS NOT NULL").fetchone(),
        ]
        mins = [r[0] for r in rows if r[0] is not None]
        maxs = [r[1] for r in rows if r[1] is not None]
        return (int(min(mins)), int(max(maxs))) if mins else (None, None)

    def notes_extent(self, from_ms: int | None = None, to_ms: int | None = None) -> tuple:
        """(first, last) Unix ms of the notes in [from_ms, to_ms), or Nones."""
        where, params = [], []
        _time_range("time_ms", from_ms, to_ms, where, params)
        sql = "SELECT MIN(time_ms), MAX(time_ms) FROM notes"
        if where:
            sql += " WHERE " + " AND ".join(where)
        lo, hi = self.db.execute(sql, params).fetchone()
        return (None, None) if lo is None else (int(lo), int(hi))

    def boots(self) -> list:
        return _dicts(self.db.execute("SELECT * FROM boots ORDER BY first_seen_ms"))

    def count_events(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    def count_events_judged(self, boots=None) -> int:
        """The events the diary counts (JUDGED_EVENTS); of the (device_id, boot_id) pairs in
        boots only, if given."""
        if boots is None:
            return self.db.execute("SELECT COUNT(*) FROM (%s)" % JUDGED_EVENTS).fetchone()[0]
        sql = "SELECT COUNT(*) FROM (%s) WHERE device_id = ? AND boot_id = ?" % JUDGED_EVENTS
        return sum(self.db.execute(sql, (int(d), int(b))).fetchone()[0] for d, b in boots)

    def count_heartbeats(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM heartbeats").fetchone()[0]

    # -- notes (annotations) ------------------------------------------------------------
    NOTE_FIELDS = ("time_ms", "kind", "name", "dose", "text", "device_id")

    def add_note(self, time_ms: int, kind: str, name: str | None = None, dose: str | None = None,
                 text: str | None = None, device_id: int | None = None,
                 created_ms: int | None = None) -> int:
        """Store one note and commit; return its id. See notes.py for checked input."""
        import time
        created_ms = int(time.time() * 1000) if created_ms is None else created_ms
        with self.db:
            cur = self.db.execute(
                "INSERT INTO notes (time_ms, kind, name, dose, text, created_ms, device_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (time_ms, kind, name, dose, text, created_ms, device_id))
        return cur.lastrowid

    def notes(self, from_ms: int | None = None, to_ms: int | None = None,
              kind: str | None = None) -> list:
        """Notes with time_ms in [from_ms, to_ms) (and of kind), by time, as dicts."""
        where, params = [], []
        _time_range("time_ms", from_ms, to_ms, where, params)
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        sql = "SELECT * FROM notes"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return _dicts(self.db.execute(sql + " ORDER BY time_ms, id", params))

    def note(self, note_id: int) -> dict | None:
        """One note as a dict, or None."""
        cur = self.db.execute("SELECT * FROM notes WHERE id = ?", (note_id,))
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row)) if row else None

    def update_note(self, note_id: int, **fields) -> bool:
        """Set the given note fields (keys from NOTE_FIELDS; None clears a field) and
        commit; return True if the note exists."""
        bad = set(fields) - set(self.NOTE_FIELDS)
        if bad:
            raise ValueError("not note fields: %s" % ", ".join(sorted(bad)))
        with self.db:
            if fields:
                sets = ", ".join("%s = ?" % k for k in fields)
                cur = self.db.execute("UPDATE notes SET %s WHERE id = ?" % sets,
                                      tuple(fields.values()) + (note_id,))
            else:
                cur = self.db.execute("SELECT 1 FROM notes WHERE id = ?", (note_id,))
                return cur.fetchone() is not None
        return cur.rowcount == 1

    def delete_note(self, note_id: int) -> bool:
        """Delete a note and commit; return True if it existed."""
        with self.db:
            cur = self.db.execute("DELETE FROM notes WHERE id = ?", (note_id,))
        return cur.rowcount == 1
