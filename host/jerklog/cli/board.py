"""The board commands of `jerklog`: devices, deploy and config."""
import sys

from jerklog.boards import deploy
from jerklog.boards.deploy import HELLO_TIMEOUT_S, SETTABLE_KEYS, config, hardware
from jerklog.cli.common import number


def cmd_devices(args):
    found = deploy.list_devices(args.timeout)
    if not found:
        print("no board found by USB id (see hardware/README.md)")
    for port, usb_name, status in found:
        print("%s  %s  %s" % (port, usb_name, status))
    return 0


def _named_port(port):
    """A port given on the command line that cannot be a board is refused before mpremote
    runs (it would fail with a page of its own)."""
    if port:
        from jerklog.boards.port import check_port
        check_port(port)
    return port


def cmd_deploy(args):
    _named_port(args.port)
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    _, rec = deploy.deploy(args.board, args.region, args.port, name=args.name, rate_hz=args.rate,
                    say=say)
    print("deployed: %s" % deploy.describe_hello(rec))
    return 0


def split_port(words):
    """(KEY=VALUE items, port or None): a last word without "=" is the port."""
    if words and "=" not in words[-1]:
        return words[:-1], words[-1]
    return list(words), None


def cmd_config_set(args):
    items, port = split_port(args.items)
    if not items:  # 'config set rate' is a missing '=', not a port named rate
        print("jerklog config set: error: give KEY=VALUE (keys %s); %r has no '='"
              % (", ".join(sorted(SETTABLE_KEYS)), args.items[-1]), file=sys.stderr)
        return 2
    _named_port(port)
    _, rec = deploy.config_set(items, port)
    print("set; the board reports: %s" % deploy.describe_hello(rec))
    return 0


def cmd_config_show(args):
    cfg = deploy.config_show(_named_port(args.port))
    for key in sorted(cfg):
        print("%s = %s" % (key, cfg[key]))
    return 0


def add_subcommands(sub):
    """Add devices, deploy and config to the `jerklog` subparsers."""
    p = sub.add_parser("devices", help="list connected boards and what firmware they run",
                       description="List the boards found by USB id and, for each one that "
                       "answers a hello, its device id, board, firmware version and region.")
    p.add_argument("--timeout", type=number(0.0, 600.0, float), default=HELLO_TIMEOUT_S,
                   metavar="S", help="seconds to wait for each board's hello, 0..600 "
                   "(default %g)" % HELLO_TIMEOUT_S)
    p.set_defaults(func=cmd_devices)

    p = sub.add_parser("deploy", help="copy the firmware and its config to a board",
                       description="Stop the board's program, copy the firmware and "
                       "/config.json with mpremote, reset the board and check that it answers "
                       "a hello. Stop `jerklog record` on that board first. See docs/deploy.md.")
    p.add_argument("port", nargs="?", metavar="PORT",
                   help="serial port (default: the one board found by USB id)")
    p.add_argument("--board", required=True, choices=sorted(hardware.BOARDS), metavar="NAME",
                   help="board name: %s" % ", ".join(sorted(hardware.BOARDS)))
    p.add_argument("--region", required=True, choices=config.REGIONS, metavar="REGION",
                   help="body region the board is worn on: %s" % ", ".join(config.REGIONS))
    p.add_argument("--name", help="device name (default: kept from the board)")
    p.add_argument("--rate", type=number(1, 100000), metavar="HZ",
                   help="sample rate (default: kept from the board, else the board's default)")
    p.set_defaults(func=cmd_deploy)

    p = sub.add_parser("config", help="show or change a board's /config.json",
                       description="See docs/deploy.md for the keys.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = actions.add_parser("set", help="change keys, reset the board and check its hello",
                           usage="jerklog config set [-h] KEY=VALUE... [PORT]",
                           description="Change the board's /config.json (keys: %s), reset the "
                           "board and check that its hello reports the change. Stop `jerklog "
                           "record` on that board first." % ", ".join(SETTABLE_KEYS))
    q.add_argument("items", nargs="+", metavar="KEY=VALUE",
                   help="keys %s; then optionally the serial port (default: the one board "
                   "found by USB id)" % ", ".join(SETTABLE_KEYS))
    q.set_defaults(func=cmd_config_set)
    q = actions.add_parser("show", help="print the board's /config.json")
    q.add_argument("port", nargs="?", metavar="PORT",
                   help="serial port (default: the one board found by USB id)")
    q.set_defaults(func=cmd_config_show)
