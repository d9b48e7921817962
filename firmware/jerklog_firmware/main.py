"""jerklog firmware on a real board (the boot file /main.py calls main_board()).

Reads /config.json, builds the board's IMU driver, and runs the loop: FIFO batches ->
detector -> frames on USB, every event also in the flash log, commands from the host,
watchdog, button (trigger marks) and LED. The simulated board's loop (the unix port) is
sim_main.
"""
import sys

from . import app, detector, protocol

HOST_GONE_MS = 11 * 60 * 1000  # no command for this long: no host connected
LOG_DIR = "/log"               # the on-board event log, on the board's flash


def main_board():
    """A real board: config -> board -> detector -> frames on USB, events in the flash log."""
    import time

    from . import commands, config, eventlog, hardware

    cfg = config.load(config.PATH)          # ValueError names the bad key: fix /config.json
    b = hardware.get(cfg["board"])            # ValueError for "auto" on an unrecognised MCU
    led = hardware.Led(b)
    button = hardware.Button(b)
    try:
        board = hardware.make_board(cfg)
    except OSError:
        # IMU silent (XIAO: its supply pin is switched off by a soft reset): a hard reset.
        import machine
        time.sleep_ms(2000)
        machine.reset()
    det = detector.Detector(board.rate_hz, detector.for_region(cfg["detector"], cfg["region"]))
    device_id = cfg["device_id"]
    writer = protocol.FrameWriter(protocol.make_writer(sys.stdout.buffer), device_id,
                                  app.new_boot_id())
    log = eventlog.EventLog(LOG_DIR, max_bytes=cfg["log_max_bytes"])
    rec = app.BoardLoop(board, det, writer, cfg["region"], 0, log)
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
    # A button that reads down at start (held, or its line not yet pulled up) is no press:
    # only a release then a press is a trigger mark (issue 14: one false mark at boot).
    was_down = button.pressed()
    try:
        while True:
            n = rec.step()
            cmd = host.next()
            while cmd is not None:
                rec.handle(cmd)
                host_at = time.ticks_ms()
                cmd = host.next()
            # A log dump goes out in slices between FIFO reads, in the time the loop would
            # nap (app.BoardLoop.dump_turn): never longer than the FIFO holds.
            dumping = rec.dump_turn(n)
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
            if n < app.BATCH and not dumping:
                time.sleep_ms(nap_ms)
    except Exception as e:
        # Anything the loop did not expect: say it on the USB serial (the host skips a
        # traceback), then a hard reset, so the board records again in seconds instead of
        # waiting at the REPL for its watchdog, or forever where it has none (the XIAO).
        # The pause leaves a deploy's Ctrl-C a moment before the next boot starts the loop.
        # KeyboardInterrupt (Ctrl-C: deploy, mpremote) is no Exception: it still stops here.
        sys.print_exception(e)
        import machine
        time.sleep_ms(2000)
        machine.reset()
