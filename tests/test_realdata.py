"""Readers of other loggers (recordings.axivity, .daphnet, .folder) and the raw CSV writer.

Real recordings are looked up in $JERKLOG_REAL_DATA (default /work/shared/data/real);
tests that need them are skipped when they are absent. The synthetic-CWA tests need
nothing but numpy.
"""
import calendar
import os
import shutil
import struct

import numpy as np
import pytest

from jerklog.recordings import axivity, daphnet, folder, recording

REAL = os.environ.get("JERKLOG_REAL_DATA", "/work/shared/data/real")
AX3 = os.path.join(REAL, "axivity", "ax3_testfile.cwa")
AX6 = os.path.join(REAL, "axivity", "ax6_testfile.cwa")
DAPHNET = os.path.join(REAL, "daphnet", "S06R02E0.csv")


def need(path):
    if not os.path.exists(path):
        pytest.skip(f"real recording not available: {path}")
    return path


def still_windows(rec, win_s=1.0, sd_g=0.02):
    """Mean |acc| of 1 s windows in which every axis varies by less than sd_g."""
    w = int(rec.rate_hz * win_s)
    n = rec.n_samples // w
    a = rec.acc[: n * w].reshape(n, w, 3)
    still = a.std(axis=1).max(axis=1) < sd_g
    return np.linalg.norm(a.mean(axis=1), axis=1)[still], still


def check_common(rec):
    assert rec.t.dtype == np.float64 and rec.acc.dtype == np.float64
    assert rec.t.ndim == 1 and rec.acc.shape == (rec.t.size, 3)
    assert rec.t[0] == 0.0
    assert np.all(np.diff(rec.t) > 0)
    assert np.all(np.isfinite(rec.acc))


# ---------------------------------------------------------------------------- real CWA

def test_ax3_decodes():
    rec = axivity.load_cwa(need(AX3))
    check_common(rec)
    assert rec.name == "ax3_testfile" and rec.source == AX3
    assert rec.gyro is None
    assert rec.rate_hz == 100.0
    assert rec.location == "right_wrist"  # header metadata _p=right wrist: the side is kept
    assert rec.bad_blocks == 0
    assert rec.n_samples == 145 * 120                    # 145 packed blocks of 120
    assert abs(rec.duration_s - 176.0) < 2.0             # README: 176 s
    assert 97.0 < rec.info["measured_rate_hz"] < 101.0   # logger clock, ~98.9 Hz
    assert rec.info["device"] == "AX3" and rec.info["accel_range_g"] == 8
    dt = np.diff(rec.t)
    assert dt.min() > 0.009 and dt.max() < 0.011
    mag = np.linalg.norm(rec.acc, axis=1)
    assert 0.9 < np.median(mag) < 1.1
    still, mask = still_windows(rec)
    assert mask.sum() > 20
    assert 0.9 < np.median(still) < 1.1
    assert np.abs(rec.acc).max() <= 8.0                  # within the +-8 g range


def test_ax6_decodes():
    rec = axivity.load_cwa(need(AX6))
    check_common(rec)
    assert rec.gyro is not None and rec.gyro.shape == rec.acc.shape
    assert rec.rate_hz == 100.0
    assert rec.location == "unknown"
    assert rec.bad_blocks == 0
    assert rec.n_samples == 283 * 40                     # 283 six-axis blocks of 40
    assert abs(rec.duration_s - 114.0) < 2.0             # README: 114 s
    assert rec.info["device"] == "AX6"
    assert rec.info["gyro_range_dps"] == 250.0 and rec.info["accel_range_g"] == 16
    assert np.abs(rec.gyro).max() <= 250.0               # never beyond the range
    assert np.abs(rec.acc).max() <= 16.0
    mag = np.linalg.norm(rec.acc, axis=1)
    assert 0.9 < np.median(mag) < 1.1
    still, mask = still_windows(rec)
    assert mask.sum() > 20
    assert 0.95 < np.median(still) < 1.05
    # while still, the gyroscope reads only its bias (~1 deg/s)
    w = int(rec.rate_hz)
    n = rec.n_samples // w
    g = rec.gyro[: n * w].reshape(n, w, 3).mean(axis=1)[mask]
    assert np.median(np.linalg.norm(g, axis=1)) < 5.0
    # and it sees the vigorous movement
    assert np.percentile(np.linalg.norm(rec.gyro, axis=1), 95) > 100.0


def test_ax6_axis_slip_repaired():
    """The first 1024 samples of the AX6 file hold Axyz in words 0-2 (FIFO slip)."""
    fixed = axivity.load_cwa(need(AX6))
    assert fixed.info["axis_slips"] == [1024]
    assert fixed.info["swapped_samples"] == 1024
    first = fixed.acc[:600]                              # device lies still, z up
    assert abs(np.median(np.linalg.norm(first, axis=1)) - 1.0) < 0.05
    assert np.linalg.norm(fixed.gyro[:600].mean(axis=0)) < 3.0
    raw = axivity.load_cwa(AX6, fix_axis_slips=False)
    assert raw.info["swapped_samples"] == 0
    np.testing.assert_array_equal(raw.acc[1024:], fixed.acc[1024:])
    np.testing.assert_allclose(raw.acc[:1024] * 2048, fixed.gyro[:1024] * 32768 / 250,
                               atol=1e-6)


def corrupt(src, dst, block, offset, value=None):
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as fh:
        pos = 1024 + 512 * block + offset
        fh.seek(pos)
        old = fh.read(1)[0]
        fh.seek(pos)
        fh.write(bytes([value if value is not None else old ^ 0x5A]))
    return dst


def test_checksum_corruption_skips_block(tmp_path):
    good = axivity.load_cwa(need(AX3))
    bad = axivity.load_cwa(corrupt(AX3, tmp_path / "bad.cwa", block=10, offset=200))
    assert bad.bad_blocks == 1
    assert bad.info["bad_block_reasons"] == {"checksum": 1}
    assert bad.n_samples == good.n_samples - 120
    # the samples of the other blocks are untouched
    np.testing.assert_array_equal(bad.acc[:1200], good.acc[:1200])
    np.testing.assert_array_equal(bad.acc[1200:], good.acc[1320:])
    # and keep their times: the lost block shows as a gap of ~121 sample periods
    np.testing.assert_allclose(bad.t[:1200], good.t[:1200], atol=0.02)
    np.testing.assert_allclose(bad.t[1200:], good.t[1320:], atol=0.02)
    gap = bad.t[1200] - bad.t[1199]
    assert 1.15 < gap < 1.3
    assert bad.info["segments"] == 2


def test_bad_magic_block_counted(tmp_path):
    path = corrupt(need(AX6), tmp_path / "bad6.cwa", block=100, offset=0, value=ord("Q"))
    rec = axivity.load_cwa(path)
    assert rec.bad_blocks == 1 and rec.info["bad_block_reasons"] == {"magic": 1}
    assert rec.n_samples == 282 * 40


def test_truncated_and_garbage_files(tmp_path):
    data = open(need(AX3), "rb").read()
    cases = {
        "empty.cwa": (b"", "truncated"),
        "header_cut.cwa": (data[:700], "truncated"),
        "header_only.cwa": (data[:1024], "no data blocks"),
        "mid_block.cwa": (data[: 1024 + 512 * 5 + 100], "truncated"),
        "garbage.cwa": (np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8)
                        .tobytes(), "magic"),
        "zeros.cwa": (b"MD" + struct.pack("<H", 1020) + bytes(1020 + 512 * 3),
                      "no valid CWA data blocks"),
    }
    for name, (content, what) in cases.items():
        p = tmp_path / name
        p.write_bytes(content)
        with pytest.raises(ValueError) as exc:
            axivity.load_cwa(p)
        assert name in str(exc.value), str(exc.value)
        assert what in str(exc.value), str(exc.value)
    # an incomplete last block may be dropped on request
    rec = axivity.load_cwa(tmp_path / "mid_block.cwa", allow_truncated=True)
    assert rec.n_samples == 5 * 120 and rec.info["truncated_tail_bytes"] == 100


# ----------------------------------------------------------------------- synthetic CWA

def pack_time(y, mo, d, h, mi, s):
    return ((y - 2000) << 26) | (mo << 22) | (d << 17) | (h << 12) | (mi << 6) | s


def make_cwa(blocks, hw=0x00, rate_code=0x4A, sensor_config=0xFF, meta=b""):
    """Minimal CWA writer for tests: blocks = list of dicts with the block fields."""
    head = bytearray(1024)
    head[0:2] = b"MD"
    struct.pack_into("<HBHI", head, 2, 1020, hw, 1234, 7)
    head[35] = sensor_config
    head[36] = rate_code
    head[64:64 + len(meta)] = meta
    out = bytes(head)
    for i, b in enumerate(blocks):
        blk = bytearray(512)
        struct.pack_into("<2sHHIIIHHBBBBhH", blk, 0, b"AX", 508, b.get("frac", 0), 7,
                         b.get("seq", i), b["time"], b.get("light_scale", 0), 300,
                         b.get("events", 0), 180, rate_code, b["axes_bps"], b["ts_offset"],
                         b["count"])
        blk[30:30 + len(b["data"])] = b["data"]
        words = np.frombuffer(bytes(blk[:510]), dtype="<u2").sum(dtype=np.uint64)
        struct.pack_into("<H", blk, 510, (-int(words)) & 0xFFFF)
        out += bytes(blk)
    return out


def test_synthetic_packed_values_and_times(tmp_path):
    # three packed samples: 10-bit signed values with exponents 0..3
    vals = [((-512, 511, -1), 0), ((1, -2, 3), 1), ((-256, 100, 255), 3)]
    data = b""
    for (x, y, z), e in vals:
        word = (x & 0x3FF) | ((y & 0x3FF) << 10) | ((z & 0x3FF) << 20) | (e << 30)
        data += struct.pack("<I", word)
    data = data * 40                                      # 120 samples per block
    t0 = pack_time(2021, 3, 1, 12, 0, 0)
    blocks = []
    for k in range(4):
        # An exact 100 Hz clock: block k starts at 1.2*k s. Its timestamp is the whole
        # second floor(1.2k) plus a fraction of 0.5 s, valid at sample index idx of the
        # block; the stored offset carries the firmware's backwards-compatible shift.
        start = 1.2 * k
        ref = np.floor(start) + 0.5
        idx = int(round((ref - start) * 100))
        frac16 = 0x8000                                   # 0.5 s as a 16-bit fraction
        shim = (frac16 * 100) >> 16
        blocks.append(dict(time=t0 + int(np.floor(start)), frac=0x8000 | (frac16 >> 1),
                           axes_bps=0x30, ts_offset=idx - shim, count=120, data=data))
    p = tmp_path / "synth.cwa"
    p.write_bytes(make_cwa(blocks, meta=b"_p=left%20ankle"))
    rec = axivity.load_cwa(p)
    assert rec.location == "left_ankle" and rec.gyro is None and rec.rate_hz == 100.0
    expect = np.array([[-512, 511, -1], [2, -4, 6], [-2048, 800, 2040]]) / 256.0
    np.testing.assert_array_equal(rec.acc[:3], expect)
    np.testing.assert_array_equal(rec.acc[117:120], expect)
    assert rec.n_samples == 480
    np.testing.assert_allclose(rec.t, np.arange(480) / 100.0, atol=1e-9)
    assert rec.start_epoch == calendar.timegm((2021, 3, 1, 12, 0, 0))


def test_synthetic_six_axis_int16(tmp_path):
    samples = np.array([[100, -200, 300, 2048, -4096, 1024]] * 40, dtype="<i2")
    t0 = pack_time(2024, 2, 29, 23, 59, 58)               # leap day
    # sample 0 at t0 exactly; block 1 (samples 40-79) says t0 holds at its index -40
    blocks = [dict(time=t0, axes_bps=0x62, ts_offset=-40 * k, count=40,
                   light_scale=(3 << 13) | (3 << 10), data=samples.tobytes())
              for k in range(2)]
    p = tmp_path / "six.cwa"
    p.write_bytes(make_cwa(blocks, hw=0x64, rate_code=0x0A, sensor_config=0x03))
    rec = axivity.load_cwa(p)
    assert rec.info["device"] == "AX6" and rec.info["gyro_range_dps"] == 1000.0
    np.testing.assert_allclose(rec.acc[0], [1.0, -2.0, 0.5])          # 1/2048 g
    np.testing.assert_allclose(rec.gyro[0], np.array([100, -200, 300]) * 1000 / 32768)
    np.testing.assert_allclose(rec.t, np.arange(80) / 100.0, atol=1e-9)
    assert rec.start_epoch == calendar.timegm((2024, 2, 29, 23, 59, 58))


# ---------------------------------------------------------------------------- Daphnet

def test_daphnet_three_locations():
    recs = [daphnet.load_daphnet(need(DAPHNET), loc) for loc in ("ankle", "thigh", "trunk")]
    for rec, loc in zip(recs, ("ankle", "thigh", "trunk")):
        check_common(rec)
        assert rec.location == loc and rec.name == f"S06R02E0_{loc}"
        assert rec.rate_hz == 64.0 and rec.gyro is None
        assert rec.n_samples == 7040
        assert abs(rec.duration_s - 110.0) < 0.5
        np.testing.assert_allclose(np.diff(rec.t), 1 / 64.0)
        mag = np.linalg.norm(rec.acc, axis=1)
        assert 0.9 < np.median(mag) < 1.15
        assert rec.info["t0_session_s"] == 280.0
        assert not rec.info["is_anomaly"].any()
    # first row: 101,1000,297 | -9,953,303 | 330,942,-145 (milli-g, fwd/vert/lateral)
    np.testing.assert_allclose(recs[0].acc[0], [0.101, 1.000, 0.297])
    np.testing.assert_allclose(recs[1].acc[0], [-0.009, 0.953, 0.303])
    np.testing.assert_allclose(recs[2].acc[0], [0.330, 0.942, -0.145])
    alias = daphnet.load_daphnet(DAPHNET, "leg")
    np.testing.assert_array_equal(alias.acc, recs[1].acc)
    with pytest.raises(ValueError, match="wrist"):
        daphnet.load_daphnet(DAPHNET, "wrist")


def test_daphnet_missing_column(tmp_path):
    lines = open(need(DAPHNET)).read().splitlines()[:20]
    cols = lines[0].split(",")
    drop = cols.index("leg_vert")
    text = "\n".join(",".join(c for j, c in enumerate(l.split(",")) if j != drop)
                     for l in lines)
    p = tmp_path / "cut.csv"
    p.write_text(text + "\n")
    with pytest.raises(ValueError) as exc:
        daphnet.load_daphnet(p, "ankle")
    assert "cut.csv" in str(exc.value) and "leg_vert" in str(exc.value)


def test_real_recordings_finds_everything():
    recs = folder.real_recordings(need(REAL))
    names = [r.name for r in recs]
    assert names == ["ax3_testfile", "ax6_testfile",
                     "S06R02E0_ankle", "S06R02E0_thigh", "S06R02E0_trunk"]
    assert [r.location for r in recs] == ["right_wrist", "unknown", "ankle", "thigh", "trunk"]


# ---------------------------------------------------------------------- raw CSV export

@pytest.mark.parametrize("which", ["ax6", "daphnet"])
def test_write_raw_csv_round_trip(tmp_path, which):
    rec = (axivity.load_cwa(need(AX6)) if which == "ax6"
           else daphnet.load_daphnet(need(DAPHNET), "trunk"))
    p = tmp_path / "raw.csv"
    recording.write_raw_csv(rec, p)
    with open(p) as fh:
        header = fh.readline().strip()
        first = fh.readline().strip()
    if rec.gyro is not None:
        assert header == "t,ax,ay,az,gx,gy,gz"
        assert [len(f.split(".")[1]) for f in first.split(",")] == [6, 4, 4, 4, 2, 2, 2]
    else:
        assert header == "t,ax,ay,az"
        assert [len(f.split(".")[1]) for f in first.split(",")] == [6, 4, 4, 4]
    back = np.loadtxt(p, delimiter=",", skiprows=1)
    assert back.shape == (rec.n_samples, 7 if rec.gyro is not None else 4)
    eps = 1e-9
    assert np.abs(back[:, 0] - rec.t).max() <= 0.5e-6 + eps
    assert np.abs(back[:, 1:4] - rec.acc).max() <= 0.5e-4 + eps
    if rec.gyro is not None:
        assert np.abs(back[:, 4:7] - rec.gyro).max() <= 0.5e-2 + eps
