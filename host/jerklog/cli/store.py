"""The store commands of `jerklog`: check a store without writing to it, and recover what is
readable of a damaged one into a new store."""
import os

from jerklog import JerklogError
from jerklog.cli.common import db_arg, store_path
from jerklog.files import refuse_overwrite


def cmd_store_check(args):
    from jerklog.store.check import check
    path = store_path(args)
    findings, counts = check(path)
    for line in findings:
        print("%s: %s" % (path, line))
    print("%s is %s: %s" % (path, "damaged (%d finding%s)" % (
        len(findings), "" if len(findings) == 1 else "s") if findings else "sound",
        ", ".join("%s %s" % ("?" if n is None else n, table) for table, n in counts.items())))
    return 1 if findings else 0


def cmd_store_recover(args):
    from jerklog.store.check import recover
    path = store_path(args)
    refuse_overwrite(args.out, stores=[path])
    directory = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(directory):  # as every other --out: a typo makes no folders
        raise JerklogError("cannot write %s: directory %s does not exist" % (args.out, directory))
    result = recover(path, args.out)
    lost_any = False
    for table, copied, lost, skipped in result:
        lost_any = lost_any or bool(lost or skipped)
        print("%s: %d rows copied%s" % (table, copied, "" if not (lost or skipped) else
                                        ", %d rows unreadable, %d unreadable stretches "
                                        "skipped (rows there are lost)" % (lost, skipped)))
    print("%s written from %s (left unchanged)%s" % (
        args.out, path, ": some rows were lost" if lost_any else ": every row copied"))
    return 1 if lost_any else 0


def add_subcommands(sub):
    p = sub.add_parser("store", help="check a store, or recover a damaged one into a new file",
                       description="Check a store without writing to it, or copy what is "
                       "readable of a damaged store into a new one (the damaged file is never "
                       "changed).")
    ssub = p.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    q = ssub.add_parser("check", help="check the store's pages and schema (read-only); exit 1 "
                        "if damaged")
    db_arg(q)
    q.set_defaults(func=cmd_store_check)
    q = ssub.add_parser("recover", help="copy every readable row into a new store; exit 1 if "
                        "rows were lost")
    db_arg(q)
    q.add_argument("--out", metavar="NEW", required=True,
                   help="the new store to write (must not exist)")
    q.set_defaults(func=cmd_store_recover)
