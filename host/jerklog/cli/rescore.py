"""`jerklog rescore`: judge the stored evidence again (after the host's judgement changed),
without a new recording."""
import os

from jerklog import JerklogError
from jerklog.cli.common import db_arg, number, open_store, store_path


def cmd_rescore(args):
    from jerklog.boards.clock import retime_boots
    from jerklog.judge.model import judgement_name
    from jerklog.judge.pipeline import judge_store
    from jerklog.progress import Progress
    progress = Progress("rescore")
    if not os.path.exists(store_path(args)):  # a mistyped --db is not a new, empty store
        raise JerklogError("no jerklog store at %s (record or simulate first, or give --db)"
                           % store_path(args))
    with open_store(args) as store:
        with store.writing():
            if not store.begin(wait_s=args.lock_wait):
                raise JerklogError("another jerklog holds the store %s (waited %g s): try "
                                   "again when it is done" % (store.path, args.lock_wait))
            before = store.count_events_judged()
            moved = 0 if args.pending else retime_boots(store)
            judged, kept = judge_store(
                store, pending_only=args.pending,
                progress=lambda i, n: progress.update("%d of %d boots judged" % (i, n)))
            store.commit()
            after = store.count_events_judged()
    if not judged:
        progress.done("nothing to judge in %s: %s" % (
            store.path, "every candidate is judged by %s" % judgement_name() if args.pending
            else "it holds no evidence (boards before evidence, or none sent yet)"))
        return 0
    progress.done("%d candidates judged by %s: %d are jerks; the diary counts %d events (was "
                  "%d)%s" % (judged, judgement_name(), kept, after, before,
                             "; %d records placed again by the measured clock" % moved
                             if moved else ""))
    return 0


def add_subcommands(sub):
    p = sub.add_parser("rescore", help="judge the stored evidence again",
                       description="Judge every candidate the boards sent (their evidence) "
                       "with this version's host judgement, as record and simulate do for "
                       "new evidence, and place every measured boot's records by the clock "
                       "measured before and after them. Idempotent: running it twice changes "
                       "nothing. The board's own decision stays stored beside it.")
    db_arg(p)
    p.add_argument("--pending", action="store_true",
                   help="only candidates not judged yet (or judged by another version)")
    p.add_argument("--lock-wait", type=number(0, 86400, float), default=30.0, metavar="S",
                   help="seconds to wait for another jerklog writing the store (default 30)")
    p.set_defaults(func=cmd_rescore)
