"""The simulated board: the firmware's loop over a recording, on the MicroPython unix port.

    micropython -X heapsize=192k -m jerklog_firmware.sim_main --raw REC.csv [--region NAME]
        [--device-id N] [--epoch-ms MS] [--settings FILE.json] [--realtime | --speed N]
        [--log DIR [--log-bytes N]] [--untethered]

(with the firmware directory, the parent of jerklog_firmware, in MICROPYPATH). Frames go to
stdout (the simulator connects it to a pseudo-terminal) and commands come in on stdin. --log
keeps every event in an on-board log in DIR as a board does on flash; --untethered plays the
recording with no computer attached (frames go nowhere, the log keeps them for the next
connection). A real board runs main.main_board() instead; this module and the sim board's
sample source (board_sim, rawcsv) are never deployed.
"""
import gc
import sys

from . import detector  # the largest module first: compiling it from source needs the most

gc.collect()  # room, in one piece (the imports' garbage would split it)
from . import app, board_sim, commands, protocol  # noqa: E402


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


def main_sim(argv):
    import json
    import time
    opts = _args(argv)
    if not opts["--raw"]:
        raise ValueError("--raw PATH is required on the unix port")
    board = board_sim.SimBoard(opts["--raw"])
    settings = None
    if opts["--settings"]:
        with open(opts["--settings"]) as f:
            settings = json.load(f)
    det = detector.Detector(board.rate_hz, detector.for_region(settings, opts["--region"]))
    boot_id = int(opts["--boot-id"]) if opts["--boot-id"] else app.new_boot_id()
    device_id = int(opts["--device-id"])
    log = None
    if opts["--log"]:
        from . import eventlog
        log = eventlog.EventLog(opts["--log"], max_bytes=int(opts["--log-bytes"]))
    untethered = opts["--untethered"]
    if untethered:
        def write(buf, n):
            pass  # no computer: like a board's USB with no host, frames go nowhere
    else:
        write = protocol.make_writer(sys.stdout.buffer)
    writer = protocol.FrameWriter(write, device_id, boot_id)
    speed = 1 if opts["--realtime"] else int(opts["--speed"])  # 0: as fast as possible
    rec = app.BoardLoop(board, det, writer, opts["--region"], int(opts["--epoch-ms"]), log,
                       virtual_clock=speed != 1)
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
    if host is not None:  # the host sends its opening commands together: take them all
        cmd = host.next(50)
        while cmd is not None:
            rec.handle(cmd)
            cmd = host.next(50)
        # The opening dump before the recording plays (nothing to interleave with yet): the
        # whole of it, so that the frames' seqs do not depend on the host's timing.
        rec.dump_all()
    start = time.ticks_ms()
    while not board.finished:
        rec.step()
        if host is not None:
            cmd = host.next()
            while cmd is not None:
                rec.handle(cmd)
                cmd = host.next()
            if speed:
                rec.dump_turn(0)  # a dump goes out in slices between batches, as on a board
            else:
                rec.dump_all()  # as fast as possible: no FIFO to starve, the dump at once
        if speed:
            ahead = rec.uptime_ms // speed - time.ticks_diff(time.ticks_ms(), start)
            if ahead > 0:
                time.sleep_ms(ahead)
    # A dump under way ends before the goodbye: the host takes the first LOG_DUMPED after
    # the goodbye for the answer to its final dump.
    rec.dump_all()
    rec.finish()
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
                rec.dump_all()  # no samples to read any more: the whole dump at once
                if cmd["command"] == protocol.CMD_HELLO:
                    # A host that (re)connects after the end hears that it is over.
                    rec.goodbye(protocol.GOODBYE_END_OF_RECORDING)


# `micropython -m jerklog_firmware.sim_main` runs this module as __main__; tests import it.
if __name__ == "__main__":
    main_sim(sys.argv)
