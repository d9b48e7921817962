"""The acknowledgement after a log dump reads nothing (eventlog.EventLog.ack, _at_mark).

A records() pass keeps the position of the last record it yielded (the mark); an ack naming
exactly that record once the pass has ended (the host acknowledges a dump's last record)
moves the log there without reading a segment. These tests check that it moves the log
exactly as the reading path (_find) would, on a copy of the same directory: the same state
file bytes, the same segment files, the same count() and records; that it reads no segment
(segment opens for reading are counted); and that every other ack still reads and is right.
The last test runs the same under the real MicroPython unix port and times both paths.
"""
import os
import random
import shutil
import struct

import pytest

from conftest import run_micropython
from jerklog_firmware import eventlog, protocol

SEG = 512                      # 15 events a segment: dumps cross many segments
PER_SEG = (SEG - eventlog.SEG_HEAD) // (30 + eventlog.REC_OVERHEAD)


def event(boot, seq, device_id=7):
    """An EVENT payload as the firmware makes it (30 bytes)."""
    b = bytearray(protocol.HEADER_SIZE + struct.calcsize(protocol.EVENT_FMT))
    struct.pack_into(protocol.HEADER_FMT, b, 0, protocol.EVENT, device_id, boot, seq)
    struct.pack_into(protocol.EVENT_FMT, b, protocol.HEADER_SIZE,
                     seq * 1000 & 0xFFFFFFFF, 40, 900, 1200, 1, 2, 1, 2, 200, 30)
    return bytes(b)


def head(payload):
    """(device_id, boot_id, seq) of a payload."""
    return struct.unpack_from(protocol.HEADER_FMT, payload, 0)[1:]


@pytest.fixture
def reads(monkeypatch):
    """Counts the segment files eventlog opens for reading (state files are not counted)."""
    count = [0]
    real = open

    def counting_open(path, mode="r", *a, **k):
        if "r" in mode and eventlog._parse_seg_name(os.path.basename(path)) >= 0:
            count[0] += 1
        return real(path, mode, *a, **k)

    monkeypatch.setattr(eventlog, "open", counting_open, raising=False)
    return count


def open_log(root, max_bytes=64 * SEG):
    return eventlog.EventLog(str(root), max_bytes=max_bytes, segment_bytes=SEG)


def fill(log, boots, per_boot):
    """per_boot events of each boot, seqs with gaps (heartbeats are not logged)."""
    for b in boots:
        for s in range(per_boot):
            log.append(event(b, 1 + 2 * s))


def dump(log, every=0, during=None):
    """A whole records() pass, as the board's dump: the payloads it yielded. during(k) is
    called after every `every`-th record (appends while the dump runs)."""
    sent = []
    for p in log.records():
        sent.append(bytes(p))
        if every and len(sent) % every == 0:
            during(len(sent))
    return sent


def state_of(root):
    """Everything ack changes on flash: the state file's bytes and the segment files."""
    root = str(root)
    files = {}
    for name in sorted(os.listdir(root)):
        with open(os.path.join(root, name), "rb") as f:
            files[name] = f.read()
    return files


def reference(root, boot, seq, device_id=7):
    """The same ack on a copy of the log directory, through _find (a fresh EventLog has no
    mark): (returned count, files after, count(), records after)."""
    copy = str(root) + ".ref"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(str(root), copy)
    ref = open_log(copy)
    assert ref._mark is None
    n = ref.ack(boot, seq, device_id)
    return n, state_of(copy), ref.count(), [bytes(p) for p in ref.records()]


def unacked(log):
    """The unacknowledged payloads, read without a records() pass (which would replace the
    mark of the pass under test)."""
    return [bytes(d[o:o + n]) for _s, _i, d, o, n, _t in log._entries()]


def check_same(log, root, n, ref):
    n_ref, files, count, recs = ref
    assert n == n_ref
    assert state_of(root) == files   # the same state file bytes, the same segments left
    assert log.count() == count == len(recs)
    assert unacked(log) == recs


@pytest.mark.parametrize("records", [3 * PER_SEG, 3 * PER_SEG + 7, 1, PER_SEG + 1])
def test_ack_after_a_full_dump_reads_nothing(tmp_path, reads, records):
    """records: the last record ends a segment (the whole segment is collected and
    removed), or is in the middle of one; a one-record log."""
    root = tmp_path / "log"
    log = open_log(root)
    for s in range(records):
        log.append(event(40 + s // 20, s))  # several boots
    sent = dump(log)
    assert len(sent) == records
    dev, boot, seq = head(sent[-1])
    ref = reference(root, boot, seq, dev)
    reads[0] = 0
    n = log.ack(boot, seq, dev)
    assert reads[0] == 0, "the ack read %d segments" % reads[0]
    assert n == records
    check_same(log, root, n, ref)
    assert log.count() == 0 and log.used_bytes == sum(
        len(v) for k, v in state_of(root).items() if k != "state")
    # the mark is used up: the same ack again changes nothing
    assert log.ack(boot, seq, dev) == 0
    log.append(event(99, 1))
    assert [bytes(p) for p in log.records()] == [event(99, 1)]


@pytest.mark.parametrize("every, reading", [(30, False), (9, True)])
def test_dump_counts_the_log_for_count(tmp_path, reads, every, reading):
    """After a whole pass, count() (the LOG_DUMPED status's pending, read whole at its first
    call after a boot) reads nothing either while the last segment the pass read is still the
    one appended to (records appended during the dump, every 30 sent); else (every 9: that
    segment filled up and a new one began before the pass read it) it reads, and is right."""
    root = tmp_path / "log"
    log = open_log(root)
    fill(log, (1, 2), 50)          # 6 full segments and 10 records
    log.close()
    log = open_log(root)           # a new boot: count() not yet known
    appended = []

    def during(k):
        log.append(event(3, k))
        appended.append(k)
    dump(log, every=every, during=during)
    reads[0] = 0
    assert log.count() == 100 + len(appended)
    assert (reads[0] > 0) == reading
    assert open_log(root).count() == 100 + len(appended)


@pytest.mark.parametrize("every, after, reading", [
    (4, 0, False), (4, 3, False), (4, PER_SEG, False), (4, 3 * PER_SEG + 2, False),
    (10, 0, False), (10, 2, False), (10, 3, True), (10, 3 * PER_SEG + 2, True)])
def test_ack_after_appends_during_and_after_the_dump(tmp_path, reads, every, after, reading):
    """Records appended while the dump runs (one every `every` records sent: to the segment
    it is reading and to new ones) and after it (`after` more, up to starting new segments)
    stay, and the ack moves the log as _find would. It reads nothing when the dump's last
    segment was full when read (every 4), or is still the one appended to (every 10, up to
    2 more); it reads (and is right) when that segment filled up after the dump read it
    (its record count is then not kept)."""
    root = tmp_path / "log"
    log = open_log(root)
    fill(log, (10, 11), 40)
    seq = [0]

    def during(k):
        seq[0] += 1
        log.append(event(12, seq[0]))
    sent = dump(log, every=every, during=during)
    assert len(sent) > 80   # some appended records were read by the dump, not all
    for _ in range(after):
        seq[0] += 1
        log.append(event(12, seq[0]))
    dev, boot, seq_last = head(sent[-1])
    ref = reference(root, boot, seq_last, dev)
    reads[0] = 0
    n = log.ack(boot, seq_last, dev)
    assert (reads[0] > 0) == reading
    assert n == len(sent)
    check_same(log, root, n, ref)
    left = [head(p) for p in log.records()]
    assert left and left[0][1:] == (12, seq_last + 1)  # what the dump did not send stays
    assert len(left) == seq[0] - seq_last


def test_ack_after_a_dump_that_drops_segments(tmp_path, reads):
    """A full log: appends during the dump drop its oldest segments (counted), behind the
    dump. A drop changes the state: the ack reads the log (_find), and is right."""
    root = tmp_path / "log"
    log = open_log(root, max_bytes=6 * SEG)
    fill(log, (20,), 6 * PER_SEG - 2)
    seq = [0]

    def during(k):
        for _ in range(3 if k > PER_SEG + 3 else 0):
            seq[0] += 1
            log.append(event(21, seq[0]))
    dropped = log.dropped
    sent = dump(log, every=5, during=during)
    assert log.dropped >= dropped + 2 * PER_SEG
    dev, boot, seq_last = head(sent[-1])
    ref = reference(root, boot, seq_last, dev)
    reads[0] = 0
    n = log.ack(boot, seq_last, dev)
    assert reads[0] > 0
    check_same(log, root, n, ref)


def test_other_acks_read_and_are_right(tmp_path, reads):
    """An older record, another boot, another device, an unlogged seq, a record never
    logged: the ack reads the log (_find) and moves it exactly as before."""
    root = tmp_path / "log"
    log = open_log(root)
    fill(log, (30, 31, 32), 25)
    sent = dump(log)
    dev, boot, seq = head(sent[-1])
    reads[0] = 0
    assert log.ack(boot, seq, dev + 1) == 0          # another device: nothing
    assert reads[0] > 0 and log.count() == 75
    root2 = tmp_path / "log2"
    cases = [(30, 9), (31, 49), (32, 48), (32, 47), (31, 2), (99, 1), (30, 0)]
    for boot, seq in cases:
        shutil.rmtree(str(root2), ignore_errors=True)
        log2 = open_log(root2)
        fill(log2, (30, 31, 32), 25)
        dump(log2)
        ref = reference(root2, boot, seq)
        reads[0] = 0
        n = log2.ack(boot, seq, 7)
        assert reads[0] > 0
        check_same(log2, root2, n, ref)


@pytest.mark.parametrize("ack1", ["none", "during", "after"])
def test_a_dump_interrupted_by_a_new_dump(tmp_path, reads, ack1):
    """Dump 1 sends part of the log and is closed by a new request (app.dump_log); dump 2
    sends it all. The host acknowledges dump 1's status (its last record) while dump 2 runs
    or after it ended, or never (its status lost); then dump 2's. Every ack moves the log as
    _find would; dump 2's reads nothing unless dump 1's ack changed the state meanwhile."""
    root = tmp_path / "log"
    log = open_log(root)
    fill(log, (50, 51), 30)
    it = log.records()
    first = [bytes(next(it)) for _ in range(20)]
    it.close()                               # the board: a second request replaces it
    it = log.records()
    second = [bytes(next(it)) for _ in range(5)]
    d1, b1, s1 = head(first[-1])

    def ack_first():
        ref = reference(root, b1, s1, d1)
        reads[0] = 0
        n = log.ack(b1, s1, d1)              # not a finished pass's last record: read
        assert reads[0] > 0 and n == 20
        check_same(log, root, n, ref)
    if ack1 == "during":
        ack_first()
    second += [bytes(p) for p in it]         # dump 2 ends
    assert second[:20] == first and len(second) == 60
    if ack1 == "after":
        ack_first()
    d2, b2, s2 = head(second[-1])
    ref = reference(root, b2, s2, d2)
    reads[0] = 0
    n = log.ack(b2, s2, d2)
    assert n == (60 if ack1 == "none" else 40)
    assert (reads[0] > 0) == (ack1 != "none")
    check_same(log, root, n, ref)
    assert log.count() == 0


@pytest.mark.parametrize("seed", range(6))
def test_the_mark_agrees_with_find(tmp_path, seed):
    """Random appends (seqs growing per boot, reboots), whole and partial dumps, acks of
    the mark and of other records, drops: whenever the mark answers, its answer is _find's,
    and count() stays the log's true count."""
    rng = random.Random(seed)
    root = tmp_path / "log"
    log = open_log(root, max_bytes=8 * SEG)
    boot, seq = 1, 0
    it = None
    last = None
    used = 0
    for step in range(600):
        r = rng.random()
        if r < 0.5:
            seq += rng.choice((1, 1, 2))
            log.append(event(boot, seq))
        elif r < 0.58:
            if it is not None:
                it.close()
            it = log.records()
            last = None
        elif r < 0.75 and it is not None:
            for _ in range(rng.randrange(1, 40)):
                try:
                    last = head(next(it))
                except StopIteration:
                    it = None
                    break
        elif r < 0.9:
            if last is not None and rng.random() < 0.7:
                dev, b, s = last
            else:
                b, s, dev = boot if rng.random() < 0.5 else boot - 1, rng.randrange(seq + 2), 7
            fast = log._at_mark(dev, b, s)
            if fast is not None:
                used += 1
                assert fast == log._find(dev, b, s), (step, fast)
            log.ack(b, s, dev)
        elif r < 0.92:
            log.close()
            log = open_log(root, max_bytes=8 * SEG)
            it = None
            last = None
            boot += 1
            seq = 0
        true = sum(1 for _ in log._entries())
        assert log.count() == true, step
    assert used > 5


MP_SCRIPT = """
import os, time
from jerklog_firmware import eventlog, protocol
N = %d
reads = [0]
real = open
def counting_open(path, mode="r"):
    if "r" in mode and eventlog._parse_seg_name(path.split("/")[-1]) >= 0:
        reads[0] += 1
    return real(path, mode)
eventlog.open = counting_open
w = protocol.FrameWriter(lambda b, n: None, 5, 77)
for name in ("a", "b"):
    try:
        os.mkdir(name)
    except OSError:
        pass
    log = eventlog.EventLog(name, max_bytes=262144)
    i = 0
    while i < N:
        w.seq = i
        w.event(i * 100, 800, 40, 120, protocol.KIND_JERK, 90, 0, 0, 255, 0)
        log.append(w.payload_buf, w.last_len)
        i += 1
    log.close()
last = None
log = eventlog.EventLog("a", max_bytes=262144)
for p in log.records():   # the dump
    last = p
hdr = eventlog.struct.unpack_from(protocol.HEADER_FMT, last, 0)
reads[0] = 0
t0 = time.ticks_us()
n = log.ack(hdr[2], hdr[3], hdr[1])
t_fast = time.ticks_diff(time.ticks_us(), t0)
r_fast = reads[0]
ref = eventlog.EventLog("b", max_bytes=262144)  # no dump: the ack reads the log
reads[0] = 0
t0 = time.ticks_us()
n2 = ref.ack(hdr[2], hdr[3], hdr[1])
t_find = time.ticks_diff(time.ticks_us(), t0)
r_find = reads[0]
same = real("a/state", "rb").read() == real("b/state", "rb").read()
print("RESULT", n, n2, r_fast, r_find, t_fast, t_find, int(same), log.count(), ref.count(),
      log.used_bytes, ref.used_bytes, len(os.listdir("a")), len(os.listdir("b")))
"""


def test_ack_after_a_dump_on_micropython(tmp_path):
    """Under micropython -X heapsize=192k: a ~100 KB log (3,000 events), dumped, then
    acknowledged at its last record: no segment read and the same log as the reading path
    on a copy; prints both times (docs/eventlog.md quotes them)."""
    out = run_micropython(MP_SCRIPT % 3000, cwd=str(tmp_path), timeout=300)
    line = [ln for ln in out.decode().splitlines() if ln.startswith("RESULT")][0].split()
    (n, n2, r_fast, r_find, t_fast, t_find, same, c1, c2, u1, u2, f1, f2) = (
        int(v) for v in line[1:])
    print("ack after a dump of 3,000 events: %d us (reads %d); reading: %d us (reads %d)"
          % (t_fast, r_fast, t_find, r_find))
    assert n == n2 == 3000
    assert r_fast == 0 and r_find > 20
    assert same and c1 == c2 == 0 and u1 == u2 and f1 == f2
    assert t_fast < t_find  # both remove the same 25 segment files; only one reads them
