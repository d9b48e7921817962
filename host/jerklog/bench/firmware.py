"""Firmware cost: microseconds and bytes allocated per sample of the firmware's hot path (the
evidence ring, detector, event frames, and per batch the evidence and epoch records), run
under `micropython -X heapsize=192k` (a board-sized heap), with the CPU share each supported
board would spend, from published planning factors (`jerklog bench firmware`)."""
import os

import numpy as np

from jerklog.recordings.rawfile import RawSamples

FIRMWARE_SCRIPT = """
import gc, sys, time, micropython
from array import array
n = int(sys.argv[2])
rate = int(sys.argv[3])
samples = array('h', bytearray(12 * n))
times = array('i', bytearray(4 * n))
with open(sys.argv[1], 'rb') as f:
    f.readinto(samples)
    f.readinto(times)
gc.collect()
from jerklog_firmware import detector
gc.collect()
from jerklog_firmware import app, protocol
det = detector.Detector(rate)
sent = [0]
def write(buf, k):
    sent[0] += k
w = protocol.FrameWriter(write, 0x3FFFFFFF, 0x3FFFFFFF)
class Board:
    rate_hz, has_gyro, dropped, name, sensor = rate, True, 0, "bench", "none"
rec = app.BoardLoop(Board(), det, w, "wrist")
B = 32  # samples a batch, as a board's FIFO read hands them over
SPAN = times[n - 1] + 5  # device ms one pass over the samples lasts
def run(passes):
    # app.BoardLoop.process, the board's own per-sample path (evidence ring, detector, event
    # and heartbeat frames) and its once-per-batch evidence and epochs, over samples in memory
    a0 = gc.mem_alloc()  # after this call's own frame: what the samples allocate
    e0 = det.events
    p = 0
    while p < passes:
        if p:  # the next pass goes on later in device time (~1 % of the figure)
            i = 0
            while i < n:
                times[i] += SPAN
                i += 1
        a = 0
        while a < n:
            rec.process(times, samples, a, min(n, a + B))
            a += B
        p += 1
    alloc[0] = gc.mem_alloc() - a0
    return det.events - e0
alloc = [0]
run(1)  # warm up: the detector's history fills
gc.collect()
gc.disable()  # so the heap only grows: the difference is what the loop allocated
t0 = time.ticks_us()
events = run(3)
us = time.ticks_diff(time.ticks_us(), t0)
allocated = alloc[0]
gc.enable()
print(us, allocated, 3 * n, events, sent[0], rec.evidence_sent, rec.epochs)
"""

# Bytecode speed relative to this machine's unix port (DESIGN.md planning factors).
BOARD_FACTORS = (("RP2040 (Pico, Nano RP2040 Connect)", 150, 250),
                 ("ESP32 (M5StickC PLUS2)", 110, 130),
                 ("nRF52840 (XIAO Sense)", 330, 425))


def jerk_every_second(seconds, rate_hz, jerk_g=0.5):
    """A still wrist with a 60 ms jerk every second from 2 s on: a jerk is almost always
    waiting for its look-ahead, the detector's busiest steady state. RawSamples."""
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    acc = np.zeros((len(t), 3))
    acc[:, 0] = 1.0
    gyro = np.zeros((len(t), 3))
    for tj in np.arange(2.0, seconds - 0.5, 1.0):
        pulse = np.exp(-0.5 * ((t - tj) / 0.015) ** 2)
        acc[:, 2] += jerk_g * pulse
        gyro[:, 1] += 150.0 * pulse
    return RawSamples.from_units(t, acc, gyro)


def _cost_run(raw, rate_hz, runs):
    """(us per sample, bytes allocated per sample, samples, events) of FIRMWARE_SCRIPT."""
    import subprocess
    import tempfile

    from jerklog.sim.device import find_micropython, micropython_env
    n = len(raw)
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "s.bin")
        with open(data, "wb") as f:
            f.write(raw.values().astype("<i2").tobytes())
            f.write(raw.t_ms().astype("<i4").tobytes())
        script = os.path.join(tmp, "cost.py")
        with open(script, "w") as f:
            f.write(FIRMWARE_SCRIPT)
        results = []
        for _ in range(runs):
            out = subprocess.run([find_micropython(), "-X", "heapsize=192k", script, data,
                                  str(n), str(rate_hz)], env=micropython_env(),
                                 capture_output=True, text=True, check=True)
            results.append(tuple(map(int, out.stdout.split())))
    us, _, count, events = min(results)[:4]
    allocated = max(r[1] for r in results)
    return us / count, allocated / count, count, events


def firmware_cost(rate_hz=208, seconds=15, runs=5, log=print):
    """app.BoardLoop's per-sample path (evidence ring, detector, frames) and its per-batch
    evidence and epochs under micropython -X heapsize=192k, with gyro, on
    15 s of a generated day (ordinary wear) and on a jerk every second (a jerk always
    waiting for its look-ahead): microseconds (the fastest of `runs` runs, as other load
    only ever slows a run down) and bytes allocated per sample. Returns the day's pair."""
    from jerklog.sim.generate import generate
    _, day = generate("day", 1, rate_hz, 5, "wrist")
    k = int(seconds * rate_hz)
    day = RawSamples(day.t_us[:k], day.acc_mg[:k], day.gyro_ddps[:k])
    lines = ["### Firmware hot path (evidence ring, detector, frames; per batch evidence and "
             "epochs), micropython -X heapsize=192k",
             "", "| load | samples | events | us/sample (this machine's unix port, fastest "
             "of %d runs) | bytes allocated/sample |" % runs, "|---|---|---|---|---|"]
    costs = []
    for label, raw in (("generated day, wrist", day),
                       ("a jerk every second", jerk_every_second(seconds, rate_hz))):
        per_sample, allocated, count, events = _cost_run(raw, rate_hz, runs)
        costs.append((label, per_sample, allocated))
        lines.append("| %s | %d | %d | %.2f | %.3f |" % (label, count, events, per_sample,
                                                        allocated))
    lines += ["", "| board (planning factor) | load | us/sample | CPU at 208 Hz | CPU at "
              "833 Hz |", "|---|---|---|---|---|"]
    for name, lo, hi in BOARD_FACTORS:
        for label, per_sample, _ in costs:
            lines.append("| %s (%d-%dx) | %s | %.0f-%.0f | %.1f-%.1f %% | %.1f-%.1f %% |" % (
                name, lo, hi, label, per_sample * lo, per_sample * hi,
                per_sample * lo * 208 / 1e4, per_sample * hi * 208 / 1e4,
                per_sample * lo * 833 / 1e4, per_sample * hi * 833 / 1e4))
    text = "\n".join(lines)
    print(text)
    if os.environ.get("JERKLOG_BENCH_EMULATED", "1") != "0":
        emulated_cost(log=log)  # where the emulated Pico is here (issue 14)
    return costs[0][1], costs[0][2]


# -- the emulated Pico (issue 14): cycles of the whole hot path on the board's interpreter --
EMULATED_RATES = (104, 208, 416, 833)
PICO_HZ = 125_000_000  # clk_sys of a Pico under MicroPython
I2C_HZ = 400_000       # the boards' bus (hardware.py)
# rp2040js reads flash with no wait states; a real RP2040 runs MicroPython through a 16 KB
# XIP cache. The one published real-RP2040 figure found that the emulator can rerun: the
# perf_bench score of bm_chaos.py (N=168 M=100) in micropython/micropython PR #19352 (June
# 2026, a build just before the newlib-nano change, after v1.28.0): 154.11 on an RP2040;
# MicroPython v1.28.0's run-perfbench.py on this emulator: 256.91. Scores are inverse
# times, so a real RP2040 takes about 256.91 / 154.11 = 1.67 times the emulated cycles.
REAL_OVER_EMULATED = 256.91 / 154.11

# On the board, after sim.pico.scripts.install: the firmware's loop as main_board runs it
# (read a FIFO batch over I2C, parse, scale, stamp, detect, frames, log append on littlefs,
# nap half a batch), with the time inside rec.step() summed; frames are built but go to a
# counter, not USB.
PICO_SCRIPT = """
import gc, time
from jerklog_firmware import app, config, detector, eventlog, hardware, protocol
rate = %(rate)d
cfg = config.validate({"board": "pico_lsm6dsox", "rate_hz": rate})
board = hardware.make_board(cfg)
class TimedI2C:  # time inside machine.I2C: on a board the bus's time, computed apart
    def __init__(self, i2c):
        self.i2c = i2c
        self.us = 0
    def readfrom_mem_into(self, addr, reg, buf):
        a = time.ticks_us()
        self.i2c.readfrom_mem_into(addr, reg, buf)
        self.us += time.ticks_diff(time.ticks_us(), a)
    def writeto_mem(self, addr, reg, buf):
        self.i2c.writeto_mem(addr, reg, buf)
bus = board.imu.i2c = TimedI2C(board.imu.i2c)
det = detector.Detector(board.rate_hz)
sent = [0]
def write(buf, n):
    sent[0] += n
w = protocol.FrameWriter(write, 0x3FFFFFFF, 0x3FFFFFFF)
log = eventlog.EventLog("benchlog", max_bytes=262144)
rec = app.BoardLoop(board, det, w, "left_wrist", 0, log)
rec.hello(keep=True)
nap = app.BATCH * 1000 // board.rate_hz // 2
def run(seconds):
    busy = 0
    n = 0
    reads = 0
    t0 = time.ticks_us()
    end = time.ticks_add(time.ticks_ms(), seconds * 1000)
    while time.ticks_diff(end, time.ticks_ms()) > 0:
        time.sleep_ms(nap)
        a = time.ticks_us()
        n += rec.step()
        busy += time.ticks_diff(time.ticks_us(), a)
        reads += 1
    return busy, n, reads, time.ticks_diff(time.ticks_us(), t0)
run(2)  # warm up: the detector's history fills, the log segment is open
gc.collect()
a0 = gc.mem_alloc()
bus.us = 0
busy, n, reads, span = run(%(seconds)d)
print("RESULT", busy, n, reads, span, det.events, board.dropped, gc.mem_alloc() - a0, bus.us)
"""

# The integer loop of issue 14 (the same in every emulator and board): device ms.
CALIBRATION_SCRIPT = """
import time
def loop():
    s = 0
    for i in range(20000):
        s = (s + i * i) % 1000003
    return s
t0 = time.ticks_us()
loop()
print("RESULT", time.ticks_diff(time.ticks_us(), t0))
"""


def i2c_us_per_sample(batch_samples, rate_hz=None):
    """Bus time (us) a sample costs at I2C_HZ on an LSM6DSOX: two 7-byte FIFO words, plus per
    FIFO read the status read (address, register, repeated start, address, 2 bytes) and the
    data read's address, register and repeated start; 9 bits a byte, start and stop ~1 bit."""
    per_read = (5 + 3) * 9 + 4
    return (14 * 9 + per_read / batch_samples) * 1e6 / I2C_HZ


def emulated_cost(seconds=12, log=print, fw_dir=None):
    """The whole hot path on the emulated Pico (jerklog.sim.pico) at EMULATED_RATES: CPU
    cycles a sample (emulated time in rec.step() outside machine.I2C's calls, x 125 MHz), the
    CPU share, the computed I2C bus time (which on a board the driver waits out) and the
    sum, for a generated day (wrist). Returns [(rate, cycles/sample, CPU %,
    CPU + I2C %)], or None (saying why) where the emulator is absent."""
    import shutil
    import tempfile

    from jerklog.sim.generate import generate
    from jerklog.sim.pico import emulator, scripts
    why = emulator.missing()
    if why:
        log("emulated Pico skipped: " + why)
        return None
    rows = []
    with tempfile.TemporaryDirectory(prefix="jerklog-bench-pico-") as tmp:
        base = os.path.join(tmp, "installed.bin")
        with emulator.EmulatedPico(base) as pico:
            if fw_dir:
                scripts.install(pico.port, fw_dir=fw_dir)
            else:
                scripts.install(pico.port)
            loop_us = int(scripts.run(pico.port, CALIBRATION_SCRIPT).split("RESULT")[1])
        for rate in EMULATED_RATES:
            _, day = generate("day", 1, rate, 5, "wrist")
            k = (seconds + 8) * rate
            day = RawSamples(day.t_us[:k], day.acc_mg[:k], day.gyro_ddps[:k])
            for label, raw in (("generated day, wrist", day),
                               ("a jerk every second", jerk_every_second(seconds + 8, rate))):
                flash = os.path.join(tmp, "run-%d.bin" % rate)
                shutil.copyfile(base, flash)
                with emulator.EmulatedPico(flash, raw) as pico:
                    out = scripts.run(pico.port, PICO_SCRIPT % {"rate": rate,
                                                                "seconds": seconds})
                busy, n, reads, span, events, dropped, allocated, in_i2c = map(
                    int, out.split("RESULT")[1].split())
                # rp2040js completes a transfer at once, so the time inside machine.I2C is
                # the driver's loop alone; on a board that loop waits out the bus, whose
                # time (computed below, longer) takes its place.
                busy -= in_i2c
                cycles = busy * (PICO_HZ / 1e6) / n
                cpu = 100.0 * busy / span
                bus = i2c_us_per_sample(n / reads) * n / span * 100.0
                rows.append((rate, label, cycles, cpu, cpu + bus, n, events, dropped,
                             allocated, bus))
    lines = ["### Whole hot path on the emulated Pico (rp2040js, MicroPython v1.28.0 rp2)", "",
             "Integer loop of issue 14 (20,000 x `s = (s + i*i) %% 1000003`): %.0f ms of "
             "emulated time." % (loop_us / 1000.0), "",
             "| rate Hz | load | samples | events | dropped | cycles/sample (outside I2C) | "
             "CPU (emulated) | "
             "I2C bus at 400 kHz | CPU + I2C | calibrated: CPU x %.2f + I2C | bytes allocated "
             "(whole run) |" % REAL_OVER_EMULATED,
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for rate, label, cycles, cpu, total, n, events, dropped, allocated, bus in rows:
        lines.append("| %d | %s | %d | %d | %d | %.0f | %.1f %% | %.1f %% | %.1f %% | %.1f %% "
                     "| %d |" % (rate, label, n, events, dropped, cycles, cpu, bus, total,
                                 cpu * REAL_OVER_EMULATED + bus, allocated))
    print("\n".join(lines))
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]
