"""The independent generator (jerklog.sim.independent) and its benchmark's arithmetic
(jerklog.bench.independent). Short sessions only: each test takes a few seconds at most."""
import dataclasses

import numpy as np
import pytest

from jerklog.bench import independent as bench
from jerklog.recordings.recording import Recording
from jerklog.sim import independent as ind
from jerklog.sim.independent import augment, jerks
from jerklog.sim.independent.kinematics import DT, integrate


@pytest.fixture(scope="module", params=["A", "B"])
def rest(request):
    return ind.session(request.param, "rest", 6, ind.RATES[request.param][1], "trunk", 7)


@pytest.fixture(scope="module", params=["A", "B"])
def sleep(request):
    return ind.session(request.param, "sleep", 30, ind.RATES[request.param][0], "wrist", 8)


def _dynamic(t, acc, t_s, before_s=0.5, gap_s=0.15):
    """|acc - mean of the before_s ending gap_s before t_s| at every sample."""
    lo, hi = np.searchsorted(t, [t_s - gap_s - before_s, t_s - gap_s])
    return np.linalg.norm(acc - acc[lo:hi].mean(axis=0), axis=1)


def test_the_truth_is_where_the_signal_is(rest):
    singles = [j for j in rest.jerks if j.position == "single"]
    assert len(singles) >= 4
    for j in singles:
        d = _dynamic(rest.t, rest.acc, j.t)
        lo, hi = np.searchsorted(rest.t, [j.t - 0.15, j.t + 0.15])
        i = lo + int(np.argmax(d[lo:hi]))
        # the sensor's filter delays a few ms; a peak elsewhere would be another signal
        assert -2 <= 1000 * (rest.t[i] - j.t) <= 15, j
        assert d[i] == pytest.approx(j.sampled_g, rel=0.3, abs=0.03), j
        # nothing in the second before the jerk is a quarter of it (it is isolated)
        b0, b1 = np.searchsorted(rest.t, [j.t - 1.2, j.t - 0.2])
        assert d[b0:b1].max() < 0.25 * j.peak_g + 0.02, j


def test_jerks_are_40_to_250_ms_and_015_to_2_g_in_every_shape(rest, sleep):
    rng = np.random.default_rng(3)
    for fam in jerks.FAMILIES.values():
        for shape in jerks.SHAPES:
            for duration in (0.04, 0.25):
                p = fam.profile(rng, shape, duration, 1.0)
                assert 1000 * jerks.span_10(np.abs(p)) == pytest.approx(1000 * duration, abs=3)
                v, x = integrate(p)          # the limb comes back: compact support
                assert abs(v[-1]) < 1e-9 and abs(x[-1]) < 1e-9
    for j in rest.jerks + sleep.jerks:
        assert 0.12 <= j.peak_g <= 2.3, j       # the centripetal part adds a little
        assert 30 <= j.duration_ms <= 290, j
        assert j.shape in jerks.SHAPES + ("lapse",)


def test_kinds_and_series_labels(sleep, rest):
    for s in (sleep, rest):
        episodes = {}
        for j in s.jerks:
            episodes.setdefault(j.episode, []).append(j)
        for members in episodes.values():
            kinds = {j.kind for j in members}
            assert len(kinds) == 1
            kind = kinds.pop()
            if kind in ("series", "rhythmic"):
                assert len(members) >= (2 if kind == "series" else 3)
                assert [j.position for j in members] == ["first"] + ["later"] * (len(members) - 1)
                gaps = np.diff([j.t for j in members])
                assert np.allclose(gaps, [j.gap_s for j in members[1:]])
                assert gaps.min() >= 0.12 - 1e-9 and gaps.max() <= 1.0 + 1e-9
                if kind == "rhythmic":   # regular: 1-8 Hz with a few % jitter
                    assert 0.9 <= 1 / gaps.mean() <= 8.5
                    assert gaps.std() < 0.15 * gaps.mean()
            else:
                assert [j.position for j in members] == ["single"]
    onset = next(sp for sp in sleep.spans if sp.phase == "onset")
    hypnic = [j for j in sleep.jerks if j.kind == "hypnic"]
    assert hypnic and all(onset.start <= j.t < onset.end for j in hypnic)
    asleep = [j for j in sleep.jerks if j.t >= onset.end]
    assert asleep and not any(j.corrective for j in asleep)   # asleep, nobody corrects
    assert {j.kind for j in asleep} <= {"single", "series", "rhythmic"}
    assert {j.kind for j in rest.jerks} >= {"single", "negative"}
    assert any(j.corrective for j in rest.jerks)


def test_a_negative_jerk_falls_then_is_caught_along_gravity(rest):
    neg = [j for j in rest.jerks if j.kind == "negative"]
    assert neg
    for j in neg:
        lo, hi = np.searchsorted(rest.t, [j.t - 0.8, j.t - 0.3])
        up = rest.acc[lo:hi].mean(axis=0)
        up /= np.linalg.norm(up)
        a, b = np.searchsorted(rest.t, [j.t - 0.3, j.t + 0.05])
        along = (rest.acc[a:b] - rest.acc[lo:hi].mean(axis=0)) @ up
        low, high = int(np.argmin(along)), int(np.argmax(along))
        assert along[low] < -0.02 and low < high      # the drop comes first, then the catch


def test_the_same_seed_gives_the_same_session_and_another_seed_another():
    a = ind.session("B", "typing", 1, 200, "wrist", 5)
    b = ind.session("B", "typing", 1, 200, "wrist", 5)
    c = ind.session("B", "typing", 1, 200, "wrist", 6)
    assert np.array_equal(a.acc, b.acc) and np.array_equal(a.gyro, b.gyro)
    assert a.jerks == b.jerks and a.marks == b.marks
    assert not np.array_equal(a.acc, c.acc)
    assert [j.t for j in a.jerks] != [j.t for j in c.jerks]


def test_the_families_differ_in_shapes_backgrounds_and_sensors():
    rng = np.random.default_rng(11)
    for shape in jerks.SHAPES:
        corr = []
        for _ in range(10):
            pa = jerks.FAMILIES["A"].profile(rng, shape, 0.12, 1.0)
            pb = jerks.FAMILIES["B"].profile(rng, shape, 0.12, 1.0)
            n = min(len(pa), len(pb), int(0.4 / DT))
            corr.append(np.corrcoef(pa[:n], pb[:n])[0, 1])
        assert np.median(corr) < 0.9, shape
    a = ind.session("A", "walking", 1, 208, "ankle", 3)
    b = ind.session("B", "walking", 1, 200, "ankle", 3)
    assert a.sensor != b.sensor and set(ind.RATES["A"]).isdisjoint(ind.RATES["B"])
    # family A steps ring like tissue at 15-28 Hz; B's chirps sweep down to 10-18 Hz
    assert {m[2] for m in a.marks} >= {"step"} and {m[2] for m in b.marks} >= {"step"}
    for s in (a, b):
        assert np.isfinite(s.acc).all() and np.abs(s.acc).max() > 1.5   # heel strikes


def _walk(seconds=60.0, rate=100.0, quiet_until=30.0):
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * rate)) / rate
    acc = np.zeros((len(t), 3))
    acc[:, 0] = -1.0
    acc += rng.normal(0, 0.004, acc.shape)
    busy = t >= quiet_until               # steps in the second half
    acc[busy, 0] += 0.4 * np.sin(2 * np.pi * 1.8 * t[busy])
    return Recording("walk", t, acc, rng.normal(0, 0.3, acc.shape), rate, "test", "ankle")


def test_adding_jerks_to_a_recording_changes_only_the_samples_around_them():
    rec = _walk()
    before_acc, before_gyro = rec.acc.copy(), rec.gyro.copy()
    out, truth = augment.add_jerks(rec, "A", 1, every_s=8.0)
    assert np.array_equal(rec.acc, before_acc) and np.array_equal(rec.gyro, before_gyro)
    assert np.array_equal(out.t, rec.t) and len(truth) >= 4
    changed = np.flatnonzero(np.any(out.acc != rec.acc, axis=1)
                             | np.any(out.gyro != rec.gyro, axis=1))
    assert len(changed)
    near = np.zeros(len(rec.t), bool)
    for j in truth:                       # a jerk, its return and corrective movement
        near |= (rec.t > j.t - 0.6) & (rec.t < j.t + 4.0)
    assert near[changed].all()
    assert (~near).sum() > 0.3 * len(rec.t)     # and most of the recording is untouched
    assert np.array_equal(out.acc[~near], rec.acc[~near])
    for j in truth:
        assert (j.context == "quiet") == (j.t < 30.5), j   # quiet half, busy half
        i = np.searchsorted(rec.t, j.t)
        lo, hi = np.searchsorted(rec.t, [j.t - 0.1, j.t + 0.1])
        gain = np.linalg.norm(out.acc[lo:hi] - rec.acc[lo:hi], axis=1)
        assert abs(lo + int(np.argmax(gain)) - i) <= 2 or j.position == "later"


def _jerk(t, kind="single", position="single", context="rest", shape="biphasic",
          gap=0.0, corrective=False, episode=0):
    return ind.TrueJerk(t=t, kind=kind, position=position, episode=episode, shape=shape,
                        peak_g=0.5, sampled_g=0.5, duration_ms=100, gap_s=gap,
                        corrective=corrective, context=context, family="A")


def _event(t_s, kind="jerk", confidence=0.9):
    return {"t_ms": 1000.0 * t_s, "kind": kind, "confidence": confidence,
            "duration_ms": 100}


def test_the_per_kind_tally_counts_each_jerk_in_its_row():
    truth = [_jerk(10.0),                                             # found
             _jerk(20.0, "series", "first", episode=1),               # found
             _jerk(20.3, "series", "later", gap=0.3, episode=1),      # missed
             _jerk(20.5, "series", "later", gap=0.2, episode=1),      # found 90 ms late
             _jerk(40.0, "negative", shape="lapse", context="asleep"),  # found as negative
             _jerk(70.0, "startle", context="walking", corrective=True)]  # missed
    events = [_event(10.004), _event(19.99), _event(20.59), _event(40.0, "negative"),
              _event(55.0),                                            # false, asleep
              _event(71.0),                                            # false, after a jerk
              _event(100.0, "tremor")]                                 # not a jerk event
    spans = [(0.0, 30.0, "rest"), (30.0, 60.0, "asleep"), (60.0, 120.0, "walking")]
    tally = bench.KindTally()
    tally.add(truth, spans, events, marks=[(54.9, 55.2, "hand put down")])
    assert tally.sensitivity(("kind", "rest+asleep", "single")) == (1.0, 1)
    assert tally.sensitivity(("kind", "rest+asleep", "first of a series")) == (1.0, 1)
    assert tally.sensitivity(("kind", "rest+asleep", "later in a series")) == (0.5, 2)
    assert tally.sensitivity(("kind", "rest+asleep", "negative")) == (1.0, 1)
    assert tally.sensitivity(("kind", "activity", "startle")) == (0.0, 1)
    assert tally.sensitivity(("kind", "rest+asleep", "all")) == (0.8, 5)
    assert tally.sensitivity(("kind", "all", "all")) == (4 / 6, 6)
    assert tally.sensitivity(("context", "asleep")) == (1.0, 1)
    assert tally.sensitivity(("gap", "rest+asleep", 0.12, 0.3)) == (1.0, 1)
    assert tally.sensitivity(("gap", "rest+asleep", 0.3, 0.45)) == (0.0, 1)
    assert tally.sensitivity(("labelled negative", "rest+asleep")) == (1.0, 1)
    assert tally.sensitivity(("corrective", "activity", True)) == (0.0, 1)
    assert tally.false == {"asleep": 1, "walking": 1}
    assert tally.causes == {("rest+asleep", "hand put down"): 1,
                            ("activity", bench.AFTER_JERK): 1}
    assert tally.false_rate("walking") == (60.0, 1, pytest.approx(1 / 60))
    assert sorted(tally.errors_ms) == pytest.approx([0.0, 4.0, 10.0, 90.0])
    text = bench.format_sets({"tuning seeds": tally})
    assert "| later in a series | 0.50 (2) | >= 0.95 |" in text
    assert "| false events per hour, asleep | 120.0 (1 in 0.01 h) | <= 0.2 |" in text


def test_a_tuning_run_sees_no_held_out_figures():
    assert bench.sets_for(("tuning",)) == ["tuning seeds"]
    assert bench.sets_for(("held-out",)) == ["held-out seeds", "held-out family"]
    assert bench.sets_for(("tuning", "held-out")) == list(bench.SETS)
    assert bench.SETS["held-out family"][0] != bench.SETS["tuning seeds"][0]
    assert set(bench.SETS["held-out seeds"][1]).isdisjoint(bench.SETS["tuning seeds"][1])


# -- several sensors worn at once (sim/independent/body.py, bench/body.py)

@pytest.fixture(scope="module", params=["A", "B"])
def walk3(request):
    from jerklog.sim.independent.body import body_session
    return body_session(request.param, "walking", 2, ind.RATES[request.param][1], 5)


def test_body_wide_steps_reach_every_sensor_at_its_own_lag(walk3):
    from jerklog.sim.independent.body import LAGS
    body = np.array([m[0] for m in walk3.body_marks if m[2] == "step"])
    assert len(body) > 150  # two minutes of steps
    for s in walk3.sensors:
        own = np.array(sorted(m[0] for m in s.marks if m[2] == "step"))
        lo, hi = LAGS["walking"][s.region]
        a, b = np.searchsorted(own, [body + lo - 0.015, body + hi + 0.015])
        assert np.all(b > a), s.region   # every step of the body is felt there, at its lag
    # each region its own size: the ankle's heel strikes are the largest
    dyn = {s.region: np.percentile(np.linalg.norm(s.acc - s.acc.mean(axis=0), axis=1), 99)
           for s in walk3.sensors}
    assert dyn["ankle"] > dyn["trunk"]


def test_generalised_jerks_come_within_50_ms_multifocal_ones_apart_focal_alone():
    from jerklog.sim.independent.body import body_session
    b = body_session("A", "rest", 8, 208, 3)
    seen = {"focal": 0, "multifocal": 0, "generalised": 0}
    by_episode = {}
    for k, s in enumerate(b.sensors):
        for j in s.jerks:
            by_episode.setdefault(j.episode, []).append((k, j))
    for members in by_episode.values():
        scope = members[0][1].scope
        assert all(j.scope == scope for _, j in members)
        seen[scope] += 1
        sensors = {k for k, _ in members}
        if scope == "focal":
            assert len(sensors) == 1
            continue
        assert len(sensors) >= 2
        firsts = sorted(min(j.t for k2, j in members if k2 == k) for k in sensors)
        if scope == "generalised":
            assert firsts[-1] - firsts[0] <= 0.05 + 1e-9
            assert firsts[1] - firsts[0] >= 0.01 - 1e-9
        else:
            assert firsts[1] - firsts[0] >= 0.4 - 1e-9
    assert min(seen.values()) >= 2, seen
    assert all(abs(c) <= 8.0 for c in b.clock_ms)


def test_the_same_body_seed_gives_the_same_sensors():
    from jerklog.sim.independent.body import body_session
    a = body_session("B", "car", 1, 100, 4)
    b = body_session("B", "car", 1, 100, 4)
    c = body_session("B", "car", 1, 100, 5)
    for x, y in zip(a.sensors, b.sensors):
        assert np.array_equal(x.acc, y.acc) and x.jerks == y.jerks
    assert not np.array_equal(a.sensors[0].acc, c.sensors[0].acc)
    assert a.sensors[0].gyro is None   # family B at 100 Hz: an accelerometer alone


def test_the_tally_counts_scopes_and_the_candidates_offered():
    truth = [_jerk(10.0), _jerk(20.0, context="walking")]
    truth[1] = dataclasses.replace(truth[1], scope="generalised")
    tally = bench.KindTally()
    tally.add(truth, [(0.0, 15.0, "rest"), (15.0, 30.0, "walking")], [_event(10.0)],
              cands_ms=[10000.0, 20090.0], scopes=True)
    assert tally.sensitivity(("scope", "rest+asleep", "focal")) == (1.0, 1)
    assert tally.sensitivity(("scope", "activity", "generalised")) == (0.0, 1)
    assert tally.sensitivity(("offered", "walking")) == (1.0, 1)
    assert tally.sensitivity(("offered group", "all")) == (1.0, 2)
