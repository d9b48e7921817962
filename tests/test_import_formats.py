"""The logger readers `import` uses, on small files written here from each format's
documentation (no downloads), and on the real .cwa test files.

Writers: write_gt3x (ActiGraph's GT3X-File-Format: zip of info.txt and log.bin records with
XOR checksums, 12-bit ACTIVITY and int16 ACTIVITY2), write_geneactiv (GENEActiv manual: text
header, pages of 300 hex-packed 48-bit samples), and damage_cwa (a real .cwa with a block
broken).
"""
import io
import os
import shutil
import zipfile

import numpy as np
import pytest

from jerklog import JerklogError
from jerklog.recordings.axivity import load_cwa
from jerklog.recordings.cwa_stream import open_cwa
from jerklog.recordings.formats import open_logger
from jerklog.recordings.geneactiv import open_geneactiv
from jerklog.recordings.gt3x import open_gt3x, ssp_float
from jerklog.recordings.logger import to_grid

HERE = os.path.dirname(os.path.abspath(__file__))
AXIVITY = os.path.join(os.path.dirname(HERE), "..", "shared", "data", "real", "axivity")
AX3 = os.path.join(AXIVITY, "ax3_testfile.cwa")
AX6 = os.path.join(AXIVITY, "ax6_testfile.cwa")
TICKS_1970 = 621355968000000000


def signal(n, rate, seed=0):
    """Acceleration in g (n, 3): gravity on z, a little noise, one jerk in the middle."""
    rng = np.random.default_rng(seed)
    acc = np.zeros((n, 3))
    acc[:, 2] = 1.0
    acc += rng.normal(0, 0.01, (n, 3))
    mid = n // 2
    acc[mid:mid + 5, 0] += [1.0, 2.5, 3.0, 1.5, 0.5]
    return acc


# -- ActiGraph .gt3x ----------------------------------------------------------------------
def _record(kind, ts, payload):
    head = bytes([0x1E, kind]) + ts.to_bytes(4, "little") + len(payload).to_bytes(2, "little")
    check = 0
    for b in head + payload:
        check ^= b
    return head + payload + bytes([(~check) & 0xFF])


def _pack12(counts):
    """(n, 3) counts in x, y, z -> the ACTIVITY payload: 12-bit y, x, z, big-endian."""
    vals = [int(v) & 0xFFF for row in counts for v in (row[1], row[0], row[2])]
    bits = "".join("{:012b}".format(v) for v in vals)
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""


def write_gt3x(path, acc_g, rate=30, start_s=1_700_000_000, serial="NEO1C16110020",
               activity2=False, bad_second=None, skip_seconds=(), tz="01:00:00",
               scale=None, info_scale=False, zeros=True):
    """A .gt3x of acc_g (n, 3) at rate, one ACTIVITY(2) record a second from start_s
    (the device's local clock); bad_second gets a wrong checksum; skip_seconds are left out."""
    lsb = scale or (256.0 if serial.startswith("MOS") else 341.0)
    counts = np.round(acc_g * lsb).astype(np.int64)
    log = io.BytesIO()
    log.write(_record(0x06, start_s, b'{"MetadataType":"Subject"}'))
    if scale:
        # PARAMETERS: address 0, key 55 (ACCEL_SCALE) as ActiGraph's float
        exp = 0
        f = float(scale)
        while f >= 1.0:
            f /= 2.0
            exp += 1
        code = (int(f * 8388608.0) & 0xFFFFFF) | ((exp & 0xFF) << 24)
        log.write(_record(0x15, start_s, (0).to_bytes(2, "little") + (55).to_bytes(2, "little")
                          + code.to_bytes(4, "little")))
    log.write(_record(0x00, start_s, b"\x01"))  # a USB connection event: no samples
    for sec in range(len(counts) // rate):
        if sec in skip_seconds:
            continue
        part = counts[sec * rate:(sec + 1) * rate]
        payload = part.astype("<i2").tobytes() if activity2 else _pack12(part)
        rec = bytearray(_record(0x1A if activity2 else 0x00, start_s + sec, payload))
        if sec == bad_second:
            rec[-1] ^= 0xFF
        log.write(bytes(rec))
        if sec == 3 and zeros:
            log.write(b"\x00\x00\x00")  # zeros between records are harmless (the format notes)
    info = ("Serial Number: %s\nDevice Type: wGT3XBT\nFirmware: 1.9.2\nBattery Voltage: 4.1\n"
            "Sample Rate: %d\nStart Date: %d\nStop Date: 0\nDownload Date: %d\nBoard Revision: "
            "4\nTimeZone: %s\n" % (serial, rate, TICKS_1970 + start_s * 10_000_000, TICKS_1970
                                   + (start_s + 86400) * 10_000_000, tz))
    if info_scale:  # as ActiLife writes it (not in the documented info.txt)
        info += "Acceleration Scale: %.1f\n" % lsb
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("info.txt", info)
        z.writestr("log.bin", log.getvalue())
    return counts / lsb


def test_gt3x_12bit_example_from_the_documentation():
    # GT3X-File-Format, LogRecords/Activity.md: "00 60 08 EB D0 07 00 9E BF 00 70 08 EB F0"
    from jerklog.recordings.gt3x import _unpack12
    got = _unpack12(bytes.fromhex("006008EBD007009EBF007008EBF0"), 3)
    assert got.tolist() == [[8, 6, -323], [9, 7, -321], [8, 7, -321]]  # x, y, z
    # Parameters.md: 00 00 40 09 is ACCEL_SCALE 256 LSB/g; 00 00 40 0C IMU_ACCEL_SCALE 2048
    assert ssp_float(0x09400000) == 256.0 and ssp_float(0x0C400000) == 2048.0


@pytest.mark.parametrize("activity2", [False, True])
def test_gt3x_samples_clock_and_checks(tmp_path, activity2):
    rate = 30
    acc = signal(40 * rate, rate)
    path = str(tmp_path / "a.gt3x")
    want = write_gt3x(path, acc, rate, activity2=activity2, bad_second=10, skip_seconds=(20,))
    lf = open_logger(path)
    assert (lf.format, lf.model, lf.serial, lf.rate_hz) == ("gt3x", "GT3X+", "NEO1C16110020", 30)
    assert lf.utc_offset_ms == 3_600_000
    chunks = list(lf.chunks())
    t = np.concatenate([c.t_us for c in chunks])
    a = np.concatenate([c.acc_mg for c in chunks])
    keep = np.ones(len(acc), dtype=bool)
    keep[10 * rate:11 * rate] = keep[20 * rate:21 * rate] = False
    ref = to_grid(np.arange(len(acc))[keep] / rate, np.round(want[keep], 3))
    assert np.array_equal(a, ref.acc_mg) and np.array_equal(t, ref.t_us)
    assert lf.start_ms == 1_700_000_000_000
    c = lf.checks
    assert (c["bad_records"], c["gaps"], c["lost_samples"], c["usb_events"]) == (1, 2, rate, 1)
    assert c["skipped_bytes"] == 0  # the zeros between records are not damage
    assert [k for ch in chunks for _, k in ch.lost] == [rate]


def test_gt3x_accel_scale_parameter_and_mos_default(tmp_path):
    acc = signal(300, 30)
    p = str(tmp_path / "s.gt3x")
    want = write_gt3x(p, acc, 30, serial="MOS2E1234567", scale=512)
    a = np.concatenate([c.acc_mg for c in open_gt3x(p).chunks()])
    assert np.array_equal(a, to_grid(np.arange(300) / 30, np.round(want, 3)).acc_mg)


def test_gt3x_refuses_what_is_not_one(tmp_path):
    p = tmp_path / "x.gt3x"
    p.write_bytes(b"MD this is a cwa")
    with pytest.raises(JerklogError, match="not an ActiGraph .gt3x file: not a zip"):
        open_logger(str(p))
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("activity.bin", b"")
        z.writestr("info.txt", "Sample Rate: 30\n")
    with pytest.raises(JerklogError, match="NHANES"):
        open_logger(str(p))


# -- GENEActiv .bin ------------------------------------------------------------------------
GAIN = (25548, 25500, 25600)
OFFSET = (-2222, 574, 1000)


def write_geneactiv(path, acc_g, rate=100, start="2012-03-14 10:00:00:000", serial="012345",
                    bad_page=None, drop_page=None, tz="GMT +01:00"):
    """A GENEActiv .bin of acc_g (n, 3), n a multiple of 300; bad_page gets a short data line,
    drop_page is left out (a sequence gap)."""
    raw = np.round((acc_g * np.array(GAIN) + np.array(OFFSET)) / 100.0).astype(np.int64)
    n_pages = len(raw) // 300
    head = ["Device Identity", "Device Unique Serial Code:%s" % serial,
            "Device Type:GENEActiv", "Device Model:1.1", "Device Firmware Version:Ver06.17",
            "Calibration Date:2012-1-1 10:00:00:000", "", "Device Capabilities",
            "Accelerometer Range:-8 to 8", "Light Meter Range:0 to 5000", "", "Configuration Info",
            "Measurement Frequency:%d Hz" % rate, "Measurement Period:168 Hours",
            "Start Time:%s" % start, "Study Start Time:%s" % start, "Time Zone:%s" % tz, "",
            "Trial Info", "Study Centre:test", "Study Code:", "Investigator ID:", "Exercise Type:",
            "Device Location Code:left wrist", "", "Calibration Data",
            "x gain:%d" % GAIN[0], "x offset:%d" % OFFSET[0], "y gain:%d" % GAIN[1],
            "y offset:%d" % OFFSET[1], "z gain:%d" % GAIN[2], "z offset:%d" % OFFSET[2],
            "Volts:300", "Lux:800", "", "Memory Status", "Number of Pages:%d" % n_pages, ""]
    lines = list(head)
    y, mo, d = (int(x) for x in start.split(" ")[0].split("-"))
    import datetime as dt
    t0 = dt.datetime.strptime(start[:19], "%Y-%m-%d %H:%M:%S")
    for p in range(n_pages):
        if p == drop_page:
            continue
        when = t0 + dt.timedelta(seconds=p * 300 / rate)
        part = raw[p * 300:(p + 1) * 300]
        words = [((int(x) & 0xFFF) << 36) | ((int(yv) & 0xFFF) << 24) | ((int(z) & 0xFFF) << 12)
                 | (100 << 2) for x, yv, z in part]
        data = "".join("%012X" % w for w in words)
        if p == bad_page:
            data = data[:-12]
        lines += ["Recorded Data", "Device Unique Serial Code:%s" % serial,
                  "Sequence Number:%d" % p,
                  "Page Time:%s:%03d" % (when.strftime("%Y-%m-%d %H:%M:%S"),
                                         when.microsecond // 1000),
                  "Unassigned:", "Temperature:25.0", "Battery voltage:4.0",
                  "Device Status:Recording", "Measurement Frequency:%d.0 Hz" % rate, data]
    with open(path, "w", newline="\r\n") as f:
        f.write("\n".join(lines) + "\n")
    return (raw * 100.0 - np.array(OFFSET)) / np.array(GAIN)


def test_geneactiv_samples_clock_and_checks(tmp_path):
    rate = 100
    acc = signal(3000, rate)
    p = str(tmp_path / "g.bin")
    want = write_geneactiv(p, acc, rate, bad_page=2, drop_page=5)
    lf = open_logger(p)
    assert (lf.format, lf.serial, lf.rate_hz, lf.utc_offset_ms) == ("geneactiv", "012345",
                                                                   100.0, 3_600_000)
    assert lf.location == "left wrist"
    chunks = list(lf.chunks())
    keep = np.ones(3000, dtype=bool)
    keep[600:900] = keep[1500:1800] = False
    ref = to_grid(np.arange(3000)[keep] / rate, want[keep])
    assert np.array_equal(np.concatenate([c.acc_mg for c in chunks]), ref.acc_mg)
    assert np.array_equal(np.concatenate([c.t_us for c in chunks]), ref.t_us)
    c = lf.checks
    assert (c["bad_pages"], c["sequence_gaps"], c["lost_samples"], c["time_jumps"]) == \
        (1, 1, 600, 0)
    assert [k for ch in chunks for _, k in ch.lost] == [300, 300]
    # the logger's wall clock, read as UTC (the offset is applied by import)
    assert lf.start_ms == 1331719200000


def test_geneactiv_refuses_what_is_not_one(tmp_path):
    p = tmp_path / "g.bin"
    p.write_bytes(b"\x00\x01binary firmware image")
    with pytest.raises(JerklogError, match="not a GENEActiv .bin file"):
        open_geneactiv(str(p))


# -- Axivity .cwa in chunks ------------------------------------------------------------------
@pytest.mark.parametrize("path", [AX3, AX6])
@pytest.mark.parametrize("blocks", [2048, 7])
def test_cwa_chunks_are_load_cwa(path, blocks):
    """Chunked reading gives load_cwa's samples and times exactly, however small the chunk."""
    rec = load_cwa(path)
    ref = to_grid(rec.t, rec.acc, rec.gyro)
    lf = open_cwa(path)
    chunks = list(lf.chunks(blocks))
    assert np.array_equal(np.concatenate([c.t_us for c in chunks]), ref.t_us)
    assert np.array_equal(np.concatenate([c.acc_mg for c in chunks]), ref.acc_mg)
    if rec.gyro is not None:
        assert np.array_equal(np.concatenate([c.gyro_ddps for c in chunks]), ref.gyro_ddps)
    assert abs(lf.start_ms - rec.start_epoch * 1000) < 1
    assert lf.checks["bad_blocks"] == 0 and lf.checks["segments"] == 1


def damage_cwa(src, dst, blocks=(), drop=()):
    """A copy of src with data blocks `blocks` corrupted (checksum fails) and `drop` removed."""
    data = bytearray(open(src, "rb").read())
    for b in blocks:
        o = 1024 + 512 * b + 100
        data[o] ^= 0x5A
    out = data[:1024]
    for b in range((len(data) - 1024) // 512):
        if b not in drop:
            out += data[1024 + 512 * b:1024 + 512 * (b + 1)]
    open(dst, "wb").write(bytes(out))


def test_cwa_bad_blocks_are_skipped_counted_and_lost(tmp_path):
    p = str(tmp_path / "d.cwa")
    damage_cwa(AX3, p, blocks=(10, 11), drop=(50,))
    lf = open_cwa(p)
    chunks = list(lf.chunks(16))
    n = sum(len(c.t_us) for c in chunks)
    c = lf.checks
    assert c["bad_blocks"] == 2 and c["bad_block_reasons"] == {"checksum": 2}
    assert c["sequence_gaps"] == 1
    assert n == 17400 - 3 * 120
    assert c["lost_samples"] == 3 * 120
    assert sorted(k for ch in chunks for _, k in ch.lost) == [120, 240]
    # never decoded: no sample of the bad blocks' time
    rec = load_cwa(AX3)
    t = np.concatenate([c.t_us for c in chunks]) / 1e6
    lo, hi = rec.t[10 * 120], rec.t[12 * 120 - 1]
    assert not np.any((t > lo + 0.02) & (t < hi - 0.02))


def test_a_file_that_is_not_what_its_name_says(tmp_path):
    for name, content, what in [("a.cwa", b"PK\x03\x04zip", "not an Axivity .cwa file"),
                                ("b.gt3x", b"MD\xfc\x03", "not a zip"),
                                ("c.bin", b"PK\x03\x04", "not a GENEActiv")]:
        p = tmp_path / name
        p.write_bytes(content + bytes(2000))
        with pytest.raises(JerklogError, match=what):
            open_logger(str(p))
    shutil.copy(AX3, tmp_path / "x.txt")
    with pytest.raises(JerklogError, match="not a file import reads"):
        open_logger(str(tmp_path / "x.txt"))


def shift_cwa_clock(src, dst, from_block, hours):
    """A copy of src whose blocks from from_block on carry a clock `hours` later (the hour
    field of the packed timestamp), with their checksums made good again."""
    from jerklog.recordings import axivity as ax
    data = open(src, "rb").read()
    b = np.frombuffer(data, dtype=ax._CWA_BLOCK, offset=1024).copy()
    b["timestamp"][from_block:] += np.uint32(hours << 12)
    b["checksum"] = 0
    words = b.view("<u2").reshape(len(b), 256)
    b["checksum"] = (-words.sum(axis=1, dtype=np.int64)) & 0xFFFF
    open(dst, "wb").write(data[:1024] + b.tobytes())


def test_cwa_clock_jump_breaks_the_run_and_is_counted(tmp_path):
    p = str(tmp_path / "j.cwa")
    shift_cwa_clock(AX3, p, 70, 1)
    lf = open_cwa(p)
    chunks = list(lf.chunks(32))
    t = np.concatenate([c.t_us for c in chunks]) / 1e6
    assert lf.checks["time_jumps"] == 1 and lf.checks["segments"] == 2
    assert lf.checks["bad_blocks"] == 0 and len(t) == 17400
    step = np.diff(t)
    assert step.max() > 3500 and np.sum(step > 1) == 1  # one gap of about an hour
    assert np.all(step > 0)
