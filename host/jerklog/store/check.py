"""Check a store without writing to it, and copy what is readable of a damaged one into a new
store (`jerklog store check`, `jerklog store recover`).

The store checked or recovered is opened read-only by URI (`mode=ro`, and `immutable=1` when
it has no -wal file, so SQLite creates no -wal or -shm beside it): its bytes never change.
"""
import os
import pathlib
import sqlite3

from jerklog import JerklogError
from jerklog.store.database import (
    SCHEMA_VERSION,
    Store,
    expected_columns,
    foreign_file,
    user_tables,
)

COUNTED = ("events", "boots", "notes", "heartbeats")
_LOWEST = -(2 ** 63)
_HIGHEST = 2 ** 63 - 1


def open_read_only(path: str) -> sqlite3.Connection:
    """A read-only connection to an existing store that writes and creates nothing."""
    if not os.path.exists(path):
        raise JerklogError("no jerklog store at %s" % path)
    if not os.path.isfile(path):
        raise JerklogError("%s is not a file" % path)
    uri = pathlib.Path(os.path.abspath(path)).as_uri() + "?mode=ro"
    wal = path + "-wal"
    if not (os.path.exists(wal) and os.path.getsize(wal)):
        uri += "&immutable=1"  # nothing in a -wal to read: no -shm needed either
    try:
        db = sqlite3.connect(uri, uri=True)
        version = db.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as e:
        if "not a database" in str(e):
            raise JerklogError("%s is not a jerklog store (%s)" % (path, e))
        raise JerklogError("cannot open the store %s: %s" % (path, e))
    try:
        refusal = foreign_file(path, db, version)
    except sqlite3.DatabaseError:
        refusal = None  # the schema itself is damaged: the checks say so
    if refusal:
        db.close()
        raise JerklogError(refusal)
    return db


def _count(db, table):
    try:
        return db.execute('SELECT COUNT(*) FROM "%s"' % table).fetchone()[0]
    except sqlite3.DatabaseError:
        return None


def check(path: str) -> tuple:
    """(findings, counts): one line per problem found (none: sound), and {table: rows, or
    None where it cannot be counted} for COUNTED."""
    db = open_read_only(path)
    findings = []
    try:
        try:
            rows = db.execute("PRAGMA integrity_check(100)").fetchall()
        except sqlite3.DatabaseError as e:
            rows = [(str(e),)]
        if rows != [("ok",)]:
            findings += ["integrity: " + part.strip() for r in rows
                         for part in str(r[0]).splitlines()
                         if part.strip() and not part.startswith("***")]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            findings.append("schema version %d, expected %d%s" % (
                version, SCHEMA_VERSION, " (written by a newer jerklog)"
                if version > SCHEMA_VERSION else " (not finished being created)"))
        try:
            tables = user_tables(db)
        except sqlite3.DatabaseError as e:
            tables = None
            findings.append("the schema cannot be read: %s" % e)
        if tables is not None:
            for table, columns in expected_columns().items():
                if table not in tables:
                    if table != "notes":  # older stores gain it at their next writer's open
                        findings.append("table %s is missing" % table)
                    continue
                missing = [c for c in columns if c not in tables[table]]
                if missing:
                    findings.append("table %s lacks columns %s" % (table, ", ".join(missing)))
        counts = {}
        for table in COUNTED:
            counts[table] = _count(db, table) if tables and table in tables else 0
            if counts[table] is None and tables is not None and table in tables:
                findings.append("table %s cannot be counted (unreadable pages)" % table)
    finally:
        db.close()
    return findings, counts


# -- recover -------------------------------------------------------------------------------
def _scan(db, table, cols, found):
    """Read rows of table by rowid into found {rowid: row}, skipping past unreadable stretches;
    return how many stretches were skipped."""
    sql = 'SELECT rowid, %s FROM "%s" WHERE rowid > ? ORDER BY rowid' % (cols, table)
    probe_sql = 'SELECT rowid FROM "%s" WHERE rowid > ? ORDER BY rowid LIMIT 1' % table
    start, skipped = _LOWEST, 0

    def readable_from(p):
        try:
            db.execute(probe_sql, (p,)).fetchone()
            return True
        except sqlite3.DatabaseError:
            return False

    while True:
        try:
            for row in db.execute(sql, (start,)):
                found[row[0]] = row[1:]
                start = row[0]
            return skipped
        except sqlite3.DatabaseError:
            pass
        skipped += 1
        step = 1
        while start + step < _HIGHEST and not readable_from(start + step):
            step *= 2
        if start + step >= _HIGHEST:
            return skipped
        lo, hi = start + step // 2, start + step  # lo fails (or is start), hi reads
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if readable_from(mid):
                hi = mid
            else:
                lo = mid
        start = hi


def _index_rowids(db, table):
    """Rowids listed by the table's indexes (read as far as they are readable)."""
    rowids = set()
    try:
        indexes = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = "
                                            "'index' AND tbl_name = ?", (table,))]
    except sqlite3.DatabaseError:
        return rowids
    for index in indexes:
        for order in ("", " DESC"):  # from both ends, in case the middle is unreadable
            try:
                info = [r[2] for r in db.execute('PRAGMA index_info("%s")' % index)]
                by = ", ".join('"%s"%s' % (c, order) for c in info if c)
                for (rowid,) in db.execute('SELECT rowid FROM "%s" INDEXED BY "%s" ORDER BY %s'
                                           % (table, index, by)):
                    rowids.add(rowid)
            except sqlite3.DatabaseError:
                pass
    return rowids


def read_table(db, table, columns):
    """(rows, lost, skipped) of one table: the readable rows (tuples of columns), the rows
    its indexes list that cannot be read, and the unreadable stretches skipped."""
    cols = ", ".join('"%s"' % c for c in columns)
    found = {}
    skipped = _scan(db, table, cols, found)
    lost = 0
    if skipped:
        one = 'SELECT %s FROM "%s" WHERE rowid = ?' % (cols, table)
        for rowid in sorted(_index_rowids(db, table) - set(found)):
            try:
                row = db.execute(one, (rowid,)).fetchone()
            except sqlite3.DatabaseError:
                lost += 1
                continue
            if row is not None:
                found[rowid] = row
    return [found[k] for k in sorted(found)], lost, skipped


def recover(path: str, out: str) -> list:
    """Copy every readable row of every jerklog table of the store at path into a new store
    at out (which must not exist); path is never written. Return per table
    (table, copied, lost, skipped) where lost are rows known to exist but unreadable and
    skipped the unreadable stretches of the table passed over."""
    if os.path.lexists(out):
        raise JerklogError("--out %s exists: recover writes a new store; give a path that "
                           "does not exist" % out)
    db = open_read_only(path)
    try:
        try:
            tables = user_tables(db)
        except sqlite3.DatabaseError as e:
            raise JerklogError("the schema of %s cannot be read (%s): nothing can be "
                               "recovered" % (path, e))
        read = []
        for table, columns in expected_columns().items():
            if table not in tables:
                continue
            present = [c for c in columns if c in tables[table]]
            rows, lost, skipped = read_table(db, table, present)
            read.append((table, present, rows, lost, skipped))
    finally:
        db.close()
    result = []
    try:
        with Store(out) as store:
            if not store.begin(wait_s=0):
                raise JerklogError("%s is being written by another process" % out)
            with store.writing():
                for table, present, rows, lost, skipped in read:
                    store.db.executemany('INSERT OR IGNORE INTO "%s" (%s) VALUES (%s)' % (
                        table, ", ".join('"%s"' % c for c in present),
                        ", ".join("?" * len(present))), rows)
                    result.append((table, len(rows), lost, skipped))
            store.commit()
    except BaseException:
        for tail in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(out + tail):
                os.unlink(out + tail)
        raise
    return result
