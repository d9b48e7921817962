"""The wire protocol: framing, CRC, records; identical bytes from MicroPython and CPython."""
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_micropython
from jerklog.boards.decoder import FrameDecoder
from jerklog.firmware import protocol


def test_crc16_matches_the_published_check_value():
    # CRC-16/CCITT-FALSE check value for "123456789".
    assert protocol.crc16(b"123456789") == 0x29B1


@given(st.binary(max_size=600))
def test_cobs_round_trip_has_no_zero_bytes(data):
    dst = bytearray(len(data) + len(data) // 254 + 2)
    n = protocol.cobs_encode_into(data, len(data), dst)
    encoded = bytes(dst[:n])
    assert 0 not in encoded
    assert protocol.cobs_decode(encoded) == data


def _write_frames(writer):
    """The same sequence of records, encoded by whichever interpreter runs this."""
    writer.hello(208, protocol.FLAG_GYRO, 1763677800123, "0.1.0", "sim", "LSM6DSOX",
                 "left wrist")
    writer.event(123456, 64, 1500, 3210, protocol.KIND_JERK, -2, protocol.CONTEXT_REST,
                 protocol.POSTURE_LYING, 200, 12)
    writer.event(0xFFFFFFFF + 5, 70000, 70000, 0, protocol.KIND_NEGATIVE, 3, 0, 0, 999, 0)
    writer.heartbeat(1000, 208, 0, 1)
    writer.goodbye(protocol.GOODBYE_END_OF_RECORDING, 2000, 416, 3, 2)


MP_WRITE = """
from jerklog_firmware import protocol
out = bytearray()
def write(buf, n):
    out.extend(buf[:n])
w = protocol.FrameWriter(write, 0x3FFFFFFF, 12345)
w.hello(208, protocol.FLAG_GYRO, 1763677800123, "0.1.0", "sim", "LSM6DSOX", "left wrist")
w.event(123456, 64, 1500, 3210, protocol.KIND_JERK, -2, protocol.CONTEXT_REST,
        protocol.POSTURE_LYING, 200, 12)
w.event(0xFFFFFFFF + 5, 70000, 70000, 0, protocol.KIND_NEGATIVE, 3, 0, 0, 999, 0)
w.heartbeat(1000, 208, 0, 1)
w.goodbye(protocol.GOODBYE_END_OF_RECORDING, 2000, 416, 3, 2)
import binascii
print(binascii.hexlify(out).decode())
"""


def test_micropython_and_cpython_encode_identical_frames():
    out = bytearray()
    w = protocol.FrameWriter(lambda buf, n: out.extend(buf[:n]), 0x3FFFFFFF, 12345)
    _write_frames(w)
    mp_hex = run_micropython(MP_WRITE).decode().strip()
    assert mp_hex == out.hex()


def test_frames_decode_to_the_records_written():
    out = bytearray()
    w = protocol.FrameWriter(lambda buf, n: out.extend(buf[:n]), 7, 99)
    _write_frames(w)
    records = FrameDecoder().feed(out)
    assert [r["type"] for r in records] == ["hello", "event", "event", "heartbeat", "goodbye"]
    assert [r["seq"] for r in records] == [0, 1, 2, 3, 4]
    hello, ev, clamped = records[0], records[1], records[2]
    assert hello["region"] == "left wrist" and hello["sensor"] == "LSM6DSOX"
    assert hello["rate_hz"] == 208 and hello["epoch_ms"] == 1763677800123
    assert (ev["t_ms"], ev["duration_ms"], ev["peak_mg"], ev["peak_ddps"]) == (123456, 64,
                                                                              1500, 3210)
    assert ev["axis"] == -2 and ev["confidence"] == 200 and ev["activity_mg"] == 12
    # Values wider than their field are clamped (durations, peaks) or wrap (u32 clocks).
    assert clamped["t_ms"] == 4 and clamped["duration_ms"] == 0xFFFF
    assert clamped["confidence"] == 255
    assert records[4]["dropped"] == 3 and records[4]["events"] == 2


MP_DECODE = """
import sys, json
from jerklog_firmware import protocol
data = bytes.fromhex(sys.stdin.read().strip())
out = []
for chunk in data.split(b'\\x00'):
    if chunk:
        r = protocol.decode_frame(chunk)
        out.append(r)
print(json.dumps(out))
"""


def test_micropython_decodes_what_cpython_decodes():
    out = bytearray()
    w = protocol.FrameWriter(lambda buf, n: out.extend(buf[:n]), 5, 6)
    _write_frames(w)
    mp = json.loads(run_micropython(MP_DECODE, stdin=out.hex().encode()))
    py = [protocol.decode_frame(c) for c in bytes(out).split(b"\x00") if c]
    assert mp == json.loads(json.dumps(py))


@settings(max_examples=200)
@given(st.integers(0, 200), st.integers(0, 7))
def test_a_flipped_bit_is_never_accepted(byte_index, bit):
    out = bytearray()
    w = protocol.FrameWriter(lambda buf, n: out.extend(buf[:n]), 1, 2)
    w.event(1000, 50, 800, 100, 1, 1, 1, 1, 100, 10)
    i = 1 + byte_index % (len(out) - 2)  # inside the frame, not its delimiters
    damaged = bytearray(out)
    damaged[i] ^= 1 << bit
    records = FrameDecoder().feed(damaged)
    assert all(r == protocol.decode_frame(bytes(out[1:-1])) for r in records)
    assert len(records) == 0 or bytes(damaged) == bytes(out)


def _loop_with_evidence(seconds=12, jerk_every_s=2):
    """A BoardLoop (CPython) over a still trunk with a jerk every few seconds: its frames."""
    from jerklog_firmware import app, detector

    class Board:
        rate_hz, has_gyro, dropped, name, sensor = 208, True, 0, "test", "none"

        def __init__(self):
            self.k = 0

        def read_into(self, times, samples):
            for i in range(len(times)):
                k = self.k
                self.k += 1
                times[i] = k * 1000 // 208
                jerk = 600 if 168 <= k % (208 * jerk_every_s) < 174 else 0  # 29 ms
                vals = (1000 + (k * 7) % 5 - 2, (k * 3) % 5 - 2 + jerk, 1, -1, 0, 300 * bool(jerk))
                samples[6 * i:6 * i + 6] = __import__("array").array("h", vals)
            return len(times)

    sent = bytearray()
    w = protocol.FrameWriter(lambda buf, n: sent.extend(buf[:n]), 7, 8)
    board = Board()
    rec = app.BoardLoop(board, detector.Detector(208), w, "trunk")
    while board.k < seconds * 208:
        rec.step()
    rec.finish()
    from jerklog.boards.decoder import FrameDecoder
    return rec, FrameDecoder().feed(bytes(sent))


def test_every_candidate_leaves_its_evidence_and_the_waveform_decodes():
    rec, records = _loop_with_evidence()
    parts = [r for r in records if r["type"] == "evidence"]
    events = [r for r in records if r["type"] == "event"]
    assert events and rec.evidence_sent == rec.detector.candidates
    by_cand = {}
    for r in parts:
        by_cand.setdefault(r["cand"], []).append(r)
    assert sorted(by_cand) == list(range(rec.evidence_sent))
    kept = []
    for cand, ps in by_cand.items():
        assert [p["part"] for p in ps] == list(range(len(ps))) and ps[-1]["last"]
        head = ps[0]
        wave = protocol.decode_wave(b"".join(p["wave"] for p in ps), head["n"], head["axes"])
        assert wave is not None and head["axes"] == 6 and head["stride"] == 2
        assert head["period_us"] == 9615  # 104 Hz: pairs of 208 Hz samples averaged
        assert head["pre"] >= 0.3 * 104 - 1 and head["n"] - head["pre"] - 1 >= 0.7 * 104 - 1
        assert max(row[1] for row in wave[head["pre"] - 1:head["pre"] + 2]) >= 400  # the jerk
        assert abs(wave[0][0] - 1000) < 5 and abs(wave[-1][0] - 1000) < 5  # gravity on x
        if head["verdict"] == protocol.VERDICT_KEPT:
            kept.append(head["t_ms"])
    assert sorted(kept) == sorted(e["t_ms"] for e in events)  # kept ones are the events


def test_epochs_every_5_s_with_gravity_and_activity():
    rec, records = _loop_with_evidence(seconds=21)
    epochs = [r for r in records if r["type"] == "epoch"]
    assert len(epochs) == 4 and rec.epochs == 4
    for e in epochs:
        assert 1035 <= e["samples"] <= 1045  # 5 s at 208 Hz
        assert abs(e["gx_mg"] - 1000) < 30 and abs(e["gy_mg"]) < 30
        assert e["max_mg"] >= 400 and 0 < e["peak_rms_mg"] < e["max_mg"]
    assert [e["t_ms"] for e in epochs][1:] == [e["t_ms"] + 5000 for e in epochs][:-1] or all(
        abs(b["t_ms"] - a["t_ms"] - 5000) <= 100 for a, b in zip(epochs, epochs[1:]))


def test_the_host_skips_evidence_and_epochs_without_counting_a_loss(tmp_path):
    """boards.ingest.Ingest dispatches on rec["type"]: new types fall through every branch, but
    their seqs are seen, so no gap is counted and nothing else is stored for them."""
    from jerklog.boards.ingest import Ingest
    from jerklog.store.database import Store
    _, records = _loop_with_evidence()
    store = Store(str(tmp_path / "s.sqlite3"))
    ingest = Ingest(store, clock=lambda: 1_800_000_000_000)
    for r in records:
        ingest.handle(r)
    assert ingest.lost_records == 0
    assert ingest.new_events == sum(r["type"] == "event" for r in records)
