"""Tests for the board layer: jerklog_firmware's board_imu.py, hardware.py, config.py, and the
tests' fake clock (tests/firmware/fakes/fake_clock.py).

The main proof is one script (SCRIPT) run under the real MicroPython unix port
(``-X heapsize=192k``) and under CPython; both must pass their asserts and print the same.
For each of the four IMUs it builds a board with ``hardware.make_board`` over fake_imu's bus and
chip model and a fake clock that wraps during the test, pushes known physical samples
(mg, 0.1 deg/s, turned into raw counts with the datasheet sensitivity), and checks units,
time stamps, overflow counting and (MicroPython) that read_into runs under heap_lock.
The rest runs under CPython only.
"""
import json
import os
import subprocess
import sys

import pytest

from conftest import FAKES_DIR, run_micropython
from jerklog.firmware import FIRMWARE_DIR
from jerklog_firmware import board_imu, config, hardware, lsm6, mpu6

sys.path.insert(0, FAKES_DIR)

import fake_clock  # noqa: E402
import fake_imu  # noqa: E402

SCRIPT = r'''
import sys
from array import array
import fake_imu
import fake_clock
from jerklog_firmware import config, hardware

try:
    import micropython
    lock = micropython.heap_lock
    unlock = micropython.heap_unlock
except (ImportError, AttributeError):
    lock = unlock = None

# board -> fake chip; mg per LSB and 0.1 dps per LSB as (num, den) from the datasheets
CASES = (
    ("xiao_nrf52840_sense", fake_imu.FakeLSM6DS3TRC, (488, 1000), (70, 100)),
    ("pico_lsm6dsox", fake_imu.FakeLSM6DSOX, (488, 1000), (70, 100)),
    ("pico_mpu6050", fake_imu.FakeMPU6050, (1000, 2048), (100, 164)),
    ("m5stickc_plus2", fake_imu.FakeMPU6886, (1000, 2048), (100, 164)),
)


def to_raw(v, sens):
    num, den = sens
    r = (2 * v * den + num) // (2 * num)  # round(v / (num / den))
    return max(-32768, min(32767, r))


def close(out, v, sens):
    num, den = sens  # |out - v| <= 1 + half an LSB (rounding of raw, floor of >>)
    return 2 * den * abs(out - v) <= 2 * den + num


def physical(k):
    return ((k * 977) % 31000 - 15500, (k * 5003) % 31000 - 15500, 1000 - (k * 131) % 2000,
            (k * 7919) % 38000 - 19000, (k * 104729) % 38000 - 19000, (k * 31) % 400 - 200)


def run(board_name, chip_cls, acc, gyr, period, start, locked):
    bus = fake_imu.FakeI2C(0)
    chip = bus.attach(chip_cls())
    clock = fake_clock.FakeClock(period, start)
    board = hardware.make_board({"board": board_name}, i2c=bus, clock=clock)
    assert board.name == board_name and board.sensor == chip.NAME, (board.name, board.sensor)
    assert board.has_gyro and not board.finished and board.dropped == 0
    rate = board.rate_hz
    times = array("i", [0] * 32)
    samples = array("h", [0] * (6 * 32))
    sizes = (1, 7, 32, 20, 3, 32, 11, 30, 25, 32, 5, 17) * 3
    got_t = array("i", [0] * sum(sizes))  # made once: a growing list fragments a 192k heap
    got = 0
    k = 0
    wraps = 0
    true_us = 0
    for m in sizes:
        for _ in range(m):  # m samples arrive; the clock runs to the last one's time
            p = physical(k)
            chip.push(to_raw(p[0], acc), to_raw(p[1], acc), to_raw(p[2], acc),
                      to_raw(p[3], gyr), to_raw(p[4], gyr), to_raw(p[5], gyr))
            k += 1
            nxt = k * 1000000 // rate
            before = clock.now
            clock.advance(nxt // 1000 - true_us // 1000)
            if clock.now < before:
                wraps += 1
            true_us = nxt
        if locked:
            lock()
        try:
            n = board.read_into(times, samples)
        finally:
            if locked:
                unlock()
        assert n == m, (n, m)
        for i in range(n):
            p = physical(got)
            for a in range(6):
                out = samples[6 * i + a]
                assert close(out, p[a], acc if a < 3 else gyr), (board_name, a, out, p[a])
            got_t[got] = times[i]
            got += 1
    assert wraps >= 1, wraps
    assert board.dropped == 0
    # times: strictly increasing, evenly spaced at the ODR (within the 1 ms stamping grain)
    per = 1000 // rate
    for i in range(1, got):
        d = got_t[i] - got_t[i - 1]
        assert per - 1 <= d <= per + 2, (i, d, per)
    assert got == len(got_t)
    span = got_t[-1] - got_t[0]
    ideal = (len(got_t) - 1) * 1000 // rate
    assert abs(span - ideal) <= 2, (span, ideal)
    # overflow: far more than the FIFO holds, then read it all
    for j in range(400):
        chip.push(1, 2, 3, 4, 5, 6)
    clock.advance(400 * 1000 // rate)
    total = 0
    while True:
        n = board.read_into(times, samples)
        if n == 0:
            break
        total += n
    assert chip.overwritten > 0
    assert board.dropped >= 1, board.dropped
    assert times[0] > got_t[-1]
    return "%s %s %d Hz %d samples %d wraps, after overflow %d read, dropped %d" % (
        board_name, board.sensor, rate, len(got_t), wraps, total, board.dropped)


import gc
locked = lock is not None and sys.implementation.name == "micropython"
if locked:  # the lock is real: an allocation under it fails
    lock()
    try:
        x = [0] * 100
        unlock()
        raise AssertionError("heap_lock did not stop an allocation")
    except MemoryError:
        unlock()
for name, cls, acc, gyr in CASES:
    gc.collect()
    print(run(name, cls, acc, gyr, 1000, 900, locked))          # wraps about every second
    print(run(name, cls, acc, gyr, 1 << 30, (1 << 30) - 50, locked))  # a board's ticks_ms


# config: round trip and errors (both interpreters)
path = sys.argv[1] + "/config.json"
cfg = {"board": "pico_mpu6050", "region": "left_wrist", "name": "bench", "device_id": 77,
       "rate_hz": 100, "accel_range_g": 8, "gyro_range_dps": 1000,
       "detector": {"rest_mg": 60}, "log_max_bytes": 65536}
config.save(path, cfg)
config.save(path, cfg)  # over an existing file
back = config.load(path)
for key in cfg:
    assert back[key] == cfg[key], (key, back[key])
print("round trip", sorted(back.items()))
d = config.load(sys.argv[1] + "/missing.json")
assert d["region"] == "unknown" and d["log_max_bytes"] == 262144 and d["device_id"] >= 1
print("defaults", d["region"], d["log_max_bytes"], d["rate_hz"])
for bad, words in (({"board": "arduino_uno"}, ("board", "arduino_uno", "pico_lsm6dsox")),
                   ({"region": "head"}, ("region", "head", "left_wrist")),
                   ({"board": "pico_mpu6050", "rate_hz": 208}, ("rate_hz", "208", "200")),
                   ({"board": "xiao_nrf52840_sense", "rate_hz": 200}, ("rate_hz", "208")),
                   ({"gyro_range_dps": 3000}, ("gyro_range_dps", "2000")),
                   ({"detector": {"rest_mg": 1}}, ("rest_mg", "5..500")),
                   ({"detector": {"nope": 1}}, ("nope",)),
                   ({"colour": "red"}, ("colour", "region")),
                   ({"device_id": 1 << 30}, ("device_id",)),
                   ({"log_max_bytes": 10}, ("log_max_bytes",))):
    try:
        config.validate(bad)
    except ValueError as e:
        msg = str(e)
        for w in words:
            assert w in msg, (w, msg)
        print("error:", msg[:60])
    else:
        raise AssertionError("accepted %r" % (bad,))
'''


def _cpython(tmp):
    prelude = "import sys\nsys.path[:0] = [%r, %r]\n" % (FIRMWARE_DIR, FAKES_DIR)
    p = subprocess.run([sys.executable, "-c", prelude + SCRIPT, str(tmp)], capture_output=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr.decode()[-3000:]
    return p.stdout


def test_micropython_and_cpython_agree(tmp_path):
    (tmp_path / "mp").mkdir()
    (tmp_path / "cp").mkdir()
    mp = run_micropython(SCRIPT, str(tmp_path / "mp"))
    cp = _cpython(tmp_path / "cp")
    assert mp.count(b"samples") == 8
    assert mp.count(b"error:") == 10
    assert mp == cp


# --- CPython only ---------------------------------------------------------------------


def _bus(chip_cls, addr=None):
    bus = fake_imu.FakeI2C(0)
    bus.attach(chip_cls(), addr)
    return bus


CHIP_OF = {"LSM6DS3TR-C": fake_imu.FakeLSM6DS3TRC, "LSM6DSOX": fake_imu.FakeLSM6DSOX,
           "MPU-6050": fake_imu.FakeMPU6050, "MPU6886": fake_imu.FakeMPU6886}


@pytest.mark.parametrize("name", sorted(hardware.BOARDS))
def test_make_board_every_board(name):
    b = hardware.BOARDS[name]
    bus = _bus(CHIP_OF[b["chip"]], b["imu_addr"])
    board = hardware.make_board({"board": name}, i2c=bus, clock=fake_clock.FakeClock())
    drv = lsm6.LSM6 if b["driver"] == "lsm6" else mpu6.MPU6
    assert isinstance(board.imu, drv)
    assert board.sensor == b["chip"] and board.name == name
    assert board.rate_hz == b["rate_hz"]
    assert board.imu.accel_range_g == 16 and board.imu.gyro_range_dps == 2000
    assert board.imu.addr == b["imu_addr"]
    # config values override the board's
    board = hardware.make_board({"board": name, "rate_hz": 100 if b["driver"] == "mpu6" else 104,
                               "accel_range_g": 8}, i2c=_bus(CHIP_OF[b["chip"]], b["imu_addr"]),
                              clock=fake_clock.FakeClock())
    assert board.rate_hz in (100, 104) and board.imu.accel_range_g == 8


def test_make_board_wrong_or_missing_chip():
    with pytest.raises(ValueError, match="expects an LSM6DSOX but an LSM6DS3TR-C"):
        hardware.make_board({"board": "pico_lsm6dsox"}, i2c=_bus(fake_imu.FakeLSM6DS3TRC))
    with pytest.raises(OSError):
        hardware.make_board({"board": "m5stickc_plus2"}, i2c=fake_imu.FakeI2C(0))
    with pytest.raises(ValueError, match="unknown board 'x'"):
        hardware.make_board({"board": "x"}, i2c=fake_imu.FakeI2C(0))
    with pytest.raises(ValueError, match="not recognised"):
        hardware.make_board({"board": "auto"}, i2c=fake_imu.FakeI2C(0))


def test_board_data_matches_hardware_pages():
    x = hardware.BOARDS["xiao_nrf52840_sense"]
    assert (x["i2c_id"], x["sda"], x["scl"], x["imu_addr"], x["imu_pwr"]) == (1, 7, 27, 0x6A, 40)
    assert (x["led"], x["led_on"], x["button"], x["wdt_ms"], x["rtc"]) == (26, 0, None, None, None)
    m = hardware.BOARDS["m5stickc_plus2"]
    assert (m["sda"], m["scl"], m["imu_addr"], m["button"], m["button_pull"], m["rtc"]) == \
        (21, 22, 0x68, 37, None, 0x51)
    p = hardware.BOARDS["pico_lsm6dsox"]
    assert (p["sda"], p["scl"], p["button"], p["button_pull"], p["led"]) == (4, 5, 15, "up", 25)
    assert hardware.BOARDS["picow_mpu6050"]["led"] == "LED"
    n = hardware.BOARDS["nano_rp2040_connect"]
    assert (n["sda"], n["scl"], n["led"], n["imu"]) == (12, 13, 6, "lsm6dsox")


def test_guess_board():
    g = hardware.guess_board
    assert g("Seeed XIAO nRF52840 Sense with NRF52840") == "xiao_nrf52840_sense"
    assert g("Raspberry Pi Pico with RP2040") == "pico_lsm6dsox"
    assert g("Raspberry Pi Pico 2 W with RP2350") == "picow_lsm6dsox"
    assert g("Arduino Nano RP2040 Connect with RP2040") == "nano_rp2040_connect"
    assert g("Generic ESP32 module with ESP32") is None


class FakePin:
    OUT, IN, PULL_UP = 1, 0, 2

    def __init__(self, pin, mode, pull=None, value=None):
        self.pin, self.mode, self.pull, self.v = pin, mode, pull, value

    def value(self, v=None):
        if v is None:
            return self.v
        self.v = v


def test_led_and_button_levels():
    led = hardware.Led(hardware.BOARDS["xiao_nrf52840_sense"], FakePin)  # active low
    assert led._pin.v == 1
    led.set(True)
    assert led._pin.v == 0
    led.set(False)
    assert led._pin.v == 1
    btn = hardware.Button(hardware.BOARDS["pico_lsm6dsox"], FakePin)
    assert btn._pin.pull == FakePin.PULL_UP
    btn._pin.v = 1
    assert not btn.pressed()
    btn._pin.v = 0
    assert btn.pressed()
    assert not hardware.Button(hardware.BOARDS["nano_rp2040_connect"], FakePin).pressed()
    assert hardware.Button(hardware.BOARDS["m5stickc_plus2"], FakePin)._pin.pull is None


def test_fake_clock_wraps():
    c = fake_clock.FakeClock(1000, 990)
    a = c.ticks_ms()
    c.advance(25)
    assert c.ticks_ms() == 15 and c.ticks_diff(c.ticks_ms(), a) == 25
    assert c.ticks_diff(a, c.ticks_ms()) == -25 and c.ticks_add(990, 25) == 15
    s = fake_clock.SystemClock()
    a = s.ticks_ms()
    b = s.ticks_ms()  # read after a: the same ms or later, never earlier
    assert 0 <= s.ticks_diff(b, a) <= 1000


def test_off_micropython_the_clock_is_injected():
    """The firmware has no clock of its own off a board: CPython callers pass one."""
    with pytest.raises(ValueError, match="no ticks_ms: pass clock="):
        hardware.make_board({"board": "pico_mpu6050"}, i2c=_bus(fake_imu.FakeMPU6050))
    with pytest.raises(ValueError, match="no ticks_ms"):
        board_imu.default_clock()


def test_uptime_over_many_wraps():
    """Reads every 300 ms on a clock wrapping every 1000 ms: uptime keeps counting."""
    bus = _bus(fake_imu.FakeLSM6DSOX)
    clock = fake_clock.FakeClock(1000, 0)
    board = hardware.make_board({"board": "pico_lsm6dsox"}, i2c=bus, clock=clock)
    from array import array
    t, s = array("i", [0] * 32), array("h", [0] * 192)
    for _ in range(100):
        clock.advance(300)
        board.read_into(t, s)
    assert board.uptime_ms == 30000


def test_times_stay_increasing_when_reads_jitter():
    bus = fake_imu.FakeI2C(0)
    chip = bus.attach(fake_imu.FakeMPU6050())
    clock = fake_clock.FakeClock(1 << 30, 0)
    board = hardware.make_board({"board": "pico_mpu6050"}, i2c=bus, clock=clock)
    from array import array
    t, s = array("i", [0] * 32), array("h", [0] * 192)
    out = []
    for step, m in enumerate((10, 10, 10, 10)):
        chip.push_many([(0, 0, 1000, 0, 0, 0)] * m)
        clock.advance((50, 20, 80, 50)[step])  # read late, then early
        n = board.read_into(t, s)
        out.extend(t[:n])
    assert all(b > a for a, b in zip(out, out[1:]))


def test_read_into_rejects_short_times():
    board = hardware.make_board({"board": "pico_mpu6050"}, i2c=_bus(fake_imu.FakeMPU6050),
                              clock=fake_clock.SystemClock())
    from array import array
    with pytest.raises(ValueError):
        board.read_into(array("i", [0] * 4), array("h", [0] * 48))


def test_config_files(tmp_path):
    p = str(tmp_path / "c.json")
    with open(p, "w") as f:
        f.write("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        config.load(p)
    with open(p, "w") as f:
        json.dump(["a"], f)
    with pytest.raises(ValueError, match="JSON object"):
        config.load(p)
    # a save interrupted on FAT (old file removed, tmp not yet renamed) is recovered
    q = str(tmp_path / "d.json")
    with open(q + ".tmp", "w") as f:
        json.dump({"region": "trunk"}, f)
    assert config.load(q)["region"] == "trunk"
    # only given keys are stored; nothing left behind
    config.save(q, {"region": "ankle"})
    assert json.load(open(q)) == {"region": "ankle"}
    assert not os.path.exists(q + ".tmp")
    with pytest.raises(ValueError):
        config.save(q, {"region": "head"})
    assert json.load(open(q)) == {"region": "ankle"}


def test_config_device_id():
    assert config.device_id_from(b"\x01\x02\x03\x04\x05\x06\x07\x08") == \
        (0x04030201 ^ 0x08070605) & 0x3FFFFFFF
    assert config.device_id_from(b"\x00" * 8) == 1
    assert config.device_id_from(b"\xff" * 6) <= 0x3FFFFFFF
    assert config.load("/nonexistent/x.json")["device_id"] == 1  # no machine on CPython
    assert config.validate({"detector": {"rest_mg": 5}})["detector"] == {"rest_mg": 5}
