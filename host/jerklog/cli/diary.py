"""The diary commands of `jerklog`: export (csv, summary, edf), report and note."""
import os

from jerklog import JerklogError, StorageError
from jerklog.cli.common import birth_date_type, db_arg, number, open_store, store_path
from jerklog.files import refuse_overwrite
from jerklog_firmware.config import DEVICE_ID_MAX

NOTE_ID = number(1, 2 ** 63 - 1)  # what SQLite can hold


# -- shared time arguments -----------------------------------------------------------------
def _range_args(p, what="include"):
    p.add_argument("--from", dest="from_", metavar="ISO-TIME",
                   help="first time to %s: ISO 8601 date or date-time in 1985-2084 "
                   "(2026-11-20, 2026-11-20T22:30, 2026-11-20T22:30+01:00); local unless an "
                   "offset is given" % what)
    p.add_argument("--to", metavar="ISO-TIME",
                   help="end of the range (exclusive), ISO 8601 as --from")
    p.add_argument("--tz", metavar="ZONE",
                   help="IANA time zone (default: this computer's), or a travel plan "
                   "'Europe/Berlin,2026-07-01T08:00=America/New_York' (see docs/diary.md)")


def _range(args):
    from jerklog.localtime import Zones
    zones = Zones(args.tz)
    from_ms = zones.parse_time(args.from_, "--from") if args.from_ else None
    to_ms = zones.parse_time(args.to, "--to") if args.to else None
    if from_ms is not None and to_ms is not None and to_ms <= from_ms:
        raise JerklogError("--to must be after --from")
    return zones, from_ms, to_ms


# -- export (replaces cmd_export) ----------------------------------------------------------
def cmd_export(args):
    from jerklog.exports import diary_csv, edf
    refuse_overwrite(args.out, stores=[store_path(args)])
    zones, from_ms, to_ms = _range(args)
    with open_store(args, create=False) as store:
        if args.format == "csv":
            n = diary_csv.write_events_csv(store, args.out, from_ms, to_ms, zones)
            print("%d events written to %s" % (n, args.out))
        elif args.format == "summary":
            n = diary_csv.write_summary_csv(store, args.out, from_ms, to_ms, zones)
            print("%d rows (days x regions) written to %s" % (n, args.out))
        else:
            start = zones.parse_time(args.edf_start, "--edf-start") if args.edf_start \
                else None
            info = edf.write_edf(store, args.out, from_ms, to_ms, zones, start_ms=start,
                                 name=args.name, dob=args.dob)
            print("%d annotations written to %s (start %s %s%s)" % (
                info["annotations"], args.out, info["start_local"], info["utc_offset"],
                ", %d before the start skipped" % info["skipped"] if info["skipped"] else ""))
    return 0


# -- report --------------------------------------------------------------------------------
def _report_name(text):
    """argparse type for report --out: the extension chooses the format, so another one is a
    usage error (exit 2) before anything is read."""
    import argparse
    if os.path.splitext(text)[1].lower() not in (".pdf", ".html", ".htm"):
        raise argparse.ArgumentTypeError("%s: use a .pdf or .html name" % text)
    return text


def cmd_report(args):
    from jerklog.exports.report import write_report
    from jerklog.progress import Progress
    refuse_overwrite(args.out, stores=[store_path(args)])
    zones, from_ms, to_ms = _range(args)
    progress = Progress("report")
    with open_store(args, create=False) as store:
        info = write_report(store, args.out, from_ms, to_ms, tz=zones, name=args.name,
                            dob=args.dob, max_events=args.max_events,
                            progress=lambda text: progress.update(text + "..."))
    progress.clear()
    print("report written to %s (%s%s, %d events listed of %d)" % (
        args.out, info["format"].upper(),
        ", %d pages" % info["pages"] if info["format"] == "pdf" else "",
        info["events_listed"], info["events_total"]))
    return 0


# -- note ----------------------------------------------------------------------------------
NOTE_LOCK_WAIT_S = 60.0  # a recorder holds the lock for milliseconds; minutes mean a stuck one


def _write_lock(store, args):
    """Take the store's write lock before a note changes: a lock another process holds is
    waited for with a message (as record does), up to --lock-wait, then one line."""
    import sys
    import time
    if store.begin(wait_s=0.5):
        return
    print("note: store locked by another process, waiting (up to %.0f s)..." % args.lock_wait,
          file=sys.stderr, flush=True)
    t0 = time.monotonic()
    if not store.begin(wait_s=args.lock_wait):
        raise StorageError("the store %s is still locked by another process after %.0f s: "
                           "nothing was changed; try again when it is free (or a longer "
                           "--lock-wait)" % (store.path, time.monotonic() - t0))
    print("note: store unlocked after %.0f s" % (time.monotonic() - t0), file=sys.stderr,
          flush=True)


def _lock_wait_arg(q):
    q.add_argument("--lock-wait", type=number(0.0, 86400.0, float), default=NOTE_LOCK_WAIT_S,
                   metavar="SECONDS", help="wait this long for a store locked by another "
                   "process (default %.0f)" % NOTE_LOCK_WAIT_S)


def cmd_note_add(args):
    import time

    from jerklog.localtime import Zones
    from jerklog.store import notes
    zones = Zones(args.tz)
    when = zones.parse_time(args.time, "--time") if args.time else int(time.time() * 1000)
    notes.new_note(when, args.kind, name=args.name, dose=args.dose, text=args.text,
                   device_id=args.device)  # a wrong note creates no store
    with open_store(args, create=True) as store:  # notes may come before recordings
        _write_lock(store, args)
        nid = notes.add_note(store, when, args.kind, name=args.name, dose=args.dose,
                             text=args.text, device_id=args.device)
        # the line note list prints, which starts with the id: not 'note 1: 1 ...'
        print("note added: %s" % notes.format_notes([store.note(nid)],
                                                    zones.tz_at(when))[0].strip())
    return 0


def cmd_note_list(args):
    from jerklog.store import notes
    zones, from_ms, to_ms = _range(args)
    with open_store(args, create=False) as store:
        found = notes.list_notes(store, from_ms, to_ms, args.kind)
    tz = zones.tzs[0] if zones.single else None
    for line in notes.format_notes(found, tz):
        print(line)
    if not found:
        print("no notes")
    return 0


def cmd_note_edit(args):
    from jerklog.localtime import Zones
    from jerklog.store import notes
    zones = Zones(args.tz)
    with open_store(args, create=False) as store:
        when = zones.parse_time(args.time, "--time") if args.time else None
        _write_lock(store, args)
        n = notes.edit_note(store, args.id, when=when, kind=args.kind, name=args.name,
                            dose=args.dose, text=args.text, device_id=args.device)
        print("note changed: %s" % notes.format_notes([n], zones.tzs[0])[0].strip())
    return 0


def cmd_note_delete(args):
    from jerklog.store import notes
    with open_store(args, create=False) as store:
        _write_lock(store, args)
        n = notes.delete_note(store, args.id)
    print("deleted note %d (%s: %s)" % (n["id"], n["kind"], notes.describe(n)))
    return 0


def add_subcommands(sub):
    """The parsers; `export` replaces the existing one."""
    p = sub.add_parser("export", help="write the event diary, a daily summary or EDF+",
                       description="Export stored events: csv (one row per event, with "
                       "series, group, extent and when), summary (one row per local day and "
                       "body region) or edf (EDF+ annotations to lay over an EEG or sleep "
                       "study). Times are ISO 8601 local times with their UTC offset.")
    p.add_argument("--format", choices=["csv", "summary", "edf"], default="csv",
                   help="csv (default), summary or edf")
    p.add_argument("--out", required=True, metavar="FILE", help="file to write")
    _range_args(p)
    p.add_argument("--edf-start", metavar="ISO-TIME",
                   help="edf: count onsets from this time (the EEG's start), ISO 8601 as "
                   "--from; default --from, else the first event")
    p.add_argument("--name", help="edf: patient name for the header (omitted if not given)")
    p.add_argument("--dob", metavar="YYYY-MM-DD", type=birth_date_type,
                   help="edf: date of birth for the header, an ISO 8601 date such as "
                   "1980-12-31 (omitted if not given)")
    db_arg(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("report", help="write the doctor's report (PDF or HTML)",
                       description="One page that answers where, how often, in what pattern "
                       "and when the jerks happened, with plots and the event list behind it. "
                       "PDF or self-contained HTML by the file's extension. It is not a "
                       "diagnosis: a doctor interprets it.")
    p.add_argument("--out", required=True, metavar="FILE.pdf|FILE.html", type=_report_name,
                   help="file to write: .pdf or .html")
    _range_args(p)
    p.add_argument("--name", help="patient name (shown only if given)")
    p.add_argument("--dob", metavar="YYYY-MM-DD", type=birth_date_type,
                   help="date of birth, an ISO 8601 date such as 1980-12-31 (shown only if "
                   "given)")
    p.add_argument("--max-events", type=number(0, 10 ** 7), default=2000, metavar="N",
                   help="list at most N events (default 2000; all are in `export`)")
    db_arg(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("note", help="add, list, edit or delete notes (medication, triggers)",
                       description="Notes the diary and report use: medication changes and "
                       "doses (before/after rates), triggers the wearer noticed, and free "
                       "notes (alcohol, stress, caffeine, exercise).")
    nsub = p.add_subparsers(dest="note_command", metavar="ACTION", required=True)

    def note_fields(q, adding):
        q.add_argument("--time", metavar="ISO-TIME",
                       help="when, ISO 8601 in 1985-2084 (default: now)" if adding
                       else "new time, ISO 8601 in 1985-2084")
        q.add_argument("--kind", choices=["medication", "trigger", "note"],
                       default="note" if adding else None,
                       help="medication, trigger or note" + (" (default note)" if adding
                                                             else ""))
        q.add_argument("--name", help="medication: the drug's name")
        q.add_argument("--dose", help="medication: dose as written ('500 mg', 'stopped')")
        q.add_argument("--text", help="free text ('flashing lights', 'two coffees')")
        q.add_argument("--device", type=number(0, DEVICE_ID_MAX), metavar="ID",
                       help="the board the note is about, 0..%d (default: the wearer)"
                       % DEVICE_ID_MAX)
        q.add_argument("--tz", metavar="ZONE", help="zone for --time without offset")
        _lock_wait_arg(q)
        db_arg(q)

    q = nsub.add_parser("add", help="add a note")
    note_fields(q, True)
    q.set_defaults(func=cmd_note_add)
    q = nsub.add_parser("list", help="list notes")
    _range_args(q, "list")
    q.add_argument("--kind", choices=["medication", "trigger", "note"])
    db_arg(q)
    q.set_defaults(func=cmd_note_list)
    q = nsub.add_parser("edit", help="change a note (give only what changes; '' clears)")
    q.add_argument("id", type=NOTE_ID)
    note_fields(q, False)
    q.set_defaults(func=cmd_note_edit)
    q = nsub.add_parser("delete", help="delete a note")
    q.add_argument("id", type=NOTE_ID)
    _lock_wait_arg(q)
    db_arg(q)
    q.set_defaults(func=cmd_note_delete)
