"""The `jerklog` command: one entry point, a subcommand per job."""
import argparse
import os
import sys
import tempfile
import time

from . import JerklogError, __version__
from .paths import default_db_path

DESCRIPTION = """\
jerklog records sudden involuntary muscle jerks (myoclonus) measured by wearable IMU boards
and turns them into diaries for a doctor visit. It is not a diagnosis: a doctor interprets
what it shows."""


def _db_arg(p):
    p.add_argument("--db", metavar="PATH", default=None,
                   help="the SQLite store (default: $JERKLOG_DB, else %s)" % default_db_path())


def _open_store(args, create=True):
    """The store named by --db, $JERKLOG_DB or the default; create=False for commands that
    only read it, so a mistyped path is an error instead of an empty diary."""
    from .store import Store
    return Store(args.db or default_db_path(), create=create)


# -- simulate ----------------------------------------------------------------------------
def cmd_simulate(args):
    from . import rawfile
    from .recorder import PortRecorder
    from .sim import SimDevice
    from .timefmt import format_ms, parse_time
    from .progress import Progress

    start_ms = parse_time(args.start, what="--start") if args.start else int(time.time() * 1000)
    with tempfile.TemporaryDirectory(prefix="jerklog-sim-") as tmp:
        stream = os.path.join(tmp, "recording.jls")
        if args.raw:
            rate, _, samples = rawfile.csv_to_stream(args.raw, stream)
            source = args.raw
        else:
            from .scenario_io import generate_to_stream
            rate, samples, saved = generate_to_stream(args.scenario, args.minutes, args.rate,
                                                      args.seed, args.region, stream,
                                                      args.save_raw)
            source = "scenario %s (seed %d)" % (args.scenario, args.seed)
            if saved:
                print("raw recording: %s\nground truth: %s" % (saved["raw"], saved["truth"]))
        progress = Progress("simulate")
        minutes = samples / rate / 60.0
        progress.update("%s: %d samples at %d Hz (%.1f min)" % (source, samples, rate, minutes),
                        force=True)
        store = _open_store(args)
        with store, SimDevice(stream, region=args.region, device_id=args.device_id,
                              epoch_ms=start_ms, realtime=args.realtime) as device:
            def show(rec):
                st = rec.ingest
                progress.update("%d events stored, %d frames" % (st.new_events,
                                                                 rec.decoder.frames))

            rec = PortRecorder(device.port, store, until_goodbye=True, idle_timeout_s=60,
                               on_progress=show, alive=lambda: device.proc.poll() is None)
            try:
                rec.run()
            except JerklogError as e:
                detail = device.error_text()
                raise JerklogError("%s%s" % (e, ("\n" + detail) if detail else ""))
            ing = rec.ingest
            progress.done("%d new events (%d already stored) from %s, recorded into %s; "
                          "%d frames, %d rejected chunks, %d records missing"
                          % (ing.new_events, ing.duplicate_events, format_ms(start_ms),
                             store.path, rec.decoder.frames, rec.decoder.rejected,
                             ing.lost_records))
    return 0


# -- analyze -----------------------------------------------------------------------------
def cmd_analyze(args):
    from .analysis import write_events_csv
    from .progress import Progress
    progress = Progress("analyze")

    def show(samples, rate):
        progress.update("%.1f min of recording analysed" % (samples / rate / 60.0))

    n = write_events_csv(args.raw, args.out, region=args.region, progress=show)
    progress.done("%d events written to %s" % (n, args.out))
    return 0


# -- record ------------------------------------------------------------------------------
def cmd_record(args):
    from .progress import Progress
    from .recorder import PortRecorder
    progress = Progress("record " + args.port)

    def show(rec):
        boots = rec.ingest.boots.values()
        region = ", ".join(sorted({b.region or "unknown" for b in boots}))
        progress.update("%s: %d events stored; press Ctrl-C to stop"
                        % (region, rec.ingest.new_events))

    with _open_store(args) as store:
        rec = PortRecorder(args.port, store, on_progress=show)
        try:
            rec.run()
        except KeyboardInterrupt:
            pass
        progress.done("stopped; %d new events stored in %s" % (rec.ingest.new_events,
                                                               store.path))
    return 0


# -- bench -------------------------------------------------------------------------------
def cmd_bench(args):
    from . import bench
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    if args.what in ("detect", "all"):
        sets = ("tuning", "held-out") if args.seeds == "both" else (args.seeds,)
        bench.main(sets, log=log)
    if args.what in ("firmware", "all"):
        bench.firmware_cost(log=log)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="jerklog", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version="jerklog " + __version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("simulate", help="run the firmware on a simulated board and record it",
                       description="Run the real firmware under the micropython executable "
                       "with a simulated sensor behind a pseudo-terminal, and record its "
                       "events into the store exactly as from a real board. Replays a raw "
                       "recording (--raw) or a generated scenario (--scenario).")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--raw", metavar="RAW.csv",
                     help="replay a raw recording: columns t (s), ax, ay, az (g), optionally "
                     "gx, gy, gz (deg/s)")
    src.add_argument("--scenario", default="night",
                     help="generate a scenario with known jerks (default: night); see "
                     "--list-scenarios")
    p.add_argument("--minutes", type=float, default=None,
                   help="scenario length in minutes (default: the scenario's own)")
    p.add_argument("--seed", type=int, default=0, help="scenario random seed (default 0)")
    p.add_argument("--rate", type=int, default=100,
                   help="scenario sample rate in Hz, 50..1000 (default 100)")
    p.add_argument("--region", default="wrist",
                   help="body region the simulated sensor is worn on (default wrist)")
    p.add_argument("--device-id", type=int, default=1, help="simulated device id (default 1)")
    p.add_argument("--start", metavar="ISO-TIME",
                   help="wall-clock time of the first sample (default: now); without an "
                   "offset it is local time")
    p.add_argument("--save-raw", metavar="DIR",
                   help="keep the generated raw CSV, its ground truth and contexts in DIR")
    p.add_argument("--realtime", action="store_true",
                   help="play at the recording's own pace instead of as fast as possible")
    _db_arg(p)
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("analyze", help="detect events in a raw recording on this computer",
                       description="Run the firmware's detector over a raw recording CSV "
                       "(no board, no serial) and write one row per event. Column t is the "
                       "event's peak time on the recording's clock, in seconds.")
    p.add_argument("raw", metavar="RAW.csv", help="raw recording: t (s), ax, ay, az (g), "
                   "optionally gx, gy, gz (deg/s)")
    p.add_argument("--out", required=True, metavar="EVENTS.csv", help="events CSV to write")
    p.add_argument("--region", help="body region, added as a column")
    p.set_defaults(func=cmd_analyze)

    from .cli_diary import add_subcommands
    add_subcommands(sub)  # export, report, note

    p = sub.add_parser("record", help="record events from a board on a serial port",
                       description="Read frames from a board's USB serial port and store "
                       "every event until Ctrl-C.")
    p.add_argument("port", help="serial port, e.g. /dev/ttyACM0 or COM3")
    _db_arg(p)
    p.set_defaults(func=cmd_record)

    p = sub.add_parser("bench", help="print the benchmark figures (docs/benchmarks.md)",
                       description="detect: the detector against generated ground truth "
                       "(tuning and held-out seeds) and the real recordings in "
                       "shared/data/real (or $JERKLOG_REAL_DATA). firmware: microseconds and "
                       "bytes allocated per sample of the firmware's hot path under "
                       "micropython -X heapsize=192k, with estimated CPU share per board.")
    p.add_argument("what", choices=["detect", "firmware", "all"], nargs="?", default="all")
    p.add_argument("--seeds", choices=["tuning", "held-out", "both"], default="both",
                   help="which scenario seed set to run (default both)")
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv=None):
    os.umask(0o077)  # everything jerklog writes is health data: the user's alone
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except JerklogError as e:
        print("jerklog: error: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("jerklog: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
