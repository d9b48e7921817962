"""`jerklog import`: loggers' files (.cwa, .gt3x, GENEActiv .bin, raw CSV) into the store as
device recordings; a folder uses every core, one line per file and a summary."""
import os

from jerklog import JerklogError
from jerklog.cli.common import db_arg, number, region_type, store_path


def _describe(r):
    """One line for one imported file."""
    c = r["checks"]
    quality = ["%d bad blocks" % c["bad_blocks"]] if "bad_blocks" in c else []
    for key, what in (("sequence_gaps", "sequence gaps"), ("time_jumps", "clock jumps"),
                      ("gaps", "gaps")):
        if c.get(key):
            quality.append("%d %s" % (c[key], what))
    if r["dropped"]:
        quality.append("%d samples lost" % r["dropped"])
    speed = r["seconds"] / r["wall_s"] if r["wall_s"] > 0 else 0.0
    cost = ""
    if r.get("board_cpu_s") and r["samples"]:
        cost = " (board loop %.2f us a sample)" % (r["board_cpu_s"] / r["samples"] * 1e6)
    return ("%s: %s %s, %s at %d Hz, %d %s (%d new, %d already stored)%s; %.0fx real "
            "time%s" % (r["path"], r["model"], r["serial"] or "-", _span(r["seconds"]),
                        r["rate_hz"], r["events"], "event" if r["events"] == 1 else "events",
                        r["new_events"], r["duplicate_events"],
                        "; " + ", ".join(quality) if quality else "", speed, cost))


def _span(seconds):
    if seconds >= 2 * 86400:
        return "%.1f days" % (seconds / 86400)
    if seconds >= 2 * 3600:
        return "%.1f h" % (seconds / 3600)
    return "%.0f s" % seconds if seconds < 120 else "%.1f min" % (seconds / 60)


def _left(seconds):
    if seconds >= 120:
        return "%d min %02d s" % (seconds // 60, seconds % 60)
    return "%d s" % seconds


def _options(args):
    from jerklog.localtime import parse_time, zone
    tz = zone(args.tz) if args.tz else None
    start = parse_time(args.start, tz, what="--start") if args.start else None
    return dict(region=args.region, device=args.device, zone=tz, start_ms=start,
                units=args.units)


def _one(path, db, opts, progress=None):
    """Import one file into the store at db (a worker opens its own connection)."""
    from jerklog.sim.importer import import_file
    from jerklog.store import Store
    with Store(db) as store:
        return import_file(path, store, progress=progress, **opts)


def _worker(path, db, args_opts):
    """A pool task: (path, result dict or None, error text or None); never raises."""
    from jerklog.localtime import zone
    opts = dict(args_opts, zone=zone(args_opts["zone"]) if args_opts["zone"] else None)
    try:
        return path, dict(_one(path, db, opts)), None
    except JerklogError as e:
        return path, None, str(e)
    except Exception as e:  # one bad file must not stop the others
        return path, None, "%s: %s: %s" % (path, type(e).__name__, e)


def cmd_import(args):
    import time

    from jerklog.progress import Progress
    db = store_path(args)
    progress = Progress("import")
    opts = _options(args)
    if not os.path.isdir(args.path):
        from jerklog.files import refuse_overwrite
        refuse_overwrite(db, inputs=[args.path], what="--db")
        t0 = time.monotonic()

        def show(done, total, r):
            if not done:
                return
            elapsed = time.monotonic() - t0
            pct = min(100.0, 100.0 * done / total) if total else 0.0
            left = elapsed * max(total - done, 0) / done
            progress.update("%s %.0f%% (%s of recording, %d events), %s left" % (
                os.path.basename(args.path), pct, _span(done / r["rate_hz"]), r["events"],
                _left(left)))

        existed = os.path.exists(db)
        try:
            r = _one(args.path, db, opts, show)
        except BaseException:
            if not existed:  # a failed first import leaves no empty store behind
                for suffix in ("", "-wal", "-shm"):
                    try:
                        os.remove(db + suffix)
                    except OSError:
                        pass
            raise
        progress.done(_describe(r) + _judge(db, [(r["device_id"], r["boot_id"])]))
        return 0
    return _import_folder(args, db, opts, progress)


def _judge(db, boots):
    """The host's judgement of the new candidates, as after a board's night (record.py)."""
    from jerklog.cli.record import judge_recorded
    from jerklog.store import Store
    with Store(db) as store:
        try:
            return judge_recorded(store, [], boots)
        except (JerklogError, ValueError, OSError) as e:
            # the import is stored whatever happens here: rescore judges later
            return "; candidates not judged (%s): run jerklog rescore" % e


def _import_folder(args, db, opts, progress):
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from jerklog.recordings.formats import files_in
    paths = files_in(args.path)
    if not paths:
        raise JerklogError("%s holds no file import reads (.cwa, .gt3x, .bin, .csv)"
                           % args.path)
    jobs = args.jobs or os.cpu_count() or 1
    from jerklog.store import Store
    Store(db).close()  # create it once, before the workers race to
    wire = dict(opts, zone=args.tz)  # a tzinfo is rebuilt in the worker from its name
    ok = failed = events = new = 0
    seconds = 0.0
    boots = []
    with ProcessPoolExecutor(max_workers=min(jobs, len(paths))) as pool:
        futures = [pool.submit(_worker, p, db, wire) for p in paths]
        for k, fut in enumerate(as_completed(futures), 1):
            path, r, error = fut.result()
            if error:
                failed += 1
                progress.done("[%d/%d] error: %s" % (k, len(paths), error))
                continue
            ok += 1
            boots.append((r["device_id"], r["boot_id"]))
            events += r["events"]
            new += r["new_events"]
            seconds += r["seconds"]
            progress.done("[%d/%d] %s" % (k, len(paths), _describe(r)))
    # judged once all are in: a boot is judged whole (its neighbouring candidates count)
    progress.done("%d files: %d imported, %d failed; %s of recording, %d events (%d new) "
                  "into %s%s" % (len(paths), ok, failed, _span(seconds), events, new, db,
                                 _judge(db, boots) if ok else ""))
    return 1 if failed else 0


def add_subcommands(sub):
    """Add `import` to the subparsers."""
    p = sub.add_parser(
        "import", help="a logger's file (.cwa, .gt3x, .bin, .csv) into the store",
        description="Read an Axivity .cwa (AX3, AX6), ActiGraph .gt3x, GENEActiv .bin or raw "
        "recording CSV, run the board's own firmware over it (MicroPython unix port) and "
        "store what it finds as that logger's device recording, on the logger's clock; "
        "export and report then work on it as on a board's night. Importing a file again "
        "stores nothing new. A folder: every file in it, on every core.")
    p.add_argument("path", metavar="FILE|DIR", help="a logger's file, or a folder of them")
    p.add_argument("--region", type=region_type, required=True,
                   help="body region the logger was worn on (a board's region name; 'left "
                   "arm' is read as left_wrist)")
    p.add_argument("--device", metavar="NAME",
                   help="name of the device in the store (default: the logger's model and "
                   "serial number from the file)")
    p.add_argument("--tz", metavar="ZONE",
                   help="IANA time zone the logger's clock was set in, for files that do not "
                   "state their UTC offset (.cwa, raw CSV); default this computer's")
    p.add_argument("--start", metavar="ISO-TIME",
                   help="time of the first sample, ISO 8601 (2026-11-20T22:30:00, with or "
                   "without an offset; required for a raw CSV, which has no clock; overrides "
                   "the file's)")
    from jerklog.cli.analyze import units_arg
    units_arg(p)  # a raw CSV's; the loggers' formats say their own
    p.add_argument("--jobs", type=number(0, 256), default=0, metavar="N",
                   help="files imported at once from a folder (default: every core)")
    db_arg(p)
    p.set_defaults(func=cmd_import)
