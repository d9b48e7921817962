"""`jerklog bench`: the benchmark figures of docs/benchmarks.md."""
import sys

from jerklog.cli.common import number


def cmd_bench(args):
    from jerklog.bench import detect, firmware, load
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    if args.what in ("detect", "all"):
        sets = ("tuning", "held-out") if args.seeds == "both" else (args.seeds,)
        detect.main(sets, log=log, body_only=args.part == "body")
    if args.what in ("firmware", "all"):
        firmware.firmware_cost(log=log)
    if args.what == "import":
        from jerklog.bench import import_speed
        return import_speed.main(["--days", repr(args.days)]) or 0
    if args.what == "train-judge":
        from jerklog.bench.judge_training import train
        train(path=args.out or None, log=log)
    if args.what == "load":
        load.load(devices=args.devices, rate_hz=args.rate, seconds=60 * args.minutes,
                  log=print)
    return 0


def add_subcommands(sub):
    """Add `bench` to the subparsers."""
    p = sub.add_parser("bench", help="print the benchmark figures (docs/benchmarks.md)",
                       description="detect: the detector against generated ground truth "
                       "(tuning and held-out seeds) and the real recordings in "
                       "shared/data/real (or $JERKLOG_REAL_DATA). firmware: microseconds and "
                       "bytes allocated per sample of the firmware's hot path under "
                       "micropython -X heapsize=192k, with estimated CPU share per board.")
    p.add_argument("what", choices=["detect", "firmware", "load", "import", "train-judge",
                                    "all"],
                   nargs="?", default="all", help="load (not part of all: it runs in real "
                   "time): --devices boards at --rate Hz streaming raw samples for --minutes; "
                   "import (not part of all): jerklog import of a --days long .cwa, x real "
                   "time and peak memory; train-judge (not part of all): fit the host's "
                   "judgement on both generators' tuning seeds and write its weights")
    p.add_argument("--days", type=number(0.01, 31, float), default=1.0,
                   help="import: length of the generated .cwa (default 1 day)")
    p.add_argument("--out", metavar="WEIGHTS.json", help="train-judge: where to write the "
                   "weights (default: the package's judge/weights.json; the several-sensor "
                   "term goes beside it, as WEIGHTS_cross.json)")
    p.add_argument("--devices", type=number(1, 16), default=4,
                   help="load: boards, 1..16 (default 4)")
    p.add_argument("--rate", type=number(25, 4000), default=833,
                   help="load: sample rate in Hz, 25..4000 (default 833)")
    p.add_argument("--minutes", type=number(0.05, 1440.0, float), default=10,
                   help="load: length in minutes, 0.05..1440 (default 10)")
    p.add_argument("--seeds", choices=["tuning", "held-out", "both"], default="both",
                   help="which scenario seed set to run (default both)")
    p.add_argument("--part", choices=["all", "body"], default="all",
                   help="detect: everything (default), or only the sessions of several "
                   "sensors worn at once (bench/body.py)")
    p.set_defaults(func=cmd_bench)
