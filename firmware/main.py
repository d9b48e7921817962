"""jerklog firmware entry point.

On a board: (issue: real boards) reads config, builds the board and runs the loop.
On the MicroPython unix port it is the simulator's device:

    micropython -X heapsize=192k main.py --raw REC.csv [--region NAME] [--device-id N]
        [--epoch-ms MS] [--settings FILE.json] [--realtime]

Frames go to stdout (the simulator connects it to a pseudo-terminal).
"""
import sys

import app
import detector
import protocol


def _args(argv):
    opts = {"--raw": None, "--region": "unknown", "--device-id": "1", "--epoch-ms": "0",
            "--settings": None, "--boot-id": None}
    flags = {"--realtime": False}
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


def wait_for_host(stream, timeout_ms=60000):
    """Block until a command frame arrives: the host has opened the line and is reading.

    A real board's USB stack knows this from DTR; a pseudo-terminal has no such signal, and
    anything written before the host opened the port would be flushed away.
    """
    import select
    import time
    p = select.poll()
    p.register(stream, select.POLLIN)
    chunk = bytearray()
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while time.ticks_diff(deadline, time.ticks_ms()) > 0:
        if not p.poll(100):
            continue
        b = stream.read(1)
        if not b:
            raise OSError("the host closed the line")
        if b[0] != 0:
            chunk.extend(b)
            continue
        rec = protocol.decode_frame(bytes(chunk)) if chunk else None
        chunk = bytearray()
        if rec and rec["type"] == "command":
            return rec
    raise OSError("no host opened the line within %d s" % (timeout_ms // 1000))


def main_sim(argv):
    import json
    import time
    import board_sim
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
    out = sys.stdout.buffer
    writer = protocol.FrameWriter(protocol.make_writer(out), int(opts["--device-id"]), boot_id)
    rec = app.Recorder(board, det, writer, opts["--region"], int(opts["--epoch-ms"]))
    wait_for_host(sys.stdin.buffer)
    rec.hello()
    realtime = opts["--realtime"]
    start = time.ticks_ms()
    while not board.finished:
        rec.step()
        if realtime:
            ahead = rec.uptime_ms - time.ticks_diff(time.ticks_ms(), start)
            if ahead > 0:
                time.sleep_ms(ahead)
    rec.heartbeat()
    rec.goodbye(protocol.GOODBYE_END_OF_RECORDING)
    # Stay until the host hangs up, so nothing written is lost when the line closes.
    import select
    p = select.poll()
    p.register(sys.stdin, select.POLLIN)
    p.poll(30000)


if sys.implementation.name == "micropython" and sys.platform == "linux":
    main_sim(sys.argv)
