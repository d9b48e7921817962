"""The recorder: frames among garbage, through a real pty, into the store, idempotently."""
import os
import pty
import random
import threading
import tty

import pytest

from jerklog import JerklogError
from jerklog.boards.decoder import FrameDecoder
from jerklog.boards.ingest import Ingest
from jerklog.boards.recorder import PortRecorder
from jerklog.firmware import protocol
from jerklog.store.database import Store

BANNER = b"MicroPython v1.24.1 on 2024-11-29; Raspberry Pi Pico with RP2040\r\n>>> "
TRACEBACK = (b"Traceback (most recent call last):\r\n  File \"main.py\", line 42, in <module>"
             b"\r\nOSError: [Errno 5] EIO\r\n")


def frames(n_events, device_id=3, boot_id=77, epoch_ms=1763677800000):
    """A hello, n events and a goodbye as a list of separate frame byte strings."""
    out = []
    w = protocol.FrameWriter(lambda buf, n: out.append(bytes(buf[:n])), device_id, boot_id)
    # A simulated clock: the hello's epoch is authoritative (host receive times are fake).
    w.hello(200, protocol.FLAG_GYRO | protocol.FLAG_VIRTUAL_CLOCK, epoch_ms, "0.1.0", "sim",
            "sim", "trunk")
    for i in range(n_events):
        w.event(1000 * (i + 1), 40 + i % 50, 200 + i, 300, protocol.KIND_JERK, 1,
                protocol.CONTEXT_REST, protocol.POSTURE_UPRIGHT, 128, 10)
        if i % 10 == 9:
            w.heartbeat(1000 * (i + 1) + 500, 200 * (i + 1), 0, i + 1)
    w.goodbye(protocol.GOODBYE_END_OF_RECORDING, 1000 * (n_events + 1), 0, 0, n_events)
    return out


def noisy_stream(frame_list, seed=0):
    """Frames with banners, tracebacks, random bytes (zeros included) and truncated frames
    between them. Returns (stream, number of intact frames)."""
    rng = random.Random(seed)
    junk = [BANNER, TRACEBACK, b"hello from print()\n", b"\x00\x00\x00"]
    parts = []
    for f in frame_list:
        r = rng.random()
        if r < 0.2:
            parts.append(rng.choice(junk))
        elif r < 0.35:
            parts.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))))
        elif r < 0.45:
            other = rng.choice(frame_list)
            parts.append(other[:rng.randrange(2, len(other) - 1)])  # a truncated frame
        parts.append(f)
    return b"".join(parts), len(frame_list)


def test_every_intact_frame_survives_garbage_between_frames():
    fl = frames(200)
    stream, n = noisy_stream(fl, seed=1)
    dec = FrameDecoder()
    records = []
    # Feed in random-sized pieces, as a serial port delivers them.
    rng = random.Random(2)
    i = 0
    while i < len(stream):
        k = rng.randrange(1, 64)
        records += dec.feed(stream[i:i + k])
        i += k
    events = [r for r in records if r["type"] == "event"]
    assert len(events) == 200
    assert [e["seq"] for e in events] == sorted({e["seq"] for e in events})
    assert dec.rejected > 0  # garbage was seen and refused, not misread


def test_noise_without_zero_bytes_keeps_memory_bounded():
    dec = FrameDecoder()
    blob = bytes(range(1, 256)) * 4
    for _ in range(2000):
        assert dec.feed(blob) == []
    assert len(dec._pending) <= protocol.MAX_FRAME
    # and the next real frame after the noise still decodes
    assert [r["type"] for r in dec.feed(b"".join(frames(1)))] == ["hello", "event", "goodbye"]


def test_ingest_is_idempotent_and_counts_gaps(tmp_db):
    fl = frames(30)
    recs = FrameDecoder().feed(b"".join(fl))
    with Store(tmp_db) as store:
        ing = Ingest(store, clock=lambda: 1763677900000)
        for r in recs:
            ing.handle(r)
        for r in recs:  # the same records again, e.g. a replayed on-board log
            ing.handle(r)
        store.commit()
        assert store.count_events() == 30
        assert ing.new_events == 30 and ing.duplicate_events == 30
        times = [e["time_ms"] for e in store.events()]
        assert times == [1763677800000 + 1000 * (i + 1) for i in range(30)]
        assert {e["region"] for e in store.events()} == {"trunk"}
    # A gap in seq shows as lost records.
    with Store(tmp_db) as store:
        ing = Ingest(store)
        ing.handle(recs[0])
        ing.handle(recs[5])
        assert ing.lost_records == 4


def test_port_recorder_reads_a_pty_with_garbage(tmp_db):
    master, slave = pty.openpty()
    tty.setraw(slave)
    port = os.ttyname(slave)
    stream, _ = noisy_stream(frames(50), seed=5)

    def device():
        request = os.read(master, 100)  # like the sim board: start once the host asks
        assert request.startswith(b"\n:")  # a command line (hex text)
        for i in range(0, len(stream), 100):
            os.write(master, stream[i:i + 100])

    writer = threading.Thread(target=device, daemon=True)
    with Store(tmp_db) as store:
        rec = PortRecorder(port, store, until_goodbye=True, idle_timeout_s=10)
        writer.start()
        rec.run()
        writer.join()
        assert store.count_events() == 50
    os.close(master)
    os.close(slave)


def test_a_port_that_cannot_be_opened_is_a_clear_error(tmp_db):
    with Store(tmp_db) as store:
        with pytest.raises(JerklogError, match="cannot open port /dev/does-not-exist"):
            PortRecorder("/dev/does-not-exist", store).run()


def test_store_from_a_newer_version_is_refused(tmp_db):
    Store(tmp_db).close()
    import sqlite3
    db = sqlite3.connect(tmp_db)
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(JerklogError, match="newer jerklog"):
        Store(tmp_db)


def test_store_files_are_private(tmp_path):
    path = tmp_path / "new" / "store.sqlite3"
    Store(str(path)).close()
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert oct(os.stat(path.parent).st_mode & 0o777) == "0o700"


def test_a_port_that_is_not_a_jerklog_board_is_a_clear_error(tmp_db, monkeypatch):
    """Something else on the port (a REPL, another device's text): after a while without a
    single valid frame the recorder says so instead of waiting forever."""
    import time
    monkeypatch.setattr("jerklog.boards.recorder.NOT_JERKLOG_S", 1.0)
    master, slave = pty.openpty()
    tty.setraw(slave)
    stop = threading.Event()

    def chatter():
        while not stop.is_set():
            os.write(master, BANNER)
            time.sleep(0.1)

    t = threading.Thread(target=chatter, daemon=True)
    t.start()
    try:
        with Store(tmp_db) as store:
            with pytest.raises(JerklogError, match="sends data but no jerklog frames"):
                PortRecorder(os.ttyname(slave), store).run()
            assert store.boots() == []
    finally:
        stop.set()
        t.join()
        os.close(master)
        os.close(slave)


def test_device_uptime_wrapping_after_49_days_keeps_times_in_order(tmp_db):
    """A board up for 50 days: its u32 uptime wraps; times stay correct and ordered."""
    out = []
    w = protocol.FrameWriter(lambda buf, n: out.append(bytes(buf[:n])), 3, 8)
    epoch = 1760000000000
    w.hello(200, protocol.FLAG_VIRTUAL_CLOCK, epoch, "0.1.0", "sim", "sim", "trunk")
    start = (1 << 32) - 5000           # 5 s before the wrap
    for k in range(10):
        t = start + 1000 * k
        w.heartbeat(t, 200 * k, 0, k)
        w.event(t + 500, 40, 300, 0, 1, 1, 1, 1, 100, 10)  # the frame truncates to u32
    with Store(tmp_db) as store:
        ing = Ingest(store, clock=lambda: epoch)
        for r in FrameDecoder().feed(b"".join(out)):
            ing.handle(r)
        store.commit()
        times = [e["time_ms"] for e in store.events()]
        uptimes = [e["t_ms"] for e in store.events()]
    assert times == [epoch + start + 1000 * k + 500 for k in range(10)]
    assert uptimes == sorted(uptimes) and uptimes[-1] > 1 << 32
