"""A log dump must not starve the IMU FIFO (app.BoardLoop.dump_turn / dump_more).

Under MicroPython with a board-sized heap: an LSM6DS3TR-C fake chip at 416 Hz with its real
FIFO depth (341 samples, 820 ms; why not 833 Hz: RATE_HZ below), a fake clock, and a cost
model of the board's time: every byte written to USB costs WRITE_US, every sample the loop
processes SAMPLE_US, and the chip gets the samples of the time that passed. The loop is
main_board's (step, commands, dump_turn, nap). A full log of hundreds of records is dumped
while it runs: no FIFO overrun, every record arrives once, then one LOG_DUMPED with the
count and the last boot/seq; records appended during the dump stay in the log after the
host acknowledges the status, and that acknowledgement reads no log segment. The same dump
sent in one go (the firmware before: dump_all) overruns the FIFO in this model, so the model
can tell the difference.
"""
import pytest

from conftest import run_micropython
from jerklog.boards.decoder import FrameDecoder
from jerklog.firmware import protocol

# 416 Hz, not the top rate 833: at 833 Hz the sample ring (18 KB) and a full log's scan in
# count() (a 4 KB segment read) leave no room in 192 KB beside this test's fakes, with the
# dump sent either way (measured: MemoryError in EventLog.count at the dump's end).
RATE_HZ = 416

SCRIPT = """
import gc
from jerklog_firmware import detector
gc.collect()
import os, sys
import fake_clock, fake_imu
from jerklog_firmware import app, eventlog, hardware, protocol
gc.collect()

MODE = %r
RECORDS = 600        # logged before the dump (an evening untethered: hundreds)
WRITE_US = 40        # USB and framing cost of a byte (a slow emulated Pico's order)
SAMPLE_US = 200      # the per-sample path
RATE = %d

# The large buffers first, while the heap is in one piece (as main_board makes them).
try:
    os.mkdir("dumplog")
except OSError:
    pass
log = eventlog.EventLog("dumplog", max_bytes=262144)
bus = fake_imu.FakeI2C(0)
chip = bus.attach(fake_imu.FakeLSM6DS3TRC())
clock = fake_clock.FakeClock()
board = hardware.make_board({"board": "xiao_nrf52840_sense", "rate_hz": RATE}, i2c=bus,
                            clock=clock)
det = detector.Detector(RATE)
sink = [None]
w = protocol.FrameWriter(lambda buf, n: sink[0](buf, n), 5, 99)
gc.collect()
rec = app.BoardLoop(board, det, w, "trunk", 0, log, clock=clock)
t = [0, 0, 0]  # board time in us, samples pushed, us not yet on the clock
def spend(us):
    t[0] += us
    t[2] += us
    if t[2] >= 1000:
        clock.advance(t[2] // 1000)
        t[2] %%= 1000
    due = t[0] * RATE // 1000000
    while t[1] < due:
        chip.push(2049, 0, 0, 1, -1, 0)
        t[1] += 1
out = protocol.make_writer(sys.stdout.buffer)
def write(buf, n):
    out(buf, n)
    spend(n * WRITE_US)
sink[0] = write
old = protocol.FrameWriter(lambda b, n: None, 5, 77)  # an earlier boot's records
i = 0
while i < RECORDS:
    old.event(i * 100, 800, 40, 120, protocol.KIND_JERK, 90, protocol.CONTEXT_UNKNOWN,
              protocol.POSTURE_UNKNOWN, 255, 0)
    log.append(old.payload_buf, old.last_len)
    i += 1
    if i %% 50 == 0:
        gc.collect()
rec.hello(keep=True)
nap_ms = app.BATCH * 1000 // RATE // 2
turns = 0
overrun_at_dump = -1
started = False
while turns < 4000:
    n = rec.step()
    spend(n * SAMPLE_US)
    if turns == 50 and not started:
        started = True
        overrun_at_dump = board.dropped
        rec.handle({"command": protocol.CMD_LOG_DUMP, "argument": -1})
        if MODE == "second":  # a second request while the first runs: it is answered for
            #                   what it sent, then the dump starts over
            rec.dump_more(0)
            rec.dump_more(0)
            rec.handle({"command": protocol.CMD_LOG_DUMP, "argument": -1})
        if MODE == "sync":
            rec.dump_all()
    if started and rec.dumping and turns %% 3 == 0:
        rec.trigger()  # appended to the log while the dump reads it
    dumping = rec.dump_turn(n)
    if n < app.BATCH and not dumping:
        spend(nap_ms * 1000)
    turns += 1
    if started and not rec.dumping and turns > 60:
        break
# The host stored everything: it acknowledges up to the status's last record. Count the
# log segments that acknowledgement (and its LOG_ACKED status's count) opens to read.
reads = [0]
def counting_open(path, mode="r"):
    if "r" in mode and eventlog._parse_seg_name(path.split("/")[-1]) >= 0:
        reads[0] += 1
    return open(path, mode)
eventlog.open = counting_open
rec.handle({"command": protocol.CMD_LOG_ACK,
            "argument": protocol.log_cursor(rec._dump_boot, rec._dump_seq)})
del eventlog.open
print()
print("RESULT", overrun_at_dump, board.dropped, log.count(), RECORDS, reads[0])
"""


def _run(tmp_path, mode, rate=RATE_HZ):
    raw = run_micropython(SCRIPT % (mode, rate), cwd=str(tmp_path), timeout=300)
    body, _, tail = raw.rpartition(b"RESULT")
    before, after, left, logged, ack_reads = (int(v) for v in tail.split())
    return FrameDecoder().feed(body), before, after, left, logged, ack_reads


@pytest.mark.parametrize("mode", ["sliced", "second"])
def test_dump_of_a_full_log_keeps_up_with_the_fifo(tmp_path, mode):
    recs, before, after, left, logged, ack_reads = _run(tmp_path, mode)
    assert before == 0
    assert after == 0, "the FIFO overran %d times while the dump ran" % after
    old = [r["seq"] for r in recs if r.get("boot_id") == 77]
    statuses = [r for r in recs if r["type"] == "log_status"
                and r["reason"] == protocol.LOG_DUMPED]
    if mode == "second":  # the first request is answered for the part it sent
        assert len(statuses) == 2
        assert statuses[0]["records"] == 2
        assert (statuses[0]["last_boot"], statuses[0]["last_seq"]) == (77, old[1])
    else:
        assert len(statuses) == 1
    st = statuses[-1]
    # Every record of the earlier boot, once, in order (a second request: the first
    # request's two records, then the whole log again from its start).
    extra = 2 if mode == "second" else 0
    assert old[extra:] == list(range(old[extra], old[extra] + logged))
    assert len(old) == logged + extra
    # This boot's logged records (its hello, the trigger marks appended during the dump):
    # live, and a second time in the dump if they reached the log before the dump read the
    # segment they went to.
    live = [r["seq"] for r in recs if r.get("boot_id") == 99
            and r["type"] in ("hello", "event", "epoch")]
    logged_live = set(live)
    twice = {s for s in logged_live if live.count(s) == 2}
    assert len(logged_live) > 3  # trigger marks were appended while the dump ran
    assert st["records"] == logged + len(twice)
    last = (99, max(twice)) if twice else (77, old[-1])
    assert (st["last_boot"], st["last_seq"]) == last
    # After the ack of that status, what the dump did not send is still on the board.
    assert left == len(logged_live) - len(twice)
    assert left > 0
    # That acknowledgement named the dump's last record: it read no log segment (a whole
    # read of this log takes seconds on a board, away from the FIFO).
    assert ack_reads == 0


def test_the_same_dump_in_one_go_overruns_the_fifo(tmp_path):
    """The model's control: the dump as the firmware sent it before (all at once)."""
    recs, before, after, left, logged, _ = _run(tmp_path, "sync")
    assert before == 0
    assert after > 0
