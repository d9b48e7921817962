"""Tests for jerklog_firmware's lsm6.py and mpu6.py against the register-level fake chips of
tests/firmware/fakes/fake_imu.py.

The drivers are imported from the package jerklog_firmware, as on the board. The allocation
test runs a script under the MicroPython unix port (``micropython`` on PATH or next to
``sys.executable``) with the heap locked around every ``read_into``; the same script under
CPython must print the same.
"""

import os
import subprocess
import sys
from array import array

import pytest

from conftest import FAKES_DIR
from jerklog.firmware import FIRMWARE_DIR
from jerklog.sim.device import find_micropython
from jerklog_firmware import lsm6, mpu6

sys.path.insert(0, FAKES_DIR)

import fake_imu  # noqa: E402

# (fake chip class, driver class, chip name, default address, alternate address,
#  FIFO depth in complete samples when the FIFO is full)
CHIPS = [
    (fake_imu.FakeLSM6DSOX, lsm6.LSM6, "LSM6DSOX", 0x6A, 0x6B, 256),
    (fake_imu.FakeLSM6DS3TRC, lsm6.LSM6, "LSM6DS3TR-C", 0x6A, 0x6B, 341),
    (fake_imu.FakeMPU6050, mpu6.MPU6, "MPU-6050", 0x68, 0x69, 85),
    (fake_imu.FakeMPU6886, mpu6.MPU6, "MPU6886", 0x68, 0x69, 73),
]
IDS = [c[2] for c in CHIPS]


def make(fake_cls, drv_cls, addr=None, fake_kw=None, **kw):
    bus = fake_imu.FakeI2C(0)
    chip = bus.attach(fake_cls(**(fake_kw or {})), addr)
    return bus, chip, drv_cls(bus, **kw)


def sample(i):
    """Deterministic raw int16 sample number i; covers the full int16 range."""
    return tuple(((i * 7919 + a * 104729 + (i * i) * (a + 3)) % 65536) - 32768 for a in range(6))


def drain(imu, k=32):
    """Read everything currently in the FIFO with an array of k samples."""
    buf = array("h", [0] * (6 * k))
    out = []
    while True:
        n = imu.read_into(buf)
        assert 0 <= n <= k
        if n == 0:
            return out
        out.extend(tuple(buf[6 * j : 6 * j + 6]) for j in range(n))


# --- (1) identification ------------------------------------------------------


@pytest.mark.parametrize("fake_cls,drv_cls,name,addr,alt,depth", CHIPS, ids=IDS)
def test_identify_and_configure(fake_cls, drv_cls, name, addr, alt, depth):
    bus, chip, imu = make(fake_cls, drv_cls)
    assert imu.chip == name
    assert imu.addr == addr
    assert imu.fifo_samples == depth
    assert imu.overflows == 0
    assert imu.accel_range_g == chip.accel_fs_g == 8
    assert imu.gyro_range_dps == chip.gyro_fs_dps == 2000
    if drv_cls is lsm6.LSM6:
        assert imu.rate_hz == 208
        assert chip.accel_odr_hz == chip.gyro_odr_hz == 208
        assert chip.fifo_mode == "continuous"
        if name == "LSM6DSOX":
            assert chip.fifo_bdr_hz == (208, 208)
        else:
            assert chip.fifo_odr_hz == 208
    else:
        assert imu.rate_hz == 250  # 1 kHz / (1 + 3): first rate >= 208
        assert chip.odr_hz == 250
        assert chip.fifo_enabled
    # found by scanning at the alternate address too
    _, _, imu2 = make(fake_cls, drv_cls, addr=alt)
    assert imu2.addr == alt and imu2.chip == name


@pytest.mark.parametrize("fake_cls,drv_cls,name,addr,alt,depth", CHIPS, ids=IDS)
def test_wrong_id(fake_cls, drv_cls, name, addr, alt, depth):
    with pytest.raises(ValueError) as e:
        make(fake_cls, drv_cls, fake_kw={"who_am_i": 0x12})
    msg = str(e.value)
    assert "WHO_AM_I 0x12" in msg and "0x%02X" % addr in msg and "FakeI2C(0)" in msg


@pytest.mark.parametrize("drv_cls,addr", [(lsm6.LSM6, 0x6A), (mpu6.MPU6, 0x68)],
                         ids=["LSM6", "MPU6"])
def test_no_chip(drv_cls, addr):
    bus = fake_imu.FakeI2C(0)
    with pytest.raises(OSError) as e:
        drv_cls(bus, addr=addr)
    assert "no chip at 0x%02X on FakeI2C(0)" % addr in str(e.value)
    with pytest.raises(OSError) as e:  # addr=None: nothing found by scan
        drv_cls(bus)
    assert "no chip" in str(e.value) and "FakeI2C(0)" in str(e.value)
    # a chip of the other family on the bus is not picked up
    other = fake_imu.FakeMPU6050() if drv_cls is lsm6.LSM6 else fake_imu.FakeLSM6DSOX()
    bus.attach(other)
    with pytest.raises(OSError):
        drv_cls(bus)


@pytest.mark.parametrize(
    "drv_cls,fake_cls,asked,got",
    [
        (lsm6.LSM6, fake_imu.FakeLSM6DSOX, 1, 26),
        (lsm6.LSM6, fake_imu.FakeLSM6DSOX, 104, 104),
        (lsm6.LSM6, fake_imu.FakeLSM6DS3TRC, 500, 833),
        (lsm6.LSM6, fake_imu.FakeLSM6DS3TRC, 6666, 6666),
        (mpu6.MPU6, fake_imu.FakeMPU6050, 100, 100),
        (mpu6.MPU6, fake_imu.FakeMPU6886, 300, 500),
        (mpu6.MPU6, fake_imu.FakeMPU6050, 1000, 1000),
    ],
)
def test_rate_selection(drv_cls, fake_cls, asked, got):
    _, chip, imu = make(fake_cls, drv_cls, rate_hz=asked)
    assert imu.rate_hz == got
    assert (chip.accel_odr_hz if drv_cls is lsm6.LSM6 else chip.odr_hz) == got


@pytest.mark.parametrize("drv_cls,fake_cls", [(lsm6.LSM6, fake_imu.FakeLSM6DSOX),
                                              (mpu6.MPU6, fake_imu.FakeMPU6886)])
def test_bad_config(drv_cls, fake_cls):
    for kw in ({"rate_hz": 7000}, {"rate_hz": 0}, {"accel_range_g": 32},
               {"gyro_range_dps": 4000}, {"batch": 0}):
        with pytest.raises(ValueError):
            make(fake_cls, drv_cls, **kw)


# Datasheet sensitivities: ST mg/LSB and mdps/LSB; InvenSense LSB/g and LSB/(deg/s).
SCALES = [
    (lsm6.LSM6, fake_imu.FakeLSM6DSOX, 2, 125, 0.061, 4.375 / 100),
    (lsm6.LSM6, fake_imu.FakeLSM6DS3TRC, 16, 2000, 0.488, 70 / 100),
    (lsm6.LSM6, fake_imu.FakeLSM6DSOX, 8, 500, 0.244, 17.5 / 100),
    (mpu6.MPU6, fake_imu.FakeMPU6050, 2, 250, 1000 / 16384, 10 / 131),
    (mpu6.MPU6, fake_imu.FakeMPU6886, 16, 2000, 1000 / 2048, 10 / 16.4),
    (mpu6.MPU6, fake_imu.FakeMPU6050, 4, 1000, 1000 / 8192, 10 / 32.8),
]


@pytest.mark.parametrize("drv_cls,fake_cls,g,dps,mg_per_lsb,tenth_dps_per_lsb", SCALES)
def test_scales(drv_cls, fake_cls, g, dps, mg_per_lsb, tenth_dps_per_lsb):
    _, chip, imu = make(fake_cls, drv_cls, accel_range_g=g, gyro_range_dps=dps)
    assert chip.accel_fs_g == g and chip.gyro_fs_dps == dps
    for (num, shift), per_lsb in ((imu.accel_scale, mg_per_lsb),
                                  (imu.gyro_scale, tenth_dps_per_lsb)):
        assert isinstance(num, int) and isinstance(shift, int)
        assert 32768 * num < 2**30
        for raw in (-32768, -12345, -1, 0, 1, 999, 32767):
            assert abs(((raw * num) >> shift) - raw * per_lsb) <= 1 + abs(raw * per_lsb) * 2e-4


# --- (2) round trip ----------------------------------------------------------


@pytest.mark.parametrize("fake_cls,drv_cls,name,addr,alt,depth", CHIPS, ids=IDS)
@pytest.mark.parametrize("k,batch", [(32, 32), (7, 32), (50, 4), (1, 2)])
def test_roundtrip(fake_cls, drv_cls, name, addr, alt, depth, k, batch):
    _, chip, imu = make(fake_cls, drv_cls, batch=batch)
    n_push = min(70, depth)
    pushed = [sample(i) for i in range(n_push)]
    pushed[0] = (-32768, 32767, 0, -1, 1, -32768)
    chip.push_many(pushed)
    assert drain(imu, k) == pushed
    assert imu.read_into(array("h", [0] * 6)) == 0  # empty FIFO
    more = [sample(1000 + i) for i in range(5)]
    chip.push_many(more)
    assert drain(imu, k) == more
    assert imu.overflows == 0


def test_dsox_pairs_words_in_either_order():
    _, chip, imu = make(fake_imu.FakeLSM6DSOX, lsm6.LSM6, fake_kw={"gyro_first": False})
    pushed = [sample(i) for i in range(40)]
    chip.push_many(pushed)
    assert drain(imu, 3) == pushed
    assert imu.overflows == 0


def test_dsox_carries_half_sample_between_reads():
    # An odd number of words in the FIFO (a gyro word whose accel word is not
    # there yet) must not be lost or mispaired.
    bus, chip, imu = make(fake_imu.FakeLSM6DSOX, lsm6.LSM6)
    pushed = [sample(i) for i in range(3)]
    chip.push_many(pushed)
    buf = bytearray(7)
    bus.readfrom_mem_into(0x6A, 0x78, buf)  # host reads one word: the first gyro word
    assert buf[0] >> 3 == 1
    got = drain(imu, 2)  # FIFO now starts with an orphan accel word
    assert got == pushed[1:]
    assert imu.overflows == 1  # the dropped half sample is counted as lost


def test_ds3trc_realigns_on_fifo_pattern():
    # If the FIFO head is not at Gx (FIFO_PATTERN != 0) the partial sample is
    # skipped and counted as lost; the rest is read aligned.
    bus, chip, imu = make(fake_imu.FakeLSM6DS3TRC, lsm6.LSM6)
    pushed = [sample(i) for i in range(5)]
    chip.push_many(pushed)
    bus.readfrom_mem_into(0x6A, 0x3E, bytearray(2))  # host reads one word (Gx of sample 0)
    assert bus.readfrom_mem(0x6A, 0x3C, 2) == bytes((1, 0))  # FIFO_PATTERN = 1
    assert drain(imu, 4) == pushed[1:]
    assert imu.overflows == 1


# --- (3) overflow ------------------------------------------------------------


@pytest.mark.parametrize("fake_cls,drv_cls,name,addr,alt,depth", CHIPS, ids=IDS)
@pytest.mark.parametrize("extra", [1, 7, 500])
def test_overflow_keeps_newest(fake_cls, drv_cls, name, addr, alt, depth, extra):
    _, chip, imu = make(fake_cls, drv_cls)
    pushed = [sample(i) for i in range(depth + extra + 1)]
    chip.push_many(pushed)
    assert chip.overwritten > 0
    got = drain(imu, 32)
    assert imu.overflows > 0
    # continuous / overwrite mode: the newest samples survive, in order
    assert got == pushed[-len(got) :]
    assert len(got) >= depth - 1
    # later samples read normally, with no new overflow counted
    before = imu.overflows
    more = [sample(5000 + i) for i in range(20)]
    chip.push_many(more)
    assert drain(imu, 32) == more
    assert imu.overflows == before


@pytest.mark.parametrize("fake_cls,drv_cls,name,addr,alt,depth", CHIPS[:2], ids=IDS[:2])
def test_full_but_not_overflowed(fake_cls, drv_cls, name, addr, alt, depth):
    # (ST parts only: 1024 bytes is not a whole number of MPU records, so a
    # full MPU FIFO has always overflowed.)
    _, chip, imu = make(fake_cls, drv_cls)
    pushed = [sample(i) for i in range(depth)]  # exactly fills the FIFO
    chip.push_many(pushed)
    assert drain(imu, 32) == pushed
    assert imu.overflows == 0


def test_overflow_between_partial_reads():
    # Read a little, overflow, read again: nothing stale is paired with new data.
    for fake_cls, drv_cls, name, addr, alt, depth in CHIPS:
        _, chip, imu = make(fake_cls, drv_cls)
        chip.push_many(sample(i) for i in range(10))
        buf = array("h", [0] * 18)
        assert imu.read_into(buf) == 3
        pushed = [sample(100 + i) for i in range(3 * depth)]
        chip.push_many(pushed)
        got = drain(imu, 16)
        assert imu.overflows >= 1, name
        assert got == pushed[-len(got) :], name
        assert len(got) >= depth - 1, name


def test_fake_stop_when_full_modes():
    # The fakes' non-overwriting modes keep the oldest data (datasheets: LSM6DSOX
    # FIFO mode 001 stops collecting when full; MPU6886 CONFIG FIFO_MODE = 1
    # does not write to a full FIFO).  The drivers never select these modes.
    bus, chip, imu = make(fake_imu.FakeLSM6DSOX, lsm6.LSM6)
    bus.writeto_mem(0x6A, 0x0A, bytes((0x01,)))  # FIFO_CTRL4: FIFO mode
    pushed = [sample(i) for i in range(300)]
    chip.push_many(pushed)
    assert chip.fifo_words == 512
    assert drain(imu) == pushed[:256]
    bus, chip, imu = make(fake_imu.FakeMPU6886, mpu6.MPU6)
    bus.writeto_mem(0x68, 0x1A, bytes((0x40 | bus.readfrom_mem(0x68, 0x1A, 1)[0],)))
    chip.push_many(pushed[:100])
    assert chip.fifo_bytes == 73 * 14
    assert bus.readfrom_mem(0x68, 0x3A, 1)[0] & 0x10  # FIFO_OFLOW_INT
    assert bus.readfrom_mem(0x68, 0x3A, 1)[0] == 0  # cleared by the read
    assert drain(imu) == pushed[:73]


# --- (4) + (5) no allocation under MicroPython, same results as CPython -------

ALLOC_SCRIPT = r"""
import sys
sys.path.insert(0, sys.argv[1])
from array import array
import fake_imu
from jerklog_firmware import lsm6, mpu6
try:
    from micropython import heap_lock, heap_unlock
except ImportError:
    def heap_lock():
        pass
    def heap_unlock():
        pass

BATCHES = 300
K = 24

def value(seq, axis):
    if axis == 0:
        return seq & 0x7FFF  # sequence marker
    return ((seq * 40503 + axis * 9973 + seq * seq * axis) & 0xFFFF) - 32768

def run(name, fake, drv):
    bus = fake_imu.FakeI2C(1)
    chip = bus.attach(fake)
    imu = drv(bus, rate_hz=416, batch=16)
    buf = array("h", [0] * (6 * K))
    x = 12345
    seq = 0
    expect = 0
    got = gaps = bad = 0
    check = 0
    for b in range(BATCHES):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        m = (x >> 16) % 40
        if b % 100 == 60:
            m = 700  # well past the FIFO depth of every chip
        for i in range(m):
            chip.push(*[value(seq, k) for k in range(6)])
            seq += 1
        heap_lock()
        try:
            n = imu.read_into(buf)
        finally:
            heap_unlock()
        for j in range(n):
            s = buf[6 * j]
            if s != expect:
                gaps += 1
            for a in range(6):
                v = buf[6 * j + a]
                if v != value(s, a):
                    bad += 1
                check = (check * 31 + v) & 0x3FFFFFFF
            expect = s + 1
        got += n
    print(name, "pushed", seq, "read", got, "gaps", gaps, "bad", bad, "overflows",
          imu.overflows, "check", check)

run("LSM6DSOX", fake_imu.FakeLSM6DSOX(), lsm6.LSM6)
run("LSM6DSOX-accel-first", fake_imu.FakeLSM6DSOX(gyro_first=False), lsm6.LSM6)
run("LSM6DS3TR-C", fake_imu.FakeLSM6DS3TRC(), lsm6.LSM6)
run("MPU-6050", fake_imu.FakeMPU6050(), mpu6.MPU6)
run("MPU6886", fake_imu.FakeMPU6886(), mpu6.MPU6)
print("done")
"""


def run_script(exe, tmp_path, *args):
    script = tmp_path / "alloc_check.py"
    script.write_text(ALLOC_SCRIPT)
    env = dict(os.environ, MICROPYPATH=FIRMWARE_DIR)
    return subprocess.run(
        [exe, *args, str(script), FAKES_DIR],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def mp_and_cpython(tmp_path_factory):
    exe = find_micropython()  # the project's lookup; a clear error if it is missing
    tmp = tmp_path_factory.mktemp("alloc")
    mp = run_script(exe, tmp, "-X", "heapsize=192k")
    cp = run_script(sys.executable, tmp)
    return mp, cp


def test_read_into_does_not_allocate_under_micropython(mp_and_cpython):
    mp, _ = mp_and_cpython
    assert mp.returncode == 0, mp.stdout + mp.stderr
    assert "MemoryError" not in mp.stderr
    lines = mp.stdout.split("\n")
    assert lines[-2] == "done"
    for line in lines[:-2]:
        f = line.split()
        stats = dict(zip(f[1::2], (int(v) for v in f[2::2])))
        assert stats["read"] > 2000, line
        assert stats["bad"] == 0, line
        assert 0 < stats["gaps"] <= stats["overflows"], line


def test_cpython_and_micropython_agree(mp_and_cpython):
    mp, cp = mp_and_cpython
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert mp.stdout == cp.stdout
