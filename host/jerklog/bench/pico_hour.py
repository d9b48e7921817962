"""The real firmware on the emulated Pico for an hour (issue 14: "flat over an hour"): is the
CPU share flat, and does the FIFO ever overrun?

What runs: `jerklog deploy` of this tree's firmware onto a blank emulated Pico (jerklog.sim.pico),
then the board's own boot file and `main_board()` (watchdog, LED, button, the LSM6DSOX model
serving a generated day at 208 Hz, wrist) with `jerklog record`'s PortRecorder on its USB
serial, which stores everything and collects the board's log every 10 minutes
(recorder.DUMP_EVERY_S) as it does with a real board. Per window of emulated time: the share
of the time the core was awake (not in WFI/WFE: the firmware, USB interrupts, MicroPython),
the candidates the board judged and its FIFO overruns (the heartbeats' dropped count).

    python -m jerklog.bench.pico_hour [--minutes 60] [--window-s 60]

Real time is at least the emulated time (the emulator never runs ahead of the wall clock), so
an hour takes an hour or more. Prints a markdown table, then a summary line.
"""
import argparse
import os
import sys
import tempfile
import threading
import time

from jerklog.boards import deploy
from jerklog.boards.recorder import PortRecorder
from jerklog.sim.generate import generate
from jerklog.sim.pico import emulator
from jerklog.store.database import Store

RATE_HZ = 208


def _wait_emulated(pico, seconds, say):
    """Until the board's clock has run `seconds`; a progress line every 5 emulated minutes."""
    next_say = 300
    while True:
        shares = pico.cpu_shares()
        now = shares[-1][0] if shares else 0.0
        if now >= seconds:
            return
        if now >= next_say:
            say("  %d of %d emulated minutes" % (now // 60, seconds // 60))
            next_say += 300
        if pico.proc.poll() is not None:
            raise RuntimeError("the emulator stopped:\n" + pico.log_text()[-2000:])
        time.sleep(1.0)


def run(minutes=60, window_s=60, say=print, fw_dir=None):
    """Returns [(window end s, CPU %, candidates, dropped so far)] and the store's totals."""
    why = emulator.missing()
    if why:
        raise SystemExit("emulated Pico absent: " + why)
    seconds = int(minutes * 60)
    with tempfile.TemporaryDirectory(prefix="jerklog-pico-hour-") as tmp:
        flash = os.path.join(tmp, "flash.bin")
        with emulator.EmulatedPico(flash) as pico:
            say("deploying the firmware onto the emulated Pico")
            deploy.deploy("pico_lsm6dsox", "left_wrist", pico.port, rate_hz=RATE_HZ,
                          say=lambda text: None, **({"fw_dir": fw_dir} if fw_dir else {}))
        _, day = generate("day", minutes + 2, RATE_HZ, 7, "wrist")
        db = os.path.join(tmp, "store.sqlite3")
        say("recording %d emulated minutes (at least as long in real time)" % minutes)
        t0 = time.monotonic()
        with emulator.EmulatedPico(flash, day, cpu_every_s=window_s) as pico:
            with Store(db) as store:
                rec = PortRecorder(pico.port, store, reconnect=True, retry_s=0.1)
                errors = []

                def record():
                    try:
                        rec.run()
                    except Exception as e:  # reported after the run, not lost in the thread
                        errors.append(e)

                thread = threading.Thread(target=record, daemon=True)
                thread.start()
                _wait_emulated(pico, seconds, say)
                time.sleep(2.0)
                rec.stop.set()
                thread.join(60)
                if errors:
                    raise errors[0]
                shares = pico.cpu_shares()
                beats = store.heartbeat_rows(1000, 1000)
                boots = store.boots()
                evidence = [(x["t_ms"],) for x in store.evidence(wave=False)]
                totals = (store.count_events(), len(beats),
                          max((b.get("dropped") or 0 for b in boots), default=0))
        wall = time.monotonic() - t0
    rows = []
    for end, share in shares:
        lo, hi = (end - window_s) * 1000, end * 1000
        dropped = max((b[5] for b in beats if b[3] <= hi), default=0)
        cands = sum(1 for (u,) in evidence if lo <= u < hi)
        rows.append((end, share, cands, dropped))
    return rows, totals, wall


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m jerklog.bench.pico_hour",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=60.0,
                   help="emulated minutes to record (default 60)")
    p.add_argument("--window-s", type=int, default=60,
                   help="CPU share window, emulated seconds (default 60)")
    p.add_argument("--fw-dir", help="the board's root to deploy (a firmware/ folder, e.g. "
                   "from git archive); default: this package's")
    a = p.parse_args(argv)
    if not 1 <= a.minutes <= 600 or not 5 <= a.window_s <= 600:
        p.error("--minutes 1..600, --window-s 5..600")
    rows, (events, beats, lost), wall = run(a.minutes, a.window_s,
                                      say=lambda t: print(t, file=sys.stderr, flush=True),
                                      fw_dir=a.fw_dir)
    print("| emulated s | CPU share (awake) | candidates | FIFO samples lost so far |")
    print("|---|---|---|---|")
    for end, share, cands, dropped in rows:
        print("| %.0f | %.1f %% | %s | %d |" % (end, share, cands if cands else "-", dropped))
    quiet = [s for _, s, c, _ in rows if not c]
    half = len(rows) // 2
    first = [s for _, s, _, _ in rows[1:half + 1]]
    last = [s for _, s, _, _ in rows[half:]]
    print("\n%d windows in %.0f s of real time; %d events stored, %d heartbeats; CPU share "
          "%.1f-%.1f %% (quiet windows %.1f-%.1f %%), mean %.1f %% in the first half, %.1f %% "
          "in the second; FIFO samples lost: %d (the boot's last count: %d)"
          % (len(rows), wall, events, beats, min(s for _, s, _, _ in rows),
             max(s for _, s, _, _ in rows), min(quiet or [0]), max(quiet or [0]),
             sum(first) / max(1, len(first)), sum(last) / max(1, len(last)),
             rows[-1][3] if rows else 0, lost))


if __name__ == "__main__":
    main()
