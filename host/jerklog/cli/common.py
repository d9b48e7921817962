"""What several commands share: the store option, opening the store it names, and reading a
body region the way a board's config names it."""
import argparse
import datetime as dt

from jerklog import JerklogError, regions
from jerklog.files import default_db_path


def region_type(text):
    """argparse type for --region: free text ('left arm') -> the board's name ('left_wrist')."""
    try:
        return regions.parse(text)
    except JerklogError as e:
        raise argparse.ArgumentTypeError(str(e))


def number(lo, hi, kind=int):
    """argparse type: an int (or float) in lo..hi, checked where it is typed; anything else
    (words, nan, a number past what the store or a board can hold) is a usage error."""
    def parse(text):
        try:
            value = kind(text)
        except (ValueError, OverflowError):
            value = None
        if value is None or not lo <= value <= hi:  # nan fails both comparisons
            raise argparse.ArgumentTypeError("%r is not %s in %s..%s" % (
                text, "a whole number" if kind is int else "a number", lo, hi))
        return value
    parse.__name__ = "number"
    return parse


def db_arg(p):
    """Add --db to a subcommand's parser."""
    p.add_argument("--db", metavar="PATH", default=None,
                   help="the SQLite store (default: $JERKLOG_DB, else %s)" % default_db_path())


def store_path(args):
    """The store's path: --db, else $JERKLOG_DB, else the default."""
    return getattr(args, "db", None) or default_db_path()


def open_store(args, create=True):
    """The store named by --db, $JERKLOG_DB or the default; create=False for commands that
    only read it, so a mistyped path is an error instead of an empty diary."""
    from jerklog.store import Store
    from jerklog.store.database import BUSY_TIMEOUT_MS
    path = store_path(args)
    try:
        return Store(path, create=create)
    except JerklogError as e:
        if "database is locked" not in str(e):  # SQLite's words for another process's lock
            raise
        raise type(e)("the store %s is locked by another process (waited %.0f s): close "
                      "what holds it (a database browser, a stuck jerklog) and try again"
                      % (path, BUSY_TIMEOUT_MS / 1000)) from None


def birth_date_type(text):
    """argparse type for --dob: an ISO 8601 date (1980-12-31), not before 1900 nor after today."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a date written YYYY-MM-DD (ISO 8601), "
                                         "e.g. 1980-12-31" % text) from None
    if not dt.date(1900, 1, 1) <= day <= dt.date.today():
        raise argparse.ArgumentTypeError("date of birth %s is not between 1900 and today" % day)
    return day
