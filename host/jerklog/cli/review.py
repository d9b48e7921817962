"""`jerklog review`: the review page on this computer, until its tab is closed or Ctrl-C."""
from jerklog import JerklogError
from jerklog.cli.common import db_arg, number, open_store
from jerklog.cli.diary import _range, _range_args


def cmd_review(args):
    from jerklog.exports.review import ReviewServer
    zones, from_ms, to_ms = _range(args)
    with open_store(args, create=False) as store:
        try:
            server = ReviewServer(store, from_ms, to_ms, zones, port=args.port)
        except OSError as e:  # the port is taken, or not ours to bind
            raise JerklogError("cannot serve on 127.0.0.1:%d: %s" % (args.port,
                                                                     e.strerror or e))
        n = server.review.counts()["total"]
        if not n:  # a page with nothing on it would wait, unopened, for ever
            server.httpd.server_close()
            print("review: no events to review in %s%s" % (
                store.path, " in the range given" if args.from_ or args.to else ""))
            return 0
        print("review: %d events; open %s in a browser on this computer (Ctrl-C stops)"
              % (n, server.url), flush=True)
        out = server.serve()
    c = out["counts"]
    print("review stopped (%s): %d marks given; %d confirmed, %d not a jerk, %d unsure, %d "
          "not yet reviewed, all stored" % (out["stopped"], out["marks"], c["confirmed"],
                                             c["rejected"], c["unsure"], c["unmarked"]))
    return 0


def add_subcommands(sub):
    p = sub.add_parser("review", help="see each event's waveform and mark it (a local web page)",
                       description="Serve a page on this computer (127.0.0.1 only, behind a "
                       "random address it prints) that lists the events with their waveforms; "
                       "mark each confirmed (c), not a jerk (r) or unsure (u), undo with z, "
                       "next and previous with j/k or the arrow keys. Marks are stored at once "
                       "and appear in the CSV diary and the report. Stops when the page is "
                       "closed, or on Ctrl-C.")
    _range_args(p, "list")
    p.add_argument("--port", type=number(0, 65535), default=0, metavar="N",
                   help="port on 127.0.0.1 (default: any free one)")
    db_arg(p)
    p.set_defaults(func=cmd_review)
