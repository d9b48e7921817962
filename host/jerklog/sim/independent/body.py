"""Several sensors worn at once by one wearer (issue 12, item 3): the independent generator's
families (jerks.py, backgrounds.py) rendered for the wrist, the ankle and the trunk of the
same body during the same session, with truth per sensor.

What the sensors share is the body's timeline: body-wide movements happen once and reach
every region, each with its own size, axes and lag (s):

  walking  the steps (family A: heel strikes one by one; family B: the stride phase) and the
           turns at the end of a corridor; the ankle feels a heel strike first, the trunk
           10-25 ms later, the wrist 20-45 ms later
  car      the road bumps (B: both axles) and the car's braking and curves (A); the floor and
           the seat first, the wrist 10-30 ms later
  sleep    turning over: the trunk and the limbs turn together (each its own axis), within
           +-0.3 s of each other, each with its own thump
  rest     sitting down fast after standing up now and then: the trunk leans and lands in
           the chair, the hands come down on the lap or the armrests (-50..+50 ms), the feet
           shift (0-20 ms); no jerk is planned within 3 s of one

Everything else (tremor of each limb, fidgets, a limb held out, a hand put down) is drawn
for each region on its own, as by session(). Jerks come in episodes of one kind (as in
session()) and of one scope:

  focal        one region
  multifocal   two or three regions, each its own episode 0.4-2.5 s after the first one's
               start (independent times)
  generalised  two or three regions within 10-50 ms of each other (as in generalised
               myoclonus), each its own direction, size and lever; a cross-sensor rule must
               not drop these

Negative myoclonus stays focal (a lapse of one limb's tone). Each sensor also has a clock
error of its own (CLOCK_MS, uniform): after retime (boards/clock.py) the sensors of one
wearer agree within 20 ms, so a benchmark placing them on one time axis should add it.
"""
import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from jerklog.sim.independent import (
    RATES,
    START_POSTURE,
    Session,
    Span,
    _inside,
    _overlaps,
    _rng,
    draw_kind,
    episode,
    mix_name_of,
    next_episode_at,
    render_jerk,
    sensor_model,
)
from jerklog.sim.independent.backgrounds import BACKGROUNDS, Motion, posture
from jerklog.sim.independent.jerks import FAMILIES
from jerklog.sim.independent.kinematics import random_direction, unit

BODY_SESSIONS = ("rest", "sleep", "walking", "car")
BODY_REGIONS = ("wrist", "ankle", "trunk")
SCOPES = ("focal", "multifocal", "generalised")
SCOPE_P = (0.5, 0.2, 0.3)
GENERALISED_LAG_S = (0.01, 0.05)   # the other regions' lag behind the first, generalised
MULTIFOCAL_GAP_S = (0.4, 2.5)      # the other regions' start after the first, multifocal
CLOCK_MS = 8.0                     # each sensor's clock error: uniform in +-this
BODY_WIDE = ("step", "road bump", "turning over", "sitting down fast")
# lag (s) of each region behind the body's event: (low, high) per session kind
LAGS = {
    "walking": {"ankle": (0.0, 0.0), "trunk": (0.01, 0.025), "wrist": (0.02, 0.045)},
    "car": {"ankle": (0.0, 0.005), "trunk": (0.0, 0.01), "wrist": (0.01, 0.03)},
    "sleep": {"ankle": (-0.3, 0.3), "trunk": (0.0, 0.0), "wrist": (-0.3, 0.3)},
    "rest": {"ankle": (0.0, 0.02), "trunk": (0.0, 0.0), "wrist": (-0.05, 0.05)},
}
# sitting down fast: the landing's size (g) per region
SIT_G = {"trunk": (0.4, 1.4), "wrist": (0.15, 0.6), "ankle": (0.2, 0.7)}


@dataclass
class BodySession:
    """One session of several sensors: sensors[i] is the Session of regions[i] (its own
    truth, spans and marks, on its own time axis t = i / rate); clock_ms[i] its clock error
    (add it to a sensor's times to place them on the body's axis); body_marks: the body-wide
    movements (t0, t1, what) on the body's axis."""
    family: str
    kind: str
    seed: int
    rate_hz: int
    regions: tuple
    sensors: list
    clock_ms: list
    body_marks: list = field(default_factory=list)


def _timeline(family, kind, duration, rng, spans):
    """The body-wide movements of a session: (shared dict for backgrounds, marks)."""
    shared, marks = {}, []
    if kind == "walking":
        if family == "A":
            cadence = rng.uniform(1.6, 2.1)
            steps = [rng.uniform(0, 0.5)]
            while steps[-1] < duration + 1:
                steps.append(steps[-1] + (1 + rng.normal(0, 0.025)) / cadence)
            shared["steps"] = steps
            marks += [(t, t + 0.1, "step") for t in steps if t < duration]
        else:
            rate = 100.0
            t = np.arange(int(duration * rate) + 200) / rate - 1.0
            stride = rng.uniform(0.8, 1.05)
            wander = np.convolve(rng.normal(0, 1, len(t)), np.ones(400) / 20.0, "same")
            inst = stride * (1 + 0.03 * np.clip(wander, -3, 3))
            psi = 2 * math.pi * np.cumsum(inst) / rate
            shared["stride_phase"] = (t, psi)
            contacts = t[1:][np.diff(np.floor(psi / math.pi)) > 0]
            marks += [(c, c + 0.1, "step") for c in contacts if 0 <= c < duration]
        turns, t = [], rng.uniform(20, 45)
        while t < duration - 3:
            turns.append((t, rng.uniform(1.5, 2.5), float(rng.choice([-1, 1]))))
            t += rng.uniform(20, 45)
        shared["walk_turns"] = turns
    elif kind == "car":
        if family == "A":
            bumps, t = [], 1.0 + rng.exponential(8.0)
            while t < duration - 3:
                bumps.append(t)
                t += rng.exponential(1 / rng.uniform(0.05, 0.3))
            man = []
            for which, every, lo, hi in ((0, 25, 2, 8), (1, 35, 3, 10)):
                t = rng.exponential(every)
                while t < duration:
                    man.append((which, t, rng.uniform(lo, hi),
                                rng.uniform(0.05, 0.3) * rng.choice([-1, 1])))
                    t += rng.exponential(every)
            shared["manoeuvres"] = man
        else:
            speed, wheelbase = rng.uniform(8, 25), rng.uniform(2.5, 3.0)
            bumps, t = [], 1.0 + rng.exponential(10.0)
            while t < duration - 3:
                bumps += [t, t + wheelbase / speed]
                t += rng.exponential(1 / rng.uniform(0.03, 0.2))
        shared["bumps"] = bumps
        marks += [(t, t + 0.15, "road bump") for t in bumps]
    elif kind == "sleep":
        asleep = next(s for s in spans if s.context == "asleep")
        overs, t = [], asleep.start + rng.uniform(60, 400)
        while t < duration - 8:
            length = rng.uniform(1.5, 4.0) if family == "A" else rng.uniform(2.0, 5.0)
            overs.append((t, length, math.radians(rng.uniform(80, 180))
                          * rng.choice([-1, 1])))
            marks.append((t - 0.3, t + length + 0.3, "turning over"))
            t += max(180.0, rng.exponential(660.0))
        shared["turn_overs"] = overs
    elif kind == "rest":
        sits, t = [], rng.uniform(30, 90)
        while t < duration - 10:
            sits.append(t)
            marks.append((t - 1.0, t + 0.5, "sitting down fast"))
            t += rng.uniform(90, 200)
        shared["sit_downs"] = sits
    return shared, marks


def _sit_downs(bg, m, times):
    """Sitting down fast: the trunk leans forward and back and lands, the hands come down,
    the feet shift (this region's share)."""
    rng = m.rng
    for t in times:
        t = t + m.lag
        size = rng.uniform(*SIT_G[m.region])
        if m.region == "trunk":
            m.turn(t - 1.0, 0.7, random_direction(rng), math.radians(rng.uniform(10, 25)),
                   move_m=0.15, label="sitting down fast")
            m.turn(t - 0.2, 0.5, random_direction(rng), math.radians(rng.uniform(5, 15)),
                   block=False, label="sitting down fast")
            vec = unit(-m.up0 + 0.3 * rng.normal(size=3)) * size
        else:
            m.move(t - 0.6, 0.6, random_direction(rng) * rng.uniform(0.05, 0.25),
                   "sitting down fast")
            vec = random_direction(rng) * size
        m.impacts(bg.thumps, [t], [vec], "sitting down fast")
        m.blocked.append((t - 3.0, t + 3.0))


def _spans(kind, duration, rng):
    if kind != "sleep":
        return [Span(0.0, duration, kind)]
    in_bed = min(duration * 0.15, rng.uniform(300, 480))
    onset = in_bed + min(duration * 0.12, rng.uniform(240, 420))
    return [Span(0.0, in_bed, "rest", "in bed"), Span(in_bed, onset, "asleep", "onset"),
            Span(onset, duration, "asleep")]


def _replica(fam, rng, member, region, t):
    """One member of a generalised episode at another region: its own direction, size and
    lever, no corrective movement."""
    scale = rng.uniform(0.5, 1.2)
    return dataclasses.replace(member, t=t, direction=fam.direction(rng, member.kind, region),
                               lever_m=fam.lever_m(rng, region), corrective=False,
                               amplitude=member.amplitude * scale)


def _plan(fam, rng, motions, spans, regions):
    """[(region index, _Member, scope)] of a body session, in time order of episodes."""
    out, number = [], 0
    for span in spans:
        mix_name = mix_name_of(span)
        t = span.start + 3.0
        while True:
            t = next_episode_at(fam, rng, mix_name, t)
            first = int(rng.integers(0, len(regions)))
            kind = draw_kind(rng, mix_name, _inside(t, motions[first].held))
            scope = SCOPES[int(rng.choice(3, p=SCOPE_P))] if kind != "negative" \
                and len(regions) > 1 else "focal"
            others = [r for r in range(len(regions)) if r != first]
            rng.shuffle(others)
            if scope != "focal":
                others = others[:int(rng.integers(1, len(others) + 1))]
            awake = span.context != "asleep" or span.phase == "onset"
            lead = episode(fam, rng, kind, t, regions[first], number, corrective_ok=awake)
            new = [(first, m) for m in lead]
            if scope == "generalised":
                for r in others:
                    lag = rng.uniform(*GENERALISED_LAG_S)
                    new += [(r, _replica(fam, rng, m, regions[r], m.t + lag)) for m in lead]
            elif scope == "multifocal":
                for r in others:
                    start = t + rng.uniform(*MULTIFOCAL_GAP_S)
                    new += [(r, m) for m in episode(fam, rng, kind, start, regions[r], number,
                                                    corrective_ok=awake)]
            end = max(m.t for _, m in new) + 1.6
            if end > span.end - 1.0:
                break
            involved = {r for r, _ in new}
            blocked = [b for r in involved
                       for b in _overlaps(t - 1.0, end, motions[r].blocked)]
            if blocked and span.context in ("rest", "asleep"):
                t = max(blocked)
                continue
            if kind == "negative" and not _inside(end, motions[first].held):
                continue
            out += [(r, m, scope) for r, m in new]
            number += 1
            t = end
    return out


def body_session(family: str, kind: str, minutes: float, rate_hz: int, seed: int,
                 regions: tuple = BODY_REGIONS) -> BodySession:
    """One session of several sensors worn at once (see the module docstring); determined by
    its arguments. rate_hz: every sensor's (one of the family's RATES)."""
    if family not in FAMILIES or kind not in BODY_SESSIONS or rate_hz not in RATES[family]:
        raise ValueError("family %r, session %r, rate %r: choose from %s, %s, %s"
                         % (family, kind, rate_hz, tuple(FAMILIES), BODY_SESSIONS,
                            RATES.get(family)))
    fam = FAMILIES[family]
    body_rng = _rng("body", family, kind, minutes, rate_hz, seed)
    duration = 60.0 * minutes
    spans = _spans(kind, duration, body_rng)
    shared, body_marks = _timeline(family, kind, duration, body_rng, spans)
    motions, sensors, rngs = [], [], []
    for k, region in enumerate(regions):
        rng = _rng("body", family, kind, minutes, rate_hz, region, k, seed)
        sensor = sensor_model(family, rate_hz, rng)
        name = START_POSTURE[kind]
        if kind == "walking" and region == "wrist":
            name = "hang"
        m = Motion(rate_hz, duration, posture(rng, region, name), region, sensor, rng)
        m.shared = shared
        m.lag = float(rng.uniform(*LAGS[kind][region]))
        bg = BACKGROUNDS[family](m)
        if kind == "sleep":
            bg.rest(0.0, spans[0].end, lying=True)
            bg.asleep(spans[0].end, duration)
        elif kind == "rest":
            bg.rest(0.0, duration)
            _sit_downs(bg, m, shared["sit_downs"])
        else:
            getattr(bg, kind)(0.0, duration)
            if kind == "walking" and region != "wrist":
                m.held.append((0.0, duration))
        motions.append(m)
        sensors.append(sensor)
        rngs.append(rng)
    plan = _plan(fam, body_rng, motions, spans, regions)
    out, clocks = [], []
    for k, region in enumerate(regions):
        m, sensor, rng = motions[k], sensors[k], rngs[k]
        up, acc, gyro = m.render()
        gyro = gyro if sensor.has_gyro else None
        jerks = []
        for r, mem, scope in plan:
            if r != k:
                continue
            i = min(len(up) - 1, int(mem.t * rate_hz))
            context = next(s.context for s in spans if s.start <= mem.t < s.end)
            tj = render_jerk(fam, rng, mem, up[i], m.t, acc, gyro, sensor, context)
            jerks.append(dataclasses.replace(tj, scope=scope))
        jerks.sort(key=lambda j: j.t)
        acc, gyro = sensor.finish(acc, gyro, rng)
        out.append(Session(family, kind, region, rate_hz, sensor.name, seed, m.t, acc, gyro,
                           jerks, spans, list(m.tremor), sorted(m.marks)))
        clocks.append(float(rng.uniform(-CLOCK_MS, CLOCK_MS)))
    return BodySession(family, kind, seed, rate_hz, tuple(regions), out, clocks,
                       sorted(body_marks))
