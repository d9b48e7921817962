"""jerklog firmware entry point.

On a board: (issue: real boards) reads config, builds the board and runs the loop.
On the MicroPython unix port it is the simulator's device:

    micropython -X heapsize=192k main.py --raw REC.csv [--region NAME] [--device-id N]
        [--epoch-ms MS] [--settings FILE.json] [--realtime | --speed N]
        [--log DIR [--log-bytes N]] [--untethered]

Frames go to stdout (the simulator connects it to a pseudo-terminal) and commands come in
on stdin. --log keeps every event in an on-board log in DIR as a board does on flash;
--untethered plays the recording with no computer attached (frames go nowhere, the log
keeps them for the next connection).
"""
import sys

import app
import detector
import protocol


def _args(argv):
    opts = {"--raw": None, "--region": "unknown", "--device-id": "1", "--epoch-ms": "0",
            "--settings": None, "--boot-id": None, "--log": None, "--log-bytes": "262144"}
    flags = {"--realtime": False, "--untethered": False}
    opts["--speed"] = "0"
    i = 1
    while i < len(argv):
        a = argv[i]
        if a in flags:
            flags[a] = True
            i += 1
        elif a in opts and i + 1 < len(argv):
            opts[a] = argv[i + 1]
            i += 2
        else:
            raise ValueError("unknown argument %r" % a)
    opts.update(flags)
    return opts


def _boot_id():
    import os
    b = os.urandom(4)
    return (b[0] | (b[1] << 8) | (b[2] << 16) | ((b[3] & 0x3F) << 24)) or 1


def main_sim(argv):
    import json
    import time
    import board_sim
    import commands
    opts = _args(argv)
    if not opts["--raw"]:
        raise ValueError("--raw PATH is required on the unix port")
    board = board_sim.SimBoard(opts["--raw"])
    settings = None
    if opts["--settings"]:
        with open(opts["--settings"]) as f:
            settings = json.load(f)
    det = detector.Detector(board.rate_hz, settings)
    boot_id = int(opts["--boot-id"]) if opts["--boot-id"] else _boot_id()
    device_id = int(opts["--device-id"])
    log = None
    if opts["--log"]:
        import eventlog
        log = eventlog.EventLog(opts["--log"], max_bytes=int(opts["--log-bytes"]))
    untethered = opts["--untethered"]
    if untethered:
        def write(buf, n):
            pass  # no computer: like a board's USB with no host, frames go nowhere
    else:
        write = protocol.make_writer(sys.stdout.buffer)
    writer = protocol.FrameWriter(write, device_id, boot_id)
    rec = app.Recorder(board, det, writer, opts["--region"], int(opts["--epoch-ms"]), log)
    host = None
    first = None
    if not untethered:
        # A pty has no DTR and pyserial flushes what arrived before it opened the port:
        # wait for the host's first command, as a board would wait for USB to enumerate.
        host = commands.CommandReader(sys.stdin.buffer, device_id)
        first = host.next(60000)
        if first is None:
            raise OSError("no host opened the line within 60 s")
    rec.hello(keep=True)
    if first is not None and first["command"] != protocol.CMD_HELLO:
        rec.handle(first)
    speed = 1 if opts["--realtime"] else int(opts["--speed"])  # 0: as fast as possible
    start = time.ticks_ms()
    while not board.finished:
        rec.step()
        if host is not None:
            cmd = host.next()
            while cmd is not None:
                rec.handle(cmd)
                cmd = host.next()
        if speed:
            ahead = rec.uptime_ms // speed - time.ticks_diff(time.ticks_ms(), start)
            if ahead > 0:
                time.sleep_ms(ahead)
    rec.heartbeat()
    rec.goodbye(protocol.GOODBYE_END_OF_RECORDING)
    if log is not None:
        log.close()
    # Serve the host (log dumps and acks) until it hangs up, so nothing is lost at the end.
    if host is not None:
        deadline = time.ticks_add(time.ticks_ms(), 30000)
        while not host.closed and time.ticks_diff(deadline, time.ticks_ms()) > 0:
            cmd = host.next(100)
            if cmd is not None:
                rec.handle(cmd)
                if cmd["command"] == protocol.CMD_HELLO:
                    # A host that (re)connects after the end hears that it is over.
                    rec.goodbye(protocol.GOODBYE_END_OF_RECORDING)


if sys.implementation.name == "micropython" and sys.platform == "linux":
    main_sim(sys.argv)
