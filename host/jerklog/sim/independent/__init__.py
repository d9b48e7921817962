"""An independent generator of IMU recordings with labelled jerks (issue 12, item 5).

Written apart from sim/scenario.py (the generator the detector was tuned on), from the
physiology in shared/CLINICAL.md: its own jerk shapes, backgrounds, sensor models and
timing, in two model families (jerks.py, backgrounds.py) so that one whole family can be
held out of any tuning. A session is one sitting of one context at one body region:

  rest     sitting awake; now and then a limb held out against gravity (the arm, a leg),
           where negative myoclonus can happen; the trunk sits upright throughout
  sleep    lying awake in bed (rest), falling asleep (hypnic jerks), asleep with breathing,
           turning over and limb movements
  walking, typing, tremor (continuous 4-11 Hz), car (road vibration, manoeuvres, bumps)

Jerks come in episodes of one kind: single, series (2-8 jerks 0.12-1 s apart, irregular),
rhythmic (3-15 jerks at 1-8 Hz), negative (a lapse of tone and its catch), startle (a fast
flexion), hypnic (at sleep onset). Shapes are monophasic, biphasic or damped; 40-250 ms,
0.15-2 g, any direction (the startle's mostly a flexion). Some awake jerks (and hypnic
jerks) are followed 0.15-0.7 s later by a corrective movement, a voluntary move there and
back. Only jerks are labelled.

Truth: `t` is the time of the largest kinematic acceleration the jerk adds (before the
sensor's filter), `peak_g` that acceleration, `duration_ms` its 10 % span, `sampled_g` the
largest change it makes to the samples within 60 ms of `t` (after filter and sampling, tilt
of gravity included). Everything is numpy; a session is determined by (family, session
kind, minutes, rate, region, seed).
"""
import math
import zlib
from dataclasses import dataclass, field

import numpy as np

from jerklog.recordings.rawfile import RawSamples
from jerklog.recordings.recording import Recording
from jerklog.sim.independent.backgrounds import BACKGROUNDS, Motion, posture
from jerklog.sim.independent.jerks import FAMILIES, corrective_profile, peak_of, span_ms
from jerklog.sim.independent.kinematics import (
    DT,
    FINE_HZ,
    SensorModel,
    add_transient,
    direction_near,
    limb_motion,
)

SESSIONS = ("rest", "sleep", "walking", "typing", "tremor", "car")
CONTEXTS = ("rest", "asleep", "walking", "typing", "tremor", "car")
ACTIVITY = ("walking", "typing", "tremor", "car")
KINDS = ("single", "series", "rhythmic", "negative", "hypnic", "startle")
REGIONS = ("wrist", "ankle", "trunk")
RATES = {"A": (104, 208, 416), "B": (100, 200, 400)}

# Episode kinds per context (negative only where a limb is held against gravity).
KIND_MIX = {
    "rest": {"single": 0.25, "series": 0.2, "rhythmic": 0.15, "negative": 0.3,
             "startle": 0.1},
    "asleep": {"single": 0.45, "series": 0.35, "rhythmic": 0.2},
    "onset": {"hypnic": 1.0},
    "activity": {"single": 0.35, "series": 0.25, "rhythmic": 0.15, "negative": 0.1,
                 "startle": 0.15},
}
START_POSTURE = {"rest": "sit", "sleep": "lie", "typing": "type", "car": "lap",
                 "walking": "stand", "tremor": "held"}


@dataclass(frozen=True)
class TrueJerk:
    """One labelled jerk (see the module docstring for t, peak_g, duration_ms, sampled_g).
    position: 'single', or 'first' / 'later' within a series or rhythmic train; gap_s:
    time since the previous jerk of its episode (0 for the first); scope: which regions the
    episode moved when several sensors are worn (sim/independent/body.py)."""
    t: float
    kind: str
    position: str
    episode: int
    shape: str
    peak_g: float
    sampled_g: float
    duration_ms: float
    gap_s: float
    corrective: bool
    context: str
    family: str
    scope: str = "focal"   # several sensors (body.py): focal, multifocal or generalised


@dataclass(frozen=True)
class Span:
    """[start, end) s of one context; phase 'in bed' (awake, lying) or 'onset'."""
    start: float
    end: float
    context: str
    phase: str = ""


@dataclass
class Session:
    family: str
    kind: str
    region: str
    rate_hz: int
    sensor: str
    seed: int
    t: np.ndarray
    acc: np.ndarray
    gyro: np.ndarray | None
    jerks: list
    spans: list
    tremor: list = field(default_factory=list)   # (t0, t1) s of continuous tremor
    marks: list = field(default_factory=list)    # (t0, t1, what): named background movements

    def raw(self) -> RawSamples:
        return RawSamples.from_units(self.t, self.acc, self.gyro)

    def recording(self) -> Recording:
        return Recording("%s-%s-%s-%d" % (self.family, self.kind, self.region, self.seed),
                         self.t, self.acc, self.gyro, self.rate_hz, "independent generator",
                         self.region)


def _rng(*parts):
    words = [zlib.crc32(str(p).encode()) for p in parts]
    return np.random.default_rng(np.random.SeedSequence(words))


def sensor_model(family, rate_hz, rng, noise=True):
    """The family's IMU at rate_hz (noise=False: only its filter, for real recordings)."""
    if family == "A":     # a 6-axis MEMS IMU with a two-pole digital low-pass at 0.4 ODR
        fc = 0.4 * rate_hz
        wc, z = 2 * math.pi * fc, math.sqrt(0.5)
        t = np.arange(int(9.2 / (z * wc) * FINE_HZ) + 1) * DT
        kernel = np.exp(-z * wc * t) * np.sin(wc * math.sqrt(1 - z * z) * t)
        spec = dict(name="A-6axis", acc_noise_ug=90, gyro_noise_mdps=5, has_gyro=True,
                    acc_range_g=8, gyro_range_dps=2000, bandwidth_hz=1.11 * fc,
                    offset_mg=30, bias_dps=1.0, scale_pct=1.0)
    else:                 # averaging over the output period, then a one-pole low-pass
        gyro = rate_hz >= 200
        fc = (0.3 if gyro else 0.25) * rate_hz
        tau = 1 / (2 * math.pi * fc)
        pole = np.exp(-np.arange(int(8 * tau * FINE_HZ) + 1) * DT / tau)
        kernel = np.convolve(np.ones(int(FINE_HZ / rate_hz)), pole)
        spec = dict(name="B-6axis" if gyro else "B-accel", acc_noise_ug=350 if gyro else 200,
                    gyro_noise_mdps=10, has_gyro=gyro, acc_range_g=16, gyro_range_dps=2000,
                    bandwidth_hz=1.57 * fc, offset_mg=60 if gyro else 50,
                    bias_dps=3.0, scale_pct=2.0 if gyro else 1.5, bias_walk_dps=0.005)
    if not noise:
        spec.update(acc_noise_ug=0, gyro_noise_mdps=0, offset_mg=0, bias_dps=0, scale_pct=0,
                    bias_walk_dps=0, acc_range_g=1e9, gyro_range_dps=1e9)
    return SensorModel(rate_hz=rate_hz, kernel=kernel, rng=rng, **spec)


@dataclass
class _Member:
    t: float
    kind: str
    position: str
    episode: int
    gap_s: float
    shape: str
    amplitude: float
    duration_s: float
    direction: np.ndarray
    lever_m: float
    corrective: bool


def episode(fam, rng, kind, t, region, number, corrective_ok=True):
    """The jerks of one episode starting at t: [_Member]."""
    if kind == "series":
        gaps = [fam.series_gap_s(rng) for _ in range(fam.series_size(rng) - 1)]
    elif kind == "rhythmic":
        hz, count = fam.rhythm(rng)
        gaps = list(np.clip(1 / hz * (1 + rng.normal(0, 0.04, count - 1)), 0.12, 1.0))
    else:
        gaps = []
    times = t + np.concatenate([[0.0], np.cumsum(gaps)])
    base_amp = fam.amplitude(rng, kind)
    base_dur = fam.duration_s(rng, kind)
    shape = "lapse" if kind == "negative" else fam.shape(rng)
    base_dir = fam.direction(rng, kind, region)
    lever = fam.lever_m(rng, region)
    corrective = corrective_ok and rng.random() < fam.corrective_p
    out = []
    for k, tk in enumerate(times):
        near = [g for g in gaps[max(0, k - 1):k + 1]]
        dur = base_dur if k == 0 else base_dur * rng.uniform(0.8, 1.2)
        if near:
            dur = max(0.04, min(dur, 0.6 * min(near)))
        out.append(_Member(
            t=float(tk), kind=kind, position="single" if not gaps else
            ("first" if k == 0 else "later"), episode=number,
            gap_s=0.0 if k == 0 else float(gaps[k - 1]), shape=shape,
            amplitude=base_amp if k == 0 else fam.member_amplitude(rng, base_amp),
            duration_s=float(dur),
            direction=base_dir if k == 0 else direction_near(rng, base_dir, 15),
            lever_m=lever, corrective=corrective and k == len(times) - 1))
    return out


def render_jerk(fam, rng, member, up, t, acc, gyro, sensor, context):
    """Add one jerk (and its corrective movement) to acc/gyro sampled at t; its TrueJerk."""
    if member.kind == "negative":
        prof = fam.negative_profile(rng, member.amplitude, member.duration_s)
        direction = up      # the profile: the fall (negative) and the catch (positive) along up
    else:
        prof = fam.profile(rng, member.shape, member.duration_s, member.amplitude)
        direction = member.direction
    kin, added, rate = limb_motion(prof, direction, member.lever_m, up)
    i_peak, peak = peak_of(kin)
    duration = span_ms(kin)
    if member.corrective:
        delay, cprof, cone = corrective_profile(fam, rng)
        _, cadded, crate = limb_motion(cprof, direction_near(rng, -direction, cone),
                                       member.lever_m, up)
        start = i_peak + int(delay / DT)
        size = max(len(added), start + len(cadded))
        added = np.vstack([added, np.zeros((size - len(added), 3))])
        rate = np.vstack([rate, np.zeros((size - len(rate), 3))])
        added[start:start + len(cadded)] += cadded
        rate[start:start + len(crate)] += crate
    t0 = member.t - i_peak * DT
    lo, hi = np.searchsorted(t, [member.t - 0.06, member.t + 0.06])
    window = acc[lo:hi].copy()
    add_transient(t, acc, gyro, t0, added, rate, sensor)
    sampled = float(np.linalg.norm(acc[lo:hi] - window, axis=1).max()) if hi > lo else 0.0
    return TrueJerk(t=member.t, kind=member.kind, position=member.position,
                    episode=member.episode, shape=member.shape, peak_g=peak,
                    sampled_g=sampled, duration_ms=float(duration), gap_s=member.gap_s,
                    corrective=member.corrective, context=context, family=fam.name)


def _inside(t, spans):
    return any(a <= t <= b for a, b in spans)


def _overlaps(t0, t1, spans):
    return [b for a, b in spans if a < t1 and t0 < b]


def mix_name_of(span) -> str:
    """The KIND_MIX entry a span draws its episodes' kinds from."""
    if span.phase == "onset":
        return "onset"
    return "activity" if span.context in ACTIVITY else span.context


def next_episode_at(fam, rng, mix_name, t):
    """The time (s) of the next episode after t: a gap drawn for the span's kind of time."""
    if mix_name == "onset":
        return t + (25.0 + rng.exponential(40.0))  # this sum first: the same floats
    if mix_name == "asleep":
        return t + (15.0 + rng.exponential(50.0 if fam.name == "A" else 60.0))
    return t + (3.5 + rng.exponential(8.0 if fam.name == "A" else 10.0))


def draw_kind(rng, mix_name, negative_ok) -> str:
    """An episode's kind from KIND_MIX[mix_name]; negative only where a limb is held."""
    mix = dict(KIND_MIX[mix_name])
    if not negative_ok:
        mix.pop("negative", None)
    kinds = list(mix)
    p = np.array([mix[k] for k in kinds])
    return kinds[int(rng.choice(len(kinds), p=p / p.sum()))]


def plan(fam, rng, motion, spans):
    """The jerk episodes of a session: [_Member], in time order."""
    members, number = [], 0
    for span in spans:
        mix_name = mix_name_of(span)
        t = span.start + 3.0
        while True:
            t = next_episode_at(fam, rng, mix_name, t)
            kind = draw_kind(rng, mix_name, _inside(t, motion.held))
            awake = span.context != "asleep" or span.phase == "onset"
            new = episode(fam, rng, kind, t, motion.region, number, corrective_ok=awake)
            end = new[-1].t + 1.6
            if end > span.end - 1.0:
                break
            blocked = _overlaps(t - 1.0, end, motion.blocked)
            if blocked and span.context in ("rest", "asleep"):
                t = max(blocked)
                continue
            if kind == "negative" and not _inside(end, motion.held):
                continue
            members.extend(new)
            number += 1
            t = end
    return members


def session(family: str, kind: str, minutes: float, rate_hz: int, region: str,
            seed: int) -> Session:
    """One generated session with its truth (see the module docstring)."""
    if family not in FAMILIES or kind not in SESSIONS or region not in REGIONS:
        raise ValueError("family %r, session %r, region %r: choose from %s, %s, %s"
                         % (family, kind, region, tuple(FAMILIES), SESSIONS, REGIONS))
    fam = FAMILIES[family]
    rng = _rng("independent", family, kind, minutes, rate_hz, region, seed)
    sensor = sensor_model(family, rate_hz, rng)
    duration = 60.0 * minutes
    name = START_POSTURE[kind]
    if kind == "walking" and region == "wrist":
        name = "hang"
    if kind == "tremor" and region != "wrist":
        name = "sit"
    motion = Motion(rate_hz, duration, posture(rng, region, name), region, sensor, rng)
    bg = BACKGROUNDS[family](motion)
    if kind == "sleep":
        in_bed = min(duration * 0.15, rng.uniform(300, 480))
        onset = in_bed + min(duration * 0.12, rng.uniform(240, 420))
        spans = [Span(0.0, in_bed, "rest", "in bed"), Span(in_bed, onset, "asleep", "onset"),
                 Span(onset, duration, "asleep")]
        bg.rest(0.0, in_bed, lying=True)
        bg.asleep(in_bed, duration)
    else:
        spans = [Span(0.0, duration, kind)]
        if kind == "rest":
            bg.rest(0.0, duration)
        else:
            getattr(bg, kind)(0.0, duration)
            if kind == "walking" and region != "wrist":
                motion.held.append((0.0, duration))   # legs and trunk bear the body
    members = plan(fam, rng, motion, spans)
    up, acc, gyro = motion.render()
    gyro = gyro if sensor.has_gyro else None
    jerks = []
    for mem in members:
        i = min(len(up) - 1, int(mem.t * rate_hz))
        context = next(s.context for s in spans if s.start <= mem.t < s.end)
        jerks.append(render_jerk(fam, rng, mem, up[i], motion.t, acc, gyro, sensor, context))
    acc, gyro = sensor.finish(acc, gyro, rng)
    return Session(family, kind, region, rate_hz, sensor.name, seed, motion.t, acc, gyro,
                   jerks, spans, list(motion.tremor), sorted(motion.marks))
