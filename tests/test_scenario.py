"""Tests of the ground-truth scenario generator (host/jerklog/scenario.py).

Kept fast: short scenarios. numpy only.
"""
import csv
import math

import numpy as np
import pytest

from jerklog.sim import scenario as S


def hp_mag(t, acc, win_s=0.5):
    """|acc - moving mean| (the moving mean over win_s approximates gravity)."""
    fs = 1.0 / np.median(np.diff(t))
    k = int(win_s * fs) | 1
    c = np.cumsum(np.vstack([np.zeros((1, 3)), acc]), axis=0)
    idx = np.arange(len(t))
    lo = np.clip(idx - k // 2, 0, len(t))
    hi = np.clip(idx + k // 2 + 1, 0, len(t))
    mean = (c[hi] - c[lo]) / (hi - lo)[:, None]
    return np.linalg.norm(acc - mean, axis=1)


@pytest.fixture(scope="module")
def rest_scn():
    return S.generate("rest", minutes=6, seed=1)


@pytest.fixture(scope="module")
def mixed_scn():
    return S.generate("mixed", minutes=12, seed=2, jerks_per_hour=240)


@pytest.fixture(scope="module")
def night_scn():
    return S.generate("night", minutes=12, seed=3, jerks_per_hour=60)


def test_api_shapes_and_types(rest_scn):
    s = rest_scn
    n = int(round(6 * 60 * 200))
    assert s.name == "rest" and s.rate_hz == 200 and s.sensor == "LSM6DSOX"
    assert s.region == "wrist" and s.seed == 1
    assert s.t.shape == (n,) and s.acc.shape == (n, 3) and s.gyro.shape == (n, 3)
    assert s.t.dtype == np.float64 and s.acc.dtype == np.float64 and s.gyro.dtype == np.float64
    assert s.t[0] == 0.0 and np.all(np.diff(s.t) > 0)
    assert np.allclose(np.diff(s.t), 1 / 200.0)
    assert all(isinstance(e, S.TruthEvent) for e in s.truth)
    assert all(isinstance(g, S.Segment) for g in s.segments)
    # At rest the sensor reads about 1 g.
    assert abs(np.median(np.linalg.norm(s.acc, axis=1)) - 1.0) < 0.03


def test_all_scenarios_listed_and_generate():
    for name in ("night", "day", "rest", "walking", "activity", "tremor", "negative", "mixed"):
        assert name in S.SCENARIOS
    for name in S.SCENARIOS:
        s = S.generate(name, minutes=1.5, rate_hz=100, seed=5)
        assert len(s.t) == 9000
        assert np.isfinite(s.acc).all() and np.isfinite(s.gyro).all()
        assert s.segments[0].start == 0.0
        assert abs(s.segments[-1].end - 90.0) < 1e-9


def test_unknown_names_raise():
    with pytest.raises(ValueError):
        S.generate("nope", minutes=1)
    with pytest.raises(ValueError):
        S.generate("rest", minutes=1, sensor="XYZ")
    with pytest.raises(ValueError):
        S.generate("rest", minutes=1, region="nose")


def test_deterministic_for_a_seed():
    a = S.generate("day", minutes=3, seed=11)
    b = S.generate("day", minutes=3, seed=11)
    c = S.generate("day", minutes=3, seed=12)
    assert np.array_equal(a.acc, b.acc) and np.array_equal(a.gyro, b.gyro)
    assert np.array_equal(a.t, b.t)
    assert a.truth == b.truth and a.segments == b.segments
    assert not np.array_equal(a.acc, c.acc)


def test_timeline_shared_across_regions_and_sensors():
    """Same seed: same segments and jerk times whatever the region/sensor (generalised
    jerks seen by several sensors)."""
    a = S.generate("mixed", minutes=4, seed=4, region="wrist", jerks_per_hour=200)
    b = S.generate("mixed", minutes=4, seed=4, region="ankle", sensor="MPU-6050",
                   jerks_per_hour=200)
    assert [(g.start, g.end, g.context) for g in a.segments] == \
        [(g.start, g.end, g.context) for g in b.segments]
    assert [(e.t, e.kind) for e in a.truth] == [(e.t, e.kind) for e in b.truth]


def test_segments_tile_the_recording(mixed_scn):
    segs = mixed_scn.segments
    assert segs[0].start == 0.0
    for a, b in zip(segs, segs[1:]):
        assert a.end == b.start and a.end > a.start
    assert abs(segs[-1].end - len(mixed_scn.t) / mixed_scn.rate_hz) < 1e-9
    for g in segs:
        assert g.context in S.CATEGORY
        assert g.category == S.CATEGORY[g.context]
        assert g.category in ("rest", "sleep", "walking", "activity")


def _check_truth(scn):
    segs = scn.segments
    ts = [e.t for e in scn.truth]
    assert ts == sorted(ts)
    assert all(b - a >= 0.15 - 1e-9 for a, b in zip(ts, ts[1:]))
    for e in scn.truth:
        seg = [g for g in segs if g.start <= e.t < g.end]
        assert len(seg) == 1
        assert e.context == seg[0].context and e.category == seg[0].category
        assert seg[0].start + 0.3 < e.t < seg[0].end - 0.3
        assert e.kind in S.KINDS
        assert 0.1 - 1e-6 <= e.peak_g <= 3.0 + 1e-6
        assert abs(math.sqrt(sum(x * x for x in e.axis)) - 1) < 1e-6
        assert e.peak_dps >= 0
        if e.kind == "negative":
            assert e.context == "hold"
            assert 40 <= e.duration_ms <= 300
        elif e.kind == "hypnic":
            assert e.context == "sleep_onset"
            assert 90 <= e.duration_ms <= 305 and e.peak_g >= 0.5 - 1e-6
        else:
            assert 19 <= e.duration_ms <= 303


def test_truth_events_inside_segments_and_in_range(mixed_scn, night_scn, rest_scn):
    for scn in (mixed_scn, night_scn, rest_scn):
        assert scn.truth
        _check_truth(scn)


def test_series_and_rhythmic_grouping(mixed_scn):
    groups = {}
    for e in mixed_scn.truth:
        groups.setdefault(e.group, []).append(e)
    for g, evs in groups.items():
        kinds = {e.kind for e in evs}
        assert len(kinds) == 1
        k = kinds.pop()
        if k == "series":
            assert 2 <= len(evs) <= 8
            gaps = np.diff([e.t for e in evs])
            assert np.all(gaps >= 0.15) and np.all(gaps <= 2.05)
        elif k == "rhythmic":
            assert 3 <= len(evs) <= 20
            gaps = np.diff([e.t for e in evs])
            assert 0.2 <= np.median(gaps) <= 1.05
            assert np.std(gaps) < 0.25 * np.median(gaps)      # regular
        else:
            assert len(evs) == 1


def test_peak_times_match_signal_for_isolated_jerks_at_rest():
    """|acc - gravity| (high-passed) peaks within a few ms of the truth time."""
    for rate, tol_ms in ((200, 5.0 / 2 + 1.0), (1000, 3.0)):
        errs = []
        for seed in (1, 2):
            s = S.generate("rest", minutes=6, rate_hz=rate, seed=seed)
            m = hp_mag(s.t, s.acc)
            for e in s.truth:
                if any(o is not e and abs(o.t - e.t) < 1.0 for o in s.truth):
                    continue
                a, b = np.searchsorted(s.t, [e.t - 0.1, e.t + 0.1])
                i = a + int(np.argmax(m[a:b]))
                errs.append((s.t[i] - e.t) * 1e3)
                # the detected bump has roughly the stated size (band limit, noise)
                assert 0.6 * e.peak_g < m[i] < 1.3 * e.peak_g + 0.02
        assert len(errs) >= 8
        assert np.max(np.abs(errs)) <= tol_ms, (rate, errs)


def test_ideal_mode_peak_equals_truth():
    s = S.generate("rest", minutes=4, rate_hz=1000, seed=7, ideal=True)
    m = hp_mag(s.t, s.acc, 1.0)
    for e in s.truth:
        a, b = np.searchsorted(s.t, [e.t - 0.05, e.t + 0.05])
        i = a + int(np.argmax(m[a:b]))
        assert abs(s.t[i] - e.t) <= 0.0015
        assert abs(m[i] - e.peak_g) < 0.05 * e.peak_g + 0.03


def test_wrist_jerks_rotate_more_than_trunk_jerks():
    w = S.generate("mixed", minutes=10, seed=8, region="wrist", jerks_per_hour=300)
    t = S.generate("mixed", minutes=10, seed=8, region="trunk", jerks_per_hour=300)
    pos = ("jerk", "series", "rhythmic")
    dw = np.median([e.peak_dps for e in w.truth if e.kind in pos])
    dt = np.median([e.peak_dps for e in t.truth if e.kind in pos])
    assert dw > 1.5 * dt


def test_tremor_has_no_jerks_and_a_4_to_12_hz_peak():
    s = S.generate("tremor", seed=3)
    assert s.truth == []
    seg = [g for g in s.segments if g.context == "tremor"][0]
    assert seg.end - seg.start >= 60
    assert seg.category == "activity"
    i0, i1 = np.searchsorted(s.t, [seg.start + 5, seg.end - 5])
    x = s.acc[i0:i1] - s.acc[i0:i1].mean(axis=0)
    spec = sum(np.abs(np.fft.rfft(x[:, k] * np.hanning(len(x)))) ** 2 for k in range(3))
    f = np.fft.rfftfreq(len(x), 1 / s.rate_hz)
    band = (f > 1) & (f < 40)
    fpk = f[band][np.argmax(spec[band])]
    assert 4 <= fpk <= 12
    # and it is strong: far above the sensor noise
    assert np.sqrt(np.mean(np.sum(x ** 2, axis=1))) > 0.02


def test_negative_only_during_hold():
    s = S.generate("negative", minutes=5, seed=4)
    neg = [e for e in s.truth if e.kind == "negative"]
    assert len(neg) >= 3
    assert all(e.context == "hold" for e in neg)
    # the lapse pulls the reading down along gravity before the catch pushes it up
    m = np.linalg.norm(s.acc, axis=1)
    lows = 0
    for e in neg:
        a, b = np.searchsorted(s.t, [e.t - 0.25, e.t])
        lows += m[a:b].min() < 1.0 - 0.3 * min(e.peak_g, 0.3)
    assert lows >= len(neg) // 2


def test_night_structure(night_scn):
    s = night_scn
    ctx = [g.context for g in s.segments]
    assert ctx[0] == "rest" and "sleep_onset" in ctx and "sleep" in ctx
    assert ctx[-1] == "walking"
    hyp = [e for e in s.truth if e.kind == "hypnic"]
    assert len(hyp) >= 2 and all(e.context == "sleep_onset" for e in hyp)
    assert any(e.category == "sleep" and e.kind != "hypnic" for e in s.truth)


def test_day_has_jerks_in_every_category():
    s = S.generate("day", minutes=20, seed=6)
    cats = {e.category for e in s.truth}
    assert {"rest", "walking", "activity"} <= cats
    ctxs = {e.context for e in s.truth}
    assert {"typing", "eating", "vehicle", "walking", "rest"} <= ctxs


def test_default_lengths():
    assert S._DEFAULTS["night"][0] == 480
    s = S.generate("tremor")
    assert len(s.t) == 3 * 60 * 200


@pytest.mark.parametrize("rate", [50, 1000])
def test_other_rates(rate):
    s = S.generate("walking", minutes=1, rate_hz=rate, seed=2)
    assert len(s.t) == 60 * rate
    assert np.allclose(np.diff(s.t), 1.0 / rate)
    assert np.isfinite(s.acc).all()
    _check_truth(s)
    # walking shows steps at 1.2-2 Hz: a spectral line in |acc|
    m = np.linalg.norm(s.acc, axis=1)
    seg = [g for g in s.segments if g.context == "walking"][0]
    i0, i1 = np.searchsorted(s.t, [seg.start + 2, seg.end - 2])
    x = m[i0:i1] - m[i0:i1].mean()
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    f = np.fft.rfftfreq(len(x), 1 / rate)
    band = (f > 0.5) & (f < 5)
    assert 1.2 <= f[band][np.argmax(spec[band])] <= 2.1


@pytest.mark.parametrize("sensor", list(S.SENSORS))
def test_quantised_on_the_lsb_grid(sensor):
    s = S.generate("activity", minutes=1, seed=1, sensor=sensor)
    la, lg = s.meta["acc_lsb_g"], s.meta["gyro_lsb_dps"]
    qa = s.acc / la
    qg = s.gyro / lg
    assert np.max(np.abs(qa - np.rint(qa))) < 1e-6
    assert np.max(np.abs(qg - np.rint(qg))) < 1e-6
    assert qa.max() <= 32767 + 1e-6 and qa.min() >= -32768 - 1e-6


def test_lsb_sizes():
    assert S.SENSORS["LSM6DSOX"].acc_lsb_g[8] == pytest.approx(0.244e-3)
    assert S.SENSORS["LSM6DSOX"].gyro_lsb_dps[2000] == pytest.approx(0.070)
    assert S.SENSORS["MPU-6050"].acc_lsb_g[8] == pytest.approx(1 / 4096)
    assert S.SENSORS["MPU-6050"].gyro_lsb_dps[2000] == pytest.approx(1 / 16.4)


def test_clipping_at_range():
    s = S.generate("walking", minutes=1, seed=3, region="ankle", acc_range_g=2,
                   gyro_range_dps=125)
    la, lg = s.meta["acc_lsb_g"], s.meta["gyro_lsb_dps"]
    # The full scale of a 16-bit sample, -32768..32767 LSB; saturation shows in |value|
    # (the limb frame's half turn about z moves it between signs on x and y).
    assert s.acc.max() <= 32767 * la + 1e-12 and s.acc.min() >= -32768 * la - 1e-12
    assert np.abs(s.acc).max() == pytest.approx(32767.5 * la, abs=0.6 * la)
    assert np.sum(np.abs(s.acc) >= 32767 * la - 1e-9) > 10       # heel strikes saturate
    assert np.abs(s.gyro).max() == pytest.approx(32767.5 * lg, abs=0.6 * lg)  # shank swing
    assert np.abs(s.gyro).max() <= 32768 * lg + 1e-9


def test_sensor_noise_matches_datasheet_density():
    """Noise + quantisation: real minus ideal, in a quiet stretch, has the expected RMS."""
    for sensor in ("LSM6DSOX", "MPU-6050"):
        r = S.generate("rest", minutes=1, seed=9, sensor=sensor, jerks_per_hour=0)
        i = S.generate("rest", minutes=1, seed=9, sensor=sensor, jerks_per_hour=0,
                       ideal=True)
        d = (r.acc - i.acc)[2000:10000]
        d = d - d.mean(axis=0)
        spec = S.SENSORS[sensor]
        enbw = 1.065 * 0.4 * 200          # gaussian low-pass at 0.4 * rate
        want = math.sqrt((spec.acc_nd_ug * 1e-6) ** 2 * enbw + r.meta["acc_lsb_g"] ** 2 / 12)
        assert d.std() == pytest.approx(want, rel=0.2)
        # constant offsets / bias are small but present
        assert np.all(np.abs(r.meta["gyro_bias_dps"]) < 6 * spec.gyro_bias_sd_dps + 1e-9)


def test_timing_jitter_option():
    s = S.generate("rest", minutes=1, seed=1, jitter_us=200)
    assert np.all(np.diff(s.t) > 0)
    dev = s.t - np.arange(len(s.t)) / 200.0
    assert 100e-6 < dev.std() < 300e-6


def test_gravity_and_gyro_are_kinematically_consistent():
    """For background motion d(up)/dt = -omega x up (a posture change with a lean)."""
    reg = S.REGIONS["trunk"]
    fs = 1000.0
    t = np.arange(0, 8.0, 1 / fs)
    rng = np.random.default_rng(0)
    u0 = S._posture_up(rng, "trunk", "sit")
    seg = S._Seg(0, "posture", 0.0, 8.0, 0, len(t), t, fs, 0.0, u0, rng, reg,
                 {"from": "sit", "to": "stand", "u_target": S._posture_up(rng, "trunk", "stand")})
    S._ctx_posture(seg, [])
    seg.comps = [c for c in seg.comps if not isinstance(c, S._Osc)]   # keep the big motions
    seg.prepare()
    acc, gyr, u = seg.render_times(t, 0)
    du = np.gradient(u, t, axis=0)
    pred = -np.cross(gyr / S.DEG, u)
    assert np.abs(gyr).max() > 20                       # something happened
    assert np.max(np.abs(du - pred)) < 0.02 * np.abs(du).max() + 1e-3
    assert np.allclose(np.linalg.norm(u, axis=1), 1.0)


def test_write_csvs_and_parse_back(tmp_path):
    s = S.generate("negative", minutes=1.5, seed=2)
    raw, tru, seg = tmp_path / "raw.csv", tmp_path / "truth.csv", tmp_path / "seg.csv"
    S.write_raw_csv(s, raw)
    S.write_truth_csv(s, tru)
    S.write_segments_csv(s, seg)
    with open(raw) as f:
        lines = f.read().splitlines()
    assert lines[0] == "t,ax,ay,az,gx,gy,gz"
    assert len(lines) == len(s.t) + 1
    first = lines[1].split(",")
    assert len(first[0].split(".")[1]) == 6
    assert all(len(x.split(".")[1]) == 4 for x in first[1:4])
    assert all(len(x.split(".")[1]) == 2 for x in first[4:7])
    data = np.loadtxt(raw, delimiter=",", skiprows=1)
    assert np.max(np.abs(data[:, 0] - s.t)) <= 5e-7
    assert np.max(np.abs(data[:, 1:4] - s.acc)) <= 5e-5 + 1e-9
    assert np.max(np.abs(data[:, 4:7] - s.gyro)) <= 5e-3 + 1e-9
    with open(tru) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0].keys()) == list(S.TRUTH_COLUMNS) if rows else True
    assert len(rows) == len(s.truth)
    for r, e in zip(rows, s.truth):
        assert float(r["t"]) == pytest.approx(e.t, abs=1e-6)
        assert r["kind"] == e.kind and r["context"] == e.context
        assert r["category"] == e.category and int(r["group"]) == e.group
        assert float(r["peak_g"]) == pytest.approx(e.peak_g, abs=1e-4)
        assert float(r["duration_ms"]) == pytest.approx(e.duration_ms, abs=0.1)
        assert (float(r["ax"]), float(r["ay"]), float(r["az"])) == \
            pytest.approx(e.axis, abs=1e-4)
    with open(seg) as f:
        rows = list(csv.DictReader(f))
    assert [k for k in rows[0]] == ["start", "end", "context", "category"]
    assert [(float(r["start"]), r["context"]) for r in rows] == \
        [(pytest.approx(g.start, abs=1e-6), g.context) for g in s.segments]


def test_raw_csv_is_read_by_the_firmware_parser(tmp_path):
    """The project's own raw CSV parser accepts the file (if importable here)."""
    rawcsv = pytest.importorskip("jerklog_firmware.rawcsv")
    s = S.generate("rest", minutes=0.5, seed=1)
    p = tmp_path / "raw.csv"
    S.write_raw_csv(s, p)
    with open(p) as f:
        rd = rawcsv.RawReader(f)
        assert rd.rate_hz == 200 and rd.has_gyro


@pytest.mark.parametrize("region, sign", [("wrist", -1), ("ankle", -1), ("thigh", -1),
                                          ("trunk", 1)])
def test_the_sensor_frame_is_the_one_hardware_wearing_md_mounts(region, sign):
    # Walking upright: gravity's reaction ("up") lies along +x on the trunk (x to the head)
    # and along -x on a limb (x away from the trunk, down the arm or the leg).
    s = S.generate("walking", minutes=1, seed=5, region=region)
    walking = np.zeros(len(s.t), dtype=bool)
    for seg in s.segments:
        if seg.context == "walking":
            walking |= (s.t >= seg.start) & (s.t < seg.end)
    assert sign * np.mean(s.acc[walking, 0]) > 0.5


def test_the_posture_axis_follows_the_region():
    from jerklog_firmware import detector
    assert detector.for_region(None, "left_wrist")["up_axis"] == -1
    assert detector.for_region({}, "ankle")["up_axis"] == -1
    assert detector.for_region(None, "trunk")["up_axis"] == 1
    assert detector.for_region(None, "unknown")["up_axis"] == 1
    assert detector.for_region({"up_axis": 3}, "wrist")["up_axis"] == 3   # a setting wins
