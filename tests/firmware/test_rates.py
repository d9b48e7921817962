"""The sample rates a board runs (config.RATE_HZ, 25..833 Hz): config refuses the driver rates
outside them with a message naming the range, and at the highest one (833 Hz, an LSM6
board) the board's loop builds its evidence ring in a 192 KB heap and runs FIFO to frames
with evidence and epochs without allocating, as at 208 Hz (tests/firmware/test_hot_path.py).
"""
import pytest

from conftest import find_micropython32, run_micropython
from jerklog_firmware import config

AT_833_HZ = """
import gc
from jerklog_firmware import detector
gc.collect()  # compiling from source needs room (a board loads .mpy: docs/deploy.md)
import micropython, os
import fake_clock, fake_imu
from jerklog_firmware import app, eventlog, hardware, protocol
gc.collect()
bus = fake_imu.FakeI2C(0)
chip = bus.attach(fake_imu.FakeLSM6DS3TRC())
clock = fake_clock.FakeClock(1 << 30, 0)
board = hardware.make_board(config.validate({"board": "xiao_nrf52840_sense", "rate_hz": 833}),
                            i2c=bus, clock=clock)
det = detector.Detector(board.rate_hz)
types = bytearray(16)
def count(buf, n):
    types[buf[2]] += 1
w = protocol.FrameWriter(count, 1, 1)
try:
    os.mkdir("log")
except OSError:
    pass
log = eventlog.EventLog("log", max_bytes=262144, segment_bytes=65536)
rec = app.BoardLoop(board, det, w, "trunk", 0, log)
rec.hello(keep=True)
G = 2049  # 1 g at +-16 g (0.488 mg/LSB): upright trunk; a 0.6 g jerk every 4 s
def run(first, seconds, locked):
    k = first
    end = first + seconds * 833
    while k < end:
        j = 0
        while j < 32:
            x = G + (1229 if 1666 <= k % 3332 < 1691 else 0)  # 30 ms
            chip.push(x, (k * 7) % 5 - 2, (k * 3) % 5 - 2, 1, -1, 0)
            k += 1
            j += 1
        clock.advance(39 if (k // 32) % 5 in (1, 3) else 38)  # 32 samples: 38.4 ms
        if locked:
            micropython.heap_lock()
        rec.step()
        if locked:
            micropython.heap_unlock()
    return k
k = run(0, 4, False)
k = run(k, 12, True)
print(board.rate_hz, rec.ring_n, det.events, rec.evidence_sent, det.candidates,
      types[protocol.EVIDENCE], types[protocol.EPOCH], board.dropped, rec.log_errors)
""".replace("from jerklog_firmware import app, eventlog", "from jerklog_firmware import config\n"
            "gc.collect()\nfrom jerklog_firmware import app, eventlog")


@pytest.mark.parametrize("small_int_bits", [63, 31])
def test_the_highest_rate_runs_in_a_board_heap_without_allocating(tmp_path, small_int_bits):
    micropython = None
    if small_int_bits == 31:
        micropython = find_micropython32()
        if micropython is None:
            pytest.skip("no 32-bit MicroPython unix port ($JERKLOG_MICROPYTHON32)")
    out = run_micropython(AT_833_HZ, cwd=str(tmp_path), micropython=micropython).split()
    rate, ring_n, events, evidence, candidates, parts, epochs, dropped, errors = map(int, out)
    assert rate == config.RATE_HZ[1] == 833
    assert ring_n >= 1500  # 0.3 s before a peak + the longest verdict: ~1.8 s of samples
    assert events >= 2 and evidence == candidates >= events and parts > 5 * evidence
    assert epochs == 16 // 5 and dropped == 0 and errors == 0


@pytest.mark.parametrize("board, rate", [("xiao_nrf52840_sense", 1666),
                                         ("xiao_nrf52840_sense", 6666),
                                         ("pico_mpu6050", 10), ("pico_mpu6050", 20),
                                         ("pico_mpu6050", 1000),
                                         ("auto", 3333)])
def test_config_refuses_driver_rates_outside_the_boards_range(board, rate):
    with pytest.raises(ValueError) as e:
        config.validate({"board": board, "rate_hz": rate})
    msg = str(e.value)
    assert "rate_hz=%d" % rate in msg and "25..833 Hz" in msg


@pytest.mark.parametrize("board, rate", [("xiao_nrf52840_sense", 26),
                                         ("xiao_nrf52840_sense", 833),
                                         ("pico_mpu6050", 25), ("pico_mpu6050", 500),
                                         ("auto", 416)])
def test_config_accepts_the_drivers_rates_inside_it(board, rate):
    assert config.validate({"board": board, "rate_hz": rate})["rate_hz"] == rate


def test_a_rate_the_chip_lacks_inside_the_range_still_names_the_chips_rates():
    with pytest.raises(ValueError) as e:
        config.validate({"board": "pico_mpu6050", "rate_hz": 833})
    assert "500" in str(e.value) and "1000" not in str(e.value)
