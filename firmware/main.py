"""jerklog firmware entry point.

On a board (main_board): reads /config.json, builds the board's IMU driver, and runs the loop:
FIFO batches -> detector -> frames on USB, every event also in the flash log, commands from
the host, watchdog, button (trigger marks) and LED.
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


HOST_GONE_MS = 11 * 60 * 1000  # no command for this long: no host connected
LOG_DIR = "/log"               # the on-board event log, on the board's flash


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
    speed = 1 if opts["--realtime"] else int(opts["--speed"])  # 0: as fast as possible
    rec = app.Recorder(board, det, writer, opts["--region"], int(opts["--epoch-ms"]), log,
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
                if cmd["command"] == protocol.CMD_HELLO:
                    # A host that (re)connects after the end hears that it is over.
                    rec.goodbye(protocol.GOODBYE_END_OF_RECORDING)


def main_board():
    """A real board: config -> board -> detector -> frames on USB, events in the flash log."""
    import time
    import boards
    import commands
    import config
    import eventlog
    cfg = config.load(config.PATH)          # ValueError names the bad key: fix /config.json
    b = boards.get(cfg["board"])            # ValueError for "auto" on an unrecognised MCU
    led = boards.Led(b)
    button = boards.Button(b)
    try:
        board = boards.make_board(cfg)
    except OSError:
        # IMU silent (XIAO: its supply pin is switched off by a soft reset): a hard reset.
        import machine
        time.sleep_ms(2000)
        machine.reset()
    det = detector.Detector(board.rate_hz, cfg["detector"])
    device_id = cfg["device_id"]
    writer = protocol.FrameWriter(protocol.make_writer(sys.stdout.buffer), device_id,
                                  _boot_id())
    log = eventlog.EventLog(LOG_DIR, max_bytes=cfg["log_max_bytes"])
    rec = app.Recorder(board, det, writer, cfg["region"], 0, log)
    host = commands.CommandReader(sys.stdin.buffer, device_id)
    wdt = None
    if b["wdt_ms"]:
        try:
            from machine import WDT
            wdt = WDT(timeout=b["wdt_ms"])  # a hung loop restarts: a new boot in the store
        except (ImportError, ValueError, OSError):
            wdt = None
    rec.hello(keep=True)
    nap_ms = app.BATCH * 1000 // board.rate_hz // 2  # half a batch: the FIFO never fills
    blink = time.ticks_ms()
    lit_until = blink
    host_at = time.ticks_add(blink, -HOST_GONE_MS)  # no host heard yet
    was_down = False
    while True:
        n = rec.step()
        cmd = host.next()
        while cmd is not None:
            rec.handle(cmd)
            host_at = time.ticks_ms()
            cmd = host.next()
        if wdt is not None:
            wdt.feed()
        now = time.ticks_ms()
        down = button.pressed()
        if down and not was_down:
            rec.trigger()                          # the wearer noticed something
            lit_until = time.ticks_add(now, 300)   # and sees the press taken
        was_down = down
        # LED: recording = a 30 ms blink a minute; a host connected (it asks for the log at
        # least every 10 min) = every 5 s; the log nearly full = every second.
        if log.nearly_full:
            every = 1000
        elif time.ticks_diff(now, host_at) < HOST_GONE_MS:
            every = 5000
        else:
            every = 60000
        if time.ticks_diff(now, blink) >= every:
            blink = now
            lit_until = time.ticks_add(now, 30)
        led.set(time.ticks_diff(lit_until, now) > 0)
        if n < app.BATCH:
            time.sleep_ms(nap_ms)


# MicroPython runs main.py (and `micropython main.py`) as __main__; tests import it instead.
if sys.implementation.name == "micropython" and __name__ == "__main__":
    if sys.platform == "linux":
        main_sim(sys.argv)
    else:
        main_board()
