"""Every int on the board's hot path stays a 31-bit small int, so nothing allocates on the
boards (rp2, nrf, esp32) although the unix port (63-bit small ints) would not show it.

The hot path of tests/firmware/test_hot_path.py (FIFO bytes from the fake chip -> driver ->
scaling and time stamps -> detector -> frames -> log append, evidence and epochs, heartbeats,
the hello every 30 s, raw streaming, a trigger mark) runs under CPython on the firmware
rewritten by tests/firmware/smallints.py, with every id, counter and clock near its limit:
device and boot id 2**30-1, a sequence number and an uptime close to 2**30, ticks that wrap.
"""
import ast
import os
import sys

import pytest

from jerklog.firmware import PACKAGE_DIR

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "fakes"))

import fake_clock  # noqa: E402
import fake_imu  # noqa: E402
import smallints  # noqa: E402

MAX = smallints.SMALL_MAX


@pytest.fixture
def firmware31():
    package, checker = smallints.load_package(PACKAGE_DIR)
    mods = {m: smallints.import_module(package, m)
            for m in ("app", "detector", "eventlog", "hardware", "protocol")}
    yield mods, checker
    smallints.unload(package)


def test_the_checker_sees_a_masked_u32(firmware31):
    """The old heartbeat packed `uptime & 0xFFFFFFFF`: a long operand, so a long int on a
    board even for uptime 5. The checker flags that, and passes the two-halves form."""
    mods, checker = firmware31
    protocol = mods["protocol"]
    out = []
    w = protocol.FrameWriter(lambda buf, n: out.append(bytes(buf[:n])), 1, 2)
    checker.active = True
    w.heartbeat(5, MAX, 0, 7)
    checker.active = False
    assert checker.report() == []
    src = "def f(t):\n    return t & 0xFFFFFFFF\n"
    tree = smallints._Rewrite(checker, "snippet", src).visit(ast.parse(src))
    ast.fix_missing_locations(tree)
    ns = {"__smallints__": checker}
    exec(compile(tree, "snippet", "exec"), ns)
    checker.active = True
    assert ns["f"](5) == 5
    checker.active = False
    assert checker.report() == ["snippet:2: t & 0xFFFFFFFF  (|v| up to 4294967295)"]


def test_the_hot_path_keeps_every_int_small_near_the_limits(firmware31, tmp_path):
    mods, checker = firmware31
    app, detector, eventlog = mods["app"], mods["detector"], mods["eventlog"]
    hardware, protocol = mods["hardware"], mods["protocol"]
    bus = fake_imu.FakeI2C(0)
    chip = bus.attach(fake_imu.FakeLSM6DS3TRC())
    clock = fake_clock.FakeClock(1 << 30, (1 << 30) - 3000)  # ticks wrap 3 s in
    board = hardware.make_board({"board": "xiao_nrf52840_sense"}, i2c=bus, clock=clock)
    # 12.4 days of uptime less 70 s: the last stretch the uptime counter stays a small int
    board.uptime_ms = MAX - 70000
    det = detector.Detector(board.rate_hz)
    frames = []
    w = protocol.FrameWriter(lambda buf, n: frames.append(bytes(buf[:n])), MAX, MAX)
    w.seq = MAX - 100000  # a sequence number close to its limit too
    log = eventlog.EventLog(str(tmp_path / "log"), max_bytes=65536, segment_bytes=16384)
    rec = app.BoardLoop(board, det, w, "trunk", 1700000000000, log)
    rec.hello(keep=True)
    G, JERK = 2049, 1229  # 1 g on +x and a 0.6 g jerk every 4 s, raw counts at +-16 g

    def run(k, seconds):
        end = k + seconds * 208
        while k < end:
            for _ in range(16):
                x = G + (JERK if k % 832 in (400, 401, 402, 403, 404, 405) else 0)
                chip.push(x, (k * 7) % 5 - 2, (k * 3) % 5 - 2, 1, -1, 0)
                k += 1
            clock.advance(77)
            checker.active = True
            rec.step()
            checker.active = False
        return k

    k = run(0, 5)  # the first 5 s: the detector's history fills, the log opens
    checker.active = True
    rec.handle({"command": protocol.CMD_RAW, "argument": 1})
    checker.active = False
    k = run(k, 10)      # with raw streaming
    rec.handle({"command": protocol.CMD_RAW, "argument": 0})
    k = run(k, 25)      # and without: 35 s checked, a hello every 30 s among them
    checker.active = True
    rec.trigger()
    checker.active = False
    assert checker.report() == []
    # the path did run: events, evidence, epochs, heartbeats, hellos, raw frames
    assert det.events >= 8 and rec.evidence_sent >= det.events and rec.epochs >= 7
    from jerklog.boards.decoder import FrameDecoder
    records = FrameDecoder().feed(b"".join(frames))
    kinds = [r["type"] for r in records]
    for kind in ("hello", "event", "heartbeat", "evidence", "epoch", "raw"):
        assert kind in kinds
    assert kinds.count("hello") >= 2
    assert records[-1]["seq"] == MAX - 100000 + len(records) - 1
    assert all(r["device_id"] == MAX == r["boot_id"] for r in records)
    assert max(r["uptime_ms"] for r in records if r["type"] == "heartbeat") > MAX - 40000
