"""The detector: behaviour on simple truth, settings validation, and identical results under
MicroPython and CPython on the same samples."""
import json
import os
import tempfile

import pytest

from conftest import run_micropython, synthetic_recording
from jerklog.firmware import detector
from jerklog.recordings.analysis import detect_samples

JERKS = (12.0, 20.25, 31.5, 44.125)


def test_isolated_jerks_at_rest_are_found_at_their_peak_time():
    raw = synthetic_recording(60, 200, JERKS, jerk_g=0.5)
    events = detect_samples(raw)
    assert [round(e["t_ms"] / 1000.0, 3) for e in events] == pytest.approx(list(JERKS),
                                                                           abs=0.006)
    for e in events:
        assert 0.45 <= e["peak_g"] <= 0.55
        assert 20 <= e["duration_ms"] <= 120
        assert e["axis"] == "+z" and e["context"] == "rest" and e["posture"] == "upright"
        assert e["peak_dps"] == pytest.approx(150, abs=10)
        assert 0.5 < e["confidence"] <= 1


@pytest.mark.parametrize("rate", [50, 100, 200, 833, 1000])
def test_rates_from_50_to_1000_hz(rate):
    raw = synthetic_recording(40, rate, (10.0, 25.0), jerk_g=0.6, jerk_ms=80)
    events = detect_samples(raw)
    assert [e["t_ms"] for e in events] == pytest.approx([10000, 25000], abs=1000 // rate + 2)


def test_quiet_recording_has_no_events():
    assert detect_samples(synthetic_recording(120, 100, ())) == []


def test_a_slow_posture_change_is_not_a_jerk():
    raw = synthetic_recording(30, 100, ())
    # Tilt gravity from +x to +z over 1.5 s at t=10 s (lying down).
    import numpy as np
    t = raw.t_us / 1e6
    phase = np.clip((t - 10.0) / 1.5, 0, 1) * np.pi / 2
    raw.acc_mg[:, 0] = np.round(1000 * np.cos(phase)).astype(int)
    raw.acc_mg[:, 2] = np.round(1000 * np.sin(phase)).astype(int)
    assert detect_samples(raw) == []


def _updates_until_event(raw):
    """(time of the sample at which each event came out, its peak time), ms."""
    det = detector.Detector(raw.rate_hz)
    out = []
    for t, v in zip(raw.t_ms().tolist(), raw.values().tolist()):
        if det.update(t, *v):
            out.append((t, det.ev_t_ms))
    return out, det


def test_a_jerk_comes_out_after_its_look_ahead_and_flush_hands_out_the_last():
    raw = synthetic_recording(20, 200, (10.0, 19.8), jerk_g=0.5)
    out, det = _updates_until_event(raw)
    ((t_out, t_peak),) = out  # the jerk at 19.8 s is still waiting when the samples end
    assert t_peak == pytest.approx(10000, abs=6)
    confirm = detector.SETTINGS["confirm_ms"][0]
    assert t_peak + confirm <= t_out <= t_peak + confirm + 200
    assert det.flush() and det.ev_t_ms == pytest.approx(19800, abs=6)
    assert not det.flush()
    assert [e["t_ms"] for e in detect_samples(raw)] == pytest.approx([10000, 19800], abs=6)


def _with_oscillation(raw, start_s, seconds, hz, g):
    import numpy as np
    t = raw.t_us / 1e6
    on = (t >= start_s) & (t < start_s + seconds)
    raw.acc_mg[on, 2] += np.round(1000 * g * np.sin(2 * np.pi * hz * (t[on] - start_s))).astype(int)
    return raw


def test_a_jerk_the_movement_carries_on_from_is_dropped():
    # Scratching: a first stroke as sharp as a jerk, then 5 Hz strokes for 3 s.
    lone = synthetic_recording(30, 200, (10.0,), jerk_g=0.5)
    assert len(detect_samples(lone)) == 1
    carried = _with_oscillation(synthetic_recording(30, 200, (10.0,), jerk_g=0.5),
                                10.1, 3.0, 5.0, 0.4)
    out, det = _updates_until_event(carried)
    assert [e for e in detect_samples(carried) if e["kind"] != "tremor"] == []
    assert det.dropped == 1 and det.events == len(out)  # accepted, then dropped
    # Dropping is the look-ahead's doing: without it the first stroke is an event.
    assert len(detect_samples(carried, {"confirm_ms": 0})) == 1


def test_a_jerk_in_the_last_samples_is_judged_at_the_end():
    raw = synthetic_recording(20, 200, (19.98,), jerk_g=0.5)  # still rising at the end
    assert [e["t_ms"] for e in detect_samples(raw)] == pytest.approx([19980], abs=6)


def test_reset_forgets_a_waiting_jerk():
    raw = synthetic_recording(30, 200, (10.0, 25.0), jerk_g=0.5)
    det = detector.Detector(200)
    out = []
    for t, v in zip(raw.t_ms().tolist(), raw.values().tolist()):
        if t == 10300:
            det.reset()  # as after power-up: the jerk at 10 s is still waiting
        if det.update(t, *v):
            out.append(det.ev_t_ms)
    while det.flush():
        out.append(det.ev_t_ms)
    assert out == pytest.approx([25000], abs=6)


def test_the_jerks_of_a_series_are_all_kept():
    raw = synthetic_recording(30, 200, (10.0, 10.4, 10.8, 11.2), jerk_g=0.5)
    assert [e["t_ms"] for e in detect_samples(raw)] == pytest.approx(
        [10000, 10400, 10800, 11200], abs=6)


@pytest.mark.parametrize("rate,sigma_s", [(200, 0.012), (200, 0.006), (50, 0.006)])
def test_a_rebound_is_part_of_its_jerk(rate, sigma_s):
    # Too short to be accepted itself or long enough to be judged: either way no movement.
    import numpy as np
    raw = synthetic_recording(30, rate, (10.0,), jerk_g=1.5)
    t = raw.t_us / 1e6
    raw.acc_mg[:, 2] -= np.round(400 * np.exp(-0.5 * ((t - 10.2) / sigma_s) ** 2)).astype(int)
    assert [e["t_ms"] for e in detect_samples(raw)] == pytest.approx([10000], abs=1000 // rate)


def _pulses(pulses, end_ms=8000):
    """1 kHz, still, gravity on x; (start ms, end ms, mg on y) rectangles."""
    import numpy as np
    t_ms = np.arange(end_ms)
    acc = np.zeros((end_ms, 3), dtype=np.int64)
    acc[:, 0] = 1000
    for t0, t1, mg in pulses:
        acc[t0:t1, 1] = mg
    from jerklog.recordings.rawfile import RawSamples
    return RawSamples(t_ms * 1000, acc, np.zeros_like(acc))


def test_two_jerks_judged_on_the_same_sample_both_come_out():
    # A and B wait; a long movement keeps a candidate open past both look-aheads' ends, so
    # both are due on the same sample: one per call, none overwritten.
    raw = _pulses([(3000, 3030, 1000), (3200, 3230, 1000), (3850, 4250, 200)])
    out, det = _updates_until_event(raw)
    assert [t for _, t in out] == [3000, 3200]
    assert out[1][0] > out[0][0] and det.events == 2


def test_a_tap_in_the_look_ahead_drops_the_jerk_even_when_a_jerk_follows():
    raw = _pulses([(3000, 3030, 1000), (3300, 3310, 400), (3500, 3530, 1000)])
    assert [e["t_ms"] for e in detect_samples(raw)] == [3500]


def test_nothing_stands_out_of_violent_shaking():
    # 6 g at 3 Hz (a shaken sensor) with 14 g spikes: no background to judge them against.
    raw = _with_oscillation(synthetic_recording(30, 200, (15.0, 20.0), jerk_g=14.0),
                            5.0, 20.0, 3.0, 6.0)
    assert [e for e in detect_samples(raw) if e["kind"] != "tremor"] == []


def test_settings_are_validated_with_clear_messages():
    assert detector.validate({"min_peak_mg": 150})["min_peak_mg"] == 150
    with pytest.raises(ValueError, match="min_peak_mg=5 is outside 30..2000"):
        detector.validate({"min_peak_mg": 5})
    with pytest.raises(ValueError, match="unknown detector setting 'min_peak'"):
        detector.validate({"min_peak": 100})
    with pytest.raises(ValueError, match="unknown detector setting 'series_factor_x10'.*"
                                         "rest_rank_factor_x10"):
        detector.validate({"series_factor_x10": 15})  # renamed: the rank is now a setting
    with pytest.raises(ValueError, match="confirm_ms=5000 is outside 0..2000"):
        detector.validate({"confirm_ms": 5000})
    with pytest.raises(ValueError, match="whole number"):
        detector.validate({"hold_ms": 40.5})
    with pytest.raises(ValueError, match="below max_duration_ms"):
        detector.validate({"min_duration_ms": 200, "max_duration_ms": 150})


MP_DETECT = """
import sys, json
from array import array
from jerklog_firmware import detector
FIELDS = ('t_ms', 'duration_ms', 'peak_mg', 'peak_ddps', 'kind', 'axis', 'context', 'posture',
          'confidence', 'activity_mg')
f = open(sys.argv[1])
rate = int(f.readline())
settings = f.readline().strip()
det = detector.Detector(rate, json.loads(settings) if settings else None)
out = []
while True:
    line = f.readline()
    if not line:
        break
    v = [int(x) for x in line.split(',')]
    if det.update(v[0], v[1], v[2], v[3], v[4], v[5], v[6]):
        out.append([getattr(det, 'ev_' + k) for k in FIELDS])
while det.flush():
    out.append([getattr(det, 'ev_' + k) for k in FIELDS])
print(json.dumps(out))
"""


def micropython_events(raw, settings=None):
    """Run the detector under the micropython executable over raw's integer samples."""
    t_ms = raw.t_ms()
    values = raw.values()
    body = "\n".join("%d,%s" % (t, ",".join(str(int(x)) for x in v))
                     for t, v in zip(t_ms.tolist(), values.tolist()))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("%d\n%s\n%s\n" % (raw.rate_hz, json.dumps(settings) if settings else "",
                                   body))
    try:
        return json.loads(run_micropython(MP_DETECT, f.name))
    finally:
        os.unlink(f.name)


FIELDS = ("t_ms", "duration_ms", "peak_mg", "peak_ddps", "kind", "axis", "context", "posture",
          "confidence", "activity_mg")


def cpython_events(raw, settings=None):
    det = detector.Detector(raw.rate_hz, settings)
    out = []
    for t, v in zip(raw.t_ms().tolist(), raw.values().tolist()):
        if det.update(t, *v):
            out.append([getattr(det, "ev_" + k) for k in FIELDS])
    while det.flush():
        out.append([getattr(det, "ev_" + k) for k in FIELDS])
    return out


def test_micropython_and_cpython_give_identical_events():
    raw = synthetic_recording(90, 200, (10.0, 11.0, 30.0, 55.5, 70.0), jerk_g=0.4, seed=3,
                              noise_g=0.02)
    py = cpython_events(raw)
    assert len(py) >= 4
    assert micropython_events(raw) == py
    tuned = {"min_peak_mg": 300, "hold_ms": 60}
    assert micropython_events(raw, tuned) == cpython_events(raw, tuned)


MP_HEAP_LOCKED = """
import micropython
from array import array
from jerklog_firmware import detector, protocol
det = detector.Detector(200)
sent = [0]
def write(buf, n):
    sent[0] += n
w = protocol.FrameWriter(write, 0x3FFFFFFF, 0x3FFFFFFF)
# 40 s at 200 Hz: a jerk every 4 s, and a smaller bump (a rejected candidate) after each
N = 8000
ax = array('h', range(N))  # no N-item list first: it would take 64 KB of a board's heap
for i in range(N):
    k = i % 800
    ax[i] = 700 if 400 <= k < 406 else (150 if 500 <= k < 503 else (i * 7919) % 5 - 2)
events = 0
micropython.heap_lock()
i = 0
while i < N:
    if det.update(i * 5, ax[i], 1000, 3, 1, -2, 0):
        w.event(det.ev_t_ms, det.ev_duration_ms, det.ev_peak_mg, det.ev_peak_ddps,
                det.ev_kind, det.ev_axis, det.ev_context, det.ev_posture,
                det.ev_confidence, det.ev_activity_mg)
        events += 1
    if i % 200 == 0:
        w.heartbeat(i * 5, det.samples, 0, det.events)
    i += 1
micropython.heap_unlock()
print(events, sent[0], det.candidates)
"""


def test_detector_and_frames_do_not_allocate_per_sample():
    events, sent, candidates = map(int, run_micropython(MP_HEAP_LOCKED).split())
    assert events >= 9   # the loop really ran through events under the lock
    assert candidates > events  # and through rejected candidates
    assert sent > 0


def test_context_becomes_asleep_after_a_long_quiet_stretch():
    raw = synthetic_recording(13 * 60, 50, (60.0, 12.5 * 60), jerk_g=0.5, gyro=False)
    early, late = detect_samples(raw)
    assert early["context"] == "rest" and late["context"] == "asleep"
    assert late["peak_dps"] is None  # no gyro: empty, not zero


def test_continuous_tremor_is_an_episode_not_jerks():
    import numpy as np
    raw = synthetic_recording(90, 200, ())
    t = raw.t_us / 1e6
    on = (t >= 20) & (t < 80)
    raw.acc_mg[on, 2] += np.round(250 * np.sin(2 * np.pi * 6.0 * t[on])).astype(int)
    events = detect_samples(raw)
    assert [e["kind"] for e in events] == ["tremor"]
    assert events[0]["duration_ms"] >= 50000
    assert 15000 <= events[0]["t_ms"] <= 25000


def _ride(jolt_axis, turn_dps=0.0, vibration_g=0.03, settings=None, gyro=True, jolt_g=0.6,
          up_axis=0, seconds=40):
    """`seconds` at 200 Hz, gravity on `up_axis` (0 = x): a vehicle's 5 and 13 Hz vibration on
    every axis (0 g: a quiet background), and 20 s before the end a `jolt_g`, ~60 ms jolt along
    `jolt_axis` with `turn_dps` of rotation. Returns the jerk events."""
    import numpy as np

    from jerklog.recordings.rawfile import RawSamples
    t = np.arange(seconds * 200) / 200.0
    acc = np.zeros((len(t), 3))
    acc[:, up_axis] = 1.0
    for axis, phase in ((0, 0.0), (1, 1.0), (2, 2.0)):
        acc[:, axis] += vibration_g * (np.sin(2 * np.pi * 5 * t + phase)
                                       + 0.7 * np.sin(2 * np.pi * 13 * t + 2 * phase))
    pulse = np.exp(-0.5 * ((t - (seconds - 20.0)) / 0.015) ** 2)
    acc[:, jolt_axis] += jolt_g * pulse
    rot = np.random.default_rng(0).normal(0.0, 0.3, (len(t), 3))  # a gyro's noise, deg/s
    rot[:, 1] += turn_dps * pulse
    events = detect_samples(RawSamples.from_units(t, acc, rot if gyro else None), settings)
    return [e for e in events if e["kind"] != "tremor"]


def test_a_jolt_along_gravity_on_a_vibrating_background_is_a_road_bump():
    # Along gravity, up or down, wherever gravity lies in the sensor's frame.
    for jolt in (_ride(0), _ride(0, jolt_g=-0.6), _ride(2, up_axis=2)):
        assert jolt == []
    # The same jolt is a jerk when it turns the limb, comes from the side, comes in a quiet
    # room (at rest or asleep: a jerk of the trunk along gravity), or the rule is off.
    # Without a gyroscope nobody can tell whether it turned: it is kept.
    for found in (_ride(0, turn_dps=60.0), _ride(2), _ride(0, up_axis=2),
                  _ride(0, vibration_g=0.0),
                  _ride(0, settings={"jolt_background_mg": 0}), _ride(0, gyro=False)):
        assert [e["t_ms"] for e in found] == pytest.approx([20000], abs=6)


def test_asleep_a_jerk_shorter_than_a_key_tap_counts():
    # One sample above half the trigger level (5 ms): awake that is a tap (min_duration_ms
    # 20); after 12 quiet minutes it is a jerk, however short.
    raw = synthetic_recording(13 * 60, 200, (60.0, 12.5 * 60), jerk_g=0.5, jerk_ms=8)
    assert [(e["context"], e["duration_ms"]) for e in detect_samples(raw)] == [("asleep", 5)]
    assert len(detect_samples(raw, {"sleep_ms": 3600000})) == 0


def test_asleep_a_jerk_along_gravity_is_never_taken_for_a_jolt():
    # A 24 mg background (a noisy sensor, breathing): quiet enough to sleep, busy enough for
    # the jolt rule. Awake the vertical, non-turning spike is a jolt; asleep it is a jerk.
    quiet_minute = {"sleep_ms": 60000}
    assert _ride(0, vibration_g=0.012, seconds=100) == []
    (jerk,) = _ride(0, vibration_g=0.012, seconds=100, settings=quiet_minute)
    assert jerk["context"] == "asleep" and jerk["activity_g"] >= 0.020
