"""The whole hot path allocates nothing on the board's own interpreter (issue 14, item 4): on
the emulated Pico (MicroPython v1.28 rp2, 31-bit small ints), FIFO bytes over the emulated
I2C from the LSM6DSOX model -> driver -> scaling and time stamps -> detector -> frames ->
the on-board log on the board's littlefs, with evidence and epochs, under
micropython.heap_lock(); a hello and a heartbeat too. Skipped without the emulator."""
import pytest

from conftest import synthetic_recording
from jerklog.sim.pico import scripts

pytestmark = pytest.mark.emulated_board

LOCKED_S = 20
JERKS = tuple(4.0 + 3.5 * k for k in range(9))

HOT_PATH = """
import gc, micropython, os, time
from array import array
from jerklog_firmware import app, config, detector, eventlog, hardware, protocol
gc.collect()
cfg = config.validate({"board": "pico_lsm6dsox", "rate_hz": 208})
board = hardware.make_board(cfg)  # machine.I2C(0) at 400 kHz, the LSM6DSOX at 0x6A
det = detector.Detector(board.rate_hz)
frames = [0]
types = array("i", [0] * 16)
def count(buf, n):
    frames[0] += 1
    types[buf[2]] += 1  # the record type: the first payload byte, after COBS's code byte
w = protocol.FrameWriter(count, 0x3FFFFFFF, 0x3FFFFFFF)
try:
    os.mkdir("hotlog")
except OSError:
    pass
log = eventlog.EventLog("hotlog", max_bytes=65536, segment_bytes=16384)
rec = app.BoardLoop(board, det, w, "trunk", 0, log)
board.uptime_ms = 0x3FFFFFFF - 60000  # close to the end of the small-int uptime (12.4 days)
w.seq = 0x3FFFFFFF - 100000           # and a sequence number close to its limit
rec.hello(keep=True)
nap = app.BATCH * 1000 // board.rate_hz // 2
def run(seconds, locked):
    end = time.ticks_add(time.ticks_ms(), seconds * 1000)
    n = 0
    while time.ticks_diff(end, time.ticks_ms()) > 0:
        time.sleep_ms(nap)
        if locked:
            micropython.heap_lock()
        n += rec.step()  # one FIFO batch: I2C read to log append
        if locked:
            micropython.heap_unlock()
    return n
run(3, False)  # warm up: the detector's baseline settles, the log segment is open
samples = run(%(locked)d, True)
micropython.heap_lock()
rec.hello()
rec.heartbeat()
micropython.heap_unlock()
print("RESULT", samples, det.events, frames[0], board.dropped, log.count(), rec.log_errors,
      types[protocol.EVIDENCE], rec.evidence_sent, types[protocol.EPOCH], det.candidates)
"""


def test_fifo_to_frame_to_flash_log_allocates_nothing_on_the_board(emulated_pico):
    raw = synthetic_recording(LOCKED_S + 12, 208, JERKS, jerk_g=0.6, seed=7)
    pico = emulated_pico(recording=raw)
    scripts.install(pico.port)
    out = scripts.run(pico.port, HOT_PATH % {"locked": LOCKED_S})
    fields = out.split("RESULT", 1)[1].split()
    (samples, events, frames, dropped, logged, errors, parts, evidence, epochs,
     candidates) = map(int, fields)
    assert samples >= 0.95 * LOCKED_S * 208  # the board kept up with its FIFO, heap locked
    assert dropped == 0 and errors == 0
    assert events >= 4                       # jerks found while the heap was locked
    assert frames > events
    assert evidence == candidates >= events and parts > 2 * evidence
    assert epochs >= 4                       # one every 5 s
    assert logged >= events + 1 + parts + epochs
