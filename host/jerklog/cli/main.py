"""The `jerklog` command: one entry point, a subcommand per job."""
import argparse
import os
import sys

from jerklog import JerklogError, __version__

DESCRIPTION = """\
jerklog records sudden involuntary muscle jerks (myoclonus) measured by wearable IMU boards
and turns them into diaries for a doctor visit. It is not a diagnosis: a doctor interprets
what it shows."""


def build_parser():
    """The whole command line: one subcommand per job, in the order --help lists them."""
    from jerklog.cli import analyze, bench, board, diary, importing, record, rescore, review, store
    parser = argparse.ArgumentParser(prog="jerklog", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version="jerklog " + __version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    record.add_subcommands(sub, "simulate")
    analyze.add_subcommands(sub)
    importing.add_subcommands(sub)  # import: loggers' files into the store
    diary.add_subcommands(sub)   # export, report, note
    board.add_subcommands(sub)   # devices, deploy, config
    record.add_subcommands(sub, "record")
    review.add_subcommands(sub)  # the review page: marks on events
    store.add_subcommands(sub)   # store check, store recover
    rescore.add_subcommands(sub)
    bench.add_subcommands(sub)
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
