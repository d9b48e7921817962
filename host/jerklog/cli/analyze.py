"""`jerklog analyze`: the board's detector over a raw recording, on this computer."""
import os

from jerklog import JerklogError
from jerklog.cli.common import region_type


def units_arg(p):
    """--units: a recording's acceleration in g (the contract) or m/s^2 (converted)."""
    from jerklog.recordings.rawfile import UNITS
    p.add_argument("--units", choices=UNITS, default="g",
                   help="unit of the ax, ay, az columns: g (default) or m/s2 (divided by "
                   "9.80665 as read); a file whose gravity reads 9.8 is refused without it")


# -- analyze -----------------------------------------------------------------------------
def cmd_analyze(args):
    from jerklog.files import refuse_overwrite
    from jerklog.judge.analyze import write_judged_csv
    from jerklog.progress import Progress
    refuse_overwrite(args.out, inputs=[args.raw])
    directory = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(directory):  # say so before the work, not after it
        raise JerklogError("cannot write %s: directory %s does not exist" % (args.out, directory))
    progress = Progress("analyze")
    minutes = [0.0]  # of recording read so far; the final line says the whole

    def show(samples, rate):
        minutes[0] = samples / rate / 60.0
        progress.update("%.1f min of recording analysed" % minutes[0])

    n = write_judged_csv(args.raw, args.out, region=args.region, progress=show,
                         board_only=args.board_only, units=args.units)
    progress.done("%d events in %.1f min of recording written to %s" % (n, minutes[0], args.out))
    return 0


def add_subcommands(sub):
    """Add `analyze` to the subparsers."""
    p = sub.add_parser("analyze", help="detect events in a raw recording on this computer",
                       description="Run the firmware's detector over a raw recording CSV "
                       "(no board, no serial) as a board would, judge every candidate as the "
                       "host judges a recorded board's evidence, and write one row per event. "
                       "Column t is the event's peak time on the recording's clock, in "
                       "seconds.")
    p.add_argument("raw", metavar="RAW.csv", help="raw recording: t (s), ax, ay, az (g), "
                   "optionally gx, gy, gz (deg/s)")
    p.add_argument("--out", required=True, metavar="EVENTS.csv", help="events CSV to write")
    p.add_argument("--region", type=region_type,
                   help="body region, added as a column (a board's region name; 'left arm' "
                   "is read as left_wrist)")
    units_arg(p)
    p.add_argument("--board-only", action="store_true",
                   help="the board's own decisions, without the host's judgement")
    p.set_defaults(func=cmd_analyze)
