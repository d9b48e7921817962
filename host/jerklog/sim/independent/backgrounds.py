"""What the wearer does around the jerks, per family and context.

Contexts: rest (sitting awake, or lying awake in bed), asleep (lying, breathing, turning
over, moving a limb now and then), walking, typing, tremor (continuous 4-12 Hz), car (a
passenger or driver: road vibration, manoeuvres, bumps).

Family A builds motion from deterministic parts with random parameters: sums of sines
(drift, breathing, tremor, arm swing), minimum-jerk movements, impacts that ring like tissue
(damped sines), steps placed one by one with jittered timing, road vibration as many random
sines. Family B builds it from stochastic processes: smoothed Ornstein-Uhlenbeck drift,
spectrally shaped noise (tremor as a resonance, road roughness after ISO 8608 through a
car's and a seat's resonances), gait as a Fourier series of a phase oscillator, renewal
processes for key taps, chirped impacts, turns made in two stages.

A Motion collects the parts at the sample instants: posture changes as exact rotations,
small rotations (drift, swings, tremor) as a rotation vector, kinematic acceleration in g,
impacts as filtered templates. It also records where no jerk should be planned (large
voluntary movements), and where a limb is held against gravity (negative myoclonus possible).
"""
import math

import numpy as np

from jerklog.sim.independent.kinematics import (
    DEG,
    DT,
    FINE_HZ,
    G0,
    add_templates,
    direction_near,
    minjerk,
    perpendicular,
    random_direction,
    rodrigues,
    rotate_by_vector,
    unit,
)

X = np.array([1.0, 0.0, 0.0])

# Nominal gravity directions (sensor frame) per region and posture, and how far a wearer's
# own posture strays from them (degrees). Limb x runs away from the trunk, z out of the skin:
# a forearm resting palm down has up ~ +z, a hanging arm up ~ -x; the shin faces forward.
POSTURES = {
    ("wrist", "sit"): ((-0.25, 0.0, 0.97), 20), ("wrist", "held"): ((0.0, 0.0, 1.0), 10),
    ("wrist", "type"): ((-0.1, 0.1, 0.99), 12), ("wrist", "hang"): ((-1.0, 0.0, 0.0), 15),
    ("wrist", "lap"): ((-0.35, 0.0, 0.94), 20),
    ("ankle", "sit"): ((-0.95, 0.0, 0.3), 12), ("ankle", "stand"): ((-1.0, 0.0, 0.0), 6),
    ("ankle", "held"): ((-0.1, 0.0, 1.0), 12), ("ankle", "lap"): ((-0.9, 0.0, 0.45), 12),
    ("trunk", "sit"): ((0.93, 0.0, 0.36), 10), ("trunk", "stand"): ((1.0, 0.0, 0.05), 6),
    ("trunk", "held"): ((0.97, 0.0, 0.25), 6), ("trunk", "lap"): ((0.88, 0.0, 0.47), 8),
    ("trunk", "type"): ((0.97, 0.0, 0.2), 8), ("ankle", "type"): ((-0.95, 0.0, 0.3), 12),
}
LYING = ((0.0, 0.0, 1.0), (0.0, 0.0, -1.0), (0.0, 1.0, 0.0), (0.0, -1.0, 0.0))
# Forward (direction of travel) in the sensor frame when standing, before orthogonalising.
FORWARD = {"wrist": (0.0, 1.0, 0.0), "ankle": (0.0, 0.0, 1.0), "trunk": (0.0, 0.0, 1.0)}


def posture(rng, region, name):
    """Gravity's direction for a region in a named posture, as this wearer holds it."""
    if name == "lie":
        return direction_near(rng, LYING[int(rng.integers(0, 4))], 25 if region != "trunk"
                              else 12)
    nominal, spread = POSTURES[(region, name)]
    return direction_near(rng, nominal, spread)


def _poisson_times(rng, t0, t1, mean_s, min_gap_s=0.0):
    out, t = [], t0 + rng.exponential(mean_s)
    while t < t1:
        out.append(t)
        t += min_gap_s + rng.exponential(mean_s)
    return out


class Motion:
    """Background motion of one session at the sample instants i / rate_hz."""

    def __init__(self, rate_hz, duration_s, up0, region, sensor, rng):
        self.rate = rate_hz
        self.n = int(round(duration_s * rate_hz))
        self.t = np.arange(self.n) / rate_hz
        self.up0 = unit(up0)
        self.region = region
        self.sensor = sensor
        self.rng = rng
        self.rot = np.zeros((self.n, 3))      # small rotations (rad), sensor frame
        self.rotrate = np.zeros((self.n, 3))  # their rate (rad/s)
        self.acc = np.zeros((self.n, 3))      # kinematic acceleration (g)
        self.turns = []     # (start s, length s, axis, angle rad, profile)
        self.blocked = []   # (t0, t1): large voluntary movements, no jerk planned there
        self.held = []      # (t0, t1): a limb held against gravity
        self.tremor = []    # (t0, t1): continuous tremor
        self.marks = []     # (t0, t1, what): the voluntary movements and impacts, by name
        # Body-wide movements shared with the other sensors of the same wearer (body.py): a
        # timeline in the body's clock and this region's lag behind it (s). Empty: drawn here.
        self.shared = {}
        self.lag = 0.0

    # -- where and when
    def sl(self, t0, t1):
        return slice(max(0, int(math.ceil(t0 * self.rate))), min(self.n, int(t1 * self.rate)))

    def posture_at(self, t):
        """Gravity's direction at time t from the posture changes alone."""
        u = self.up0
        for start, length, axis, angle, prof in sorted(self.turns, key=lambda x: x[0]):
            if start >= t:
                break
            s = min(1.0, (t - start) / length)
            u = rodrigues(u, axis, -angle * _profile(prof, s)[0])
        return u

    # -- posture changes and voluntary movements
    def turn(self, t0, length, axis, angle, prof="minjerk", move_m=0.0, block=True,
             label="posture change"):
        """Turn the segment by `angle` (rad) about a sensor-frame axis over `length` s,
        while it moves move_m (m) in a random direction."""
        if t0 < 0 or t0 + length > self.n / self.rate:
            return
        for s0, l0, _, _, _ in self.turns:   # one posture change at a time
            if t0 < s0 + l0 and s0 < t0 + length:
                return
        self.turns.append((t0, length, unit(axis), angle, prof))
        self.marks.append((t0, t0 + length, label))
        if move_m:
            self.move(t0, length, random_direction(self.rng) * move_m, None)
        if block:
            self.blocked.append((t0 - 2.0, t0 + length + 2.0))

    def turn_to(self, t0, length, target_up, prof="minjerk", move_m=0.0,
                label="limb raised or lowered"):
        u = self.posture_at(t0)
        axis = np.cross(target_up, u)
        if np.linalg.norm(axis) < 1e-6:
            return
        angle = math.acos(float(np.clip(u @ unit(target_up), -1, 1)))
        self.turn(t0, length, axis, angle, prof, move_m, label=label)

    def move(self, t0, length, vec_m, label="movement"):
        """A minimum-jerk translation by vec_m (m) over length s."""
        if label:
            self.marks.append((t0, t0 + length, label))
        sl = self.sl(t0, t0 + length)
        s = (self.t[sl] - t0) / length
        self.acc[sl] += np.outer(minjerk(s)[2] / length ** 2 / G0, vec_m)

    def out_and_back(self, t0, out_s, hold_s, vec_m, label="movement"):
        self.move(t0, out_s, vec_m, label)
        self.move(t0 + out_s + hold_s, out_s, -np.asarray(vec_m), label)

    # -- continuous parts
    def rotation(self, theta, omega, alpha, axis, lever_m=0.0, sl=slice(None)):
        """A rotation angle theta(t) (rad) with its rate and acceleration about a sensor-frame
        axis; with a lever arm, the tangential and centripetal acceleration it causes."""
        axis = unit(axis)
        self.rot[sl] += np.outer(theta, axis)
        self.rotrate[sl] += np.outer(omega, axis)
        if lever_m:
            e_t = np.cross(axis, X)
            self.acc[sl] += np.outer(alpha * lever_m / G0, e_t) \
                - np.outer(omega ** 2 * lever_m / G0, X - axis * (axis @ X))

    def sines(self, sl, freqs, amps_rad, axis, lever_m=0.0, phases=None):
        t = self.t[sl]
        th = np.zeros(len(t))
        om = np.zeros(len(t))
        al = np.zeros(len(t))
        if phases is None:
            phases = self.rng.uniform(0, 2 * math.pi, len(freqs))
        for f, a, p in zip(freqs, amps_rad, phases):
            w = 2 * math.pi * f
            th += a * np.sin(w * t + p)
            om += a * w * np.cos(w * t + p)
            al -= a * w * w * np.sin(w * t + p)
        self.rotation(th, om, al, axis, lever_m, sl)

    def spectral_rotation(self, sl, shape, rms_rad, axis, lever_m=0.0, envelope=None):
        """A rotation angle drawn as noise with amplitude spectrum shape(f) (f in Hz),
        scaled to rms_rad; rate and acceleration exact, by the FFT."""
        n = len(self.t[sl])
        if n < 16:
            return
        spec = np.fft.rfft(self.rng.normal(size=n))
        f = np.fft.rfftfreq(n, 1.0 / self.rate)
        spec *= shape(f)
        spec[0] = 0
        w = 2j * math.pi * f
        th = np.fft.irfft(spec, n)
        scale = rms_rad / max(np.sqrt(np.mean(th ** 2)), 1e-12)
        th *= scale
        om = np.fft.irfft(spec * w, n) * scale
        al = np.fft.irfft(spec * w * w, n) * scale
        if envelope is not None:
            th, om, al = th * envelope, om * envelope, al * envelope
        self.rotation(th, om, al, axis, lever_m, sl)

    def spectral_acc(self, sl, shape, rms_g, direction):
        n = len(self.t[sl])
        if n < 16:
            return
        spec = np.fft.rfft(self.rng.normal(size=n))
        f = np.fft.rfftfreq(n, 1.0 / self.rate)
        spec *= shape(f) * _gain_curve(self.sensor, f)
        spec[0] = 0
        a = np.fft.irfft(spec, n)
        a *= rms_g / max(np.sqrt(np.mean(a ** 2)), 1e-12)
        self.acc[sl] += np.outer(a, unit(direction))

    def impacts(self, templates, times, vectors, label):
        """Filtered impact templates (fine grid) at times with vectors (g)."""
        if not len(times):
            return
        self.marks.extend((t, t + 0.1, label) for t in times)
        which = self.rng.integers(0, len(templates), len(times))
        for k, tmpl in enumerate(templates):
            pick = which == k
            add_templates(self.acc, self.rate, tmpl, np.asarray(times)[pick],
                          np.asarray(vectors)[pick])

    # -- the result
    def render(self):
        """(up (n, 3), kinematic acc + gravity (n, 3) g, rotation rate (n, 3) deg/s)."""
        up = np.empty((self.n, 3))
        rate = np.zeros((self.n, 3))
        u = self.up0
        cursor = 0
        for start, length, axis, angle, prof in sorted(self.turns, key=lambda x: x[0]):
            i0 = int(math.ceil(start * self.rate))
            i1 = min(self.n, int(math.ceil((start + length) * self.rate)))
            up[cursor:i0] = u
            s = (self.t[i0:i1] - start) / length
            pos, vel = _profile(prof, s)
            up[i0:i1] = rodrigues(np.broadcast_to(u, (i1 - i0, 3)), axis, -angle * pos)
            rate[i0:i1] += np.outer(angle * vel / length, axis)
            u = rodrigues(u, axis, -angle)
            cursor = i1
        up[cursor:] = u
        up = rotate_by_vector(up, self.rot)
        return up, up + self.acc, (rate + self.rotrate) * DEG


def _gain_curve(sensor, f):
    grid = np.linspace(0, sensor.rate_hz / 2, 64)
    return np.interp(f, grid, [sensor.gain(x) for x in grid])


def _profile(name, s):
    """Position 0..1 and its rate (per unit s) of a posture change."""
    s = np.clip(s, 0.0, 1.0)
    if name == "cosine":
        return (1 - np.cos(math.pi * s)) / 2, math.pi / 2 * np.sin(math.pi * s)
    if name == "two-stage":     # 60 % of the way, a pause, the rest
        pos = np.where(s < 0.4, 0.6 * minjerk(s / 0.4)[0],
                       np.where(s < 0.6, 0.6, 0.6 + 0.4 * minjerk((s - 0.6) / 0.4)[0]))
        vel = np.where(s < 0.4, 0.6 / 0.4 * minjerk(s / 0.4)[1],
                       np.where(s < 0.6, 0.0, 0.4 / 0.4 * minjerk((s - 0.6) / 0.4)[1]))
        return pos, vel
    p, v, _ = minjerk(s)
    return p, v


# ------------------------------------------------------------------ impact templates

def ring_templates(rng, sensor, k, f_lo, f_hi, zeta_lo, zeta_hi):
    """Family A: impacts ringing like tissue (damped sines), filtered, peak 1."""
    out = []
    for _ in range(k):
        f, z = rng.uniform(f_lo, f_hi), rng.uniform(zeta_lo, zeta_hi)
        t = np.arange(int(4.0 / (z * 2 * math.pi * f) * FINE_HZ)) * DT
        w = 2 * math.pi * f
        h = np.exp(-z * w * t) * np.sin(w * math.sqrt(1 - z * z) * t)
        out.append(_filtered(sensor, h))
    return out


def chirp_templates(rng, sensor, k, f_start, f_end, width_lo_s, width_hi_s):
    """Family B: impacts as gaussian-windowed down-chirps, filtered, peak 1."""
    out = []
    for _ in range(k):
        width = rng.uniform(width_lo_s, width_hi_s)
        t = np.arange(int(6 * width * FINE_HZ)) * DT
        f = rng.uniform(*f_start) + (rng.uniform(*f_end) - rng.uniform(*f_start)) * t / t[-1]
        phase = 2 * math.pi * np.cumsum(f) * DT
        h = np.exp(-((t - 2 * width) / width) ** 2 / 2) * np.cos(phase)
        out.append(_filtered(sensor, h))
    return out


def bump_templates(rng, sensor, k):
    """Family A: a road bump, a half-sine jolt then the suspension's slow bounce."""
    out = []
    for _ in range(k):
        d = rng.uniform(0.03, 0.12)
        fb, z = rng.uniform(1.1, 1.6), rng.uniform(0.25, 0.4)
        t = np.arange(int((d + 2.5) * FINE_HZ)) * DT
        h = np.where(t < d, np.sin(math.pi * t / np.maximum(d, 1e-9)), 0.0)
        w = 2 * math.pi * fb
        h -= 0.3 * np.where(t >= d, np.exp(-z * w * (t - d)) * np.sin(w * (t - d)), 0.0)
        out.append(_filtered(sensor, h))
    return out


def _filtered(sensor, h):
    y = sensor.filter(h[:, None])[:, 0]
    return y / np.abs(y).max()


# ------------------------------------------------------------------ small shared helpers

def _ou(rng, n_coarse, dt, tau, sigma):
    """An Ornstein-Uhlenbeck path (stationary) on a coarse grid."""
    a = math.exp(-dt / tau)
    e = rng.normal(0, sigma * math.sqrt(1 - a * a), n_coarse)
    out = np.empty(n_coarse)
    x = rng.normal(0, sigma)
    for k in range(n_coarse):   # x[k] = a x[k-1] + e[k]; coarse, so a loop is cheap
        x = a * x + e[k]
        out[k] = x
    return out


def smooth_ou(m, sl, tau, sigma, coarse_hz=10.0, smooth_s=0.4):
    """An OU process sampled at the session's instants, smoothed (so that it has a rate):
    (x, dx/dt, d2x/dt2)."""
    t = m.t[sl]
    if len(t) < 2:
        return np.zeros(len(t)), np.zeros(len(t)), np.zeros(len(t))
    n = int((t[-1] - t[0]) * coarse_hz) + 8
    x = _ou(m.rng, n, 1.0 / coarse_hz, tau, sigma)
    k = max(1, int(smooth_s * coarse_hz))
    kern = np.exp(-0.5 * (np.arange(-3 * k, 3 * k + 1) / k) ** 2)
    kern /= kern.sum()
    x = np.convolve(x, kern, "same")
    tc = t[0] + (np.arange(n) - 4) / coarse_hz
    v = np.gradient(x, 1.0 / coarse_hz)
    a = np.gradient(v, 1.0 / coarse_hz)
    return np.interp(t, tc, x), np.interp(t, tc, v), np.interp(t, tc, a)


def _axes(rng, k):
    return [random_direction(rng) for _ in range(k)]


# ------------------------------------------------------------------ family A

class BackgroundsA:
    """Deterministic parts with random parameters."""

    def __init__(self, m):
        self.m = m
        rng = m.rng
        self.taps = ring_templates(rng, m.sensor, 6, 25, 45, 0.25, 0.4)
        self.thumps = ring_templates(rng, m.sensor, 6, 12, 30, 0.2, 0.4)
        self.heels = ring_templates(rng, m.sensor, 6, 15, 28, 0.25, 0.4)
        self.bumps = bump_templates(rng, m.sensor, 6)

    def _quiet(self, sl, region, lying=False):
        m, rng = self.m, self.m.rng
        for ax in _axes(rng, 3):   # slow drift of posture
            m.sines(sl, [rng.uniform(0.01, 0.12)], [math.radians(rng.uniform(0.2, 1.2))], ax)
        f0 = rng.uniform(8, 12)    # physiological tremor: two close lines (beats)
        acc = rng.uniform(1, 4) * (1.0 if region == "wrist" else 0.35) / 1000 * G0
        r = 0.25
        th = acc / (r * (2 * math.pi * f0) ** 2)
        m.sines(sl, [f0, f0 + rng.uniform(0.2, 0.8)], [th, 0.6 * th], perpendicular(rng, X), r)
        br = rng.uniform(10, 15) / 60 if lying else rng.uniform(12, 18) / 60
        tilt = rng.uniform(0.4, 1.5) if region == "trunk" else rng.uniform(0.05, 0.3)
        m.sines(sl, [br], [math.radians(tilt)], perpendicular(rng, X))

    def _fidgets(self, t0, t1, mean_s, max_deg, thump_p):
        m, rng = self.m, self.m.rng
        for t in _poisson_times(rng, t0 + 2, t1 - 3, mean_s, 2.0):
            length = rng.uniform(0.5, 1.8)
            m.turn(t, length, random_direction(rng), math.radians(rng.uniform(3, max_deg)),
                   move_m=rng.uniform(0.01, 0.1), label="fidget")
            if rng.random() < thump_p:
                m.impacts(self.thumps, [t + length], [random_direction(rng)
                                                      * rng.uniform(0.03, 0.25)],
                          "hand put down")

    def rest(self, t0, t1, lying=False, held=True):
        m, rng = self.m, self.m.rng
        self._quiet(m.sl(t0, t1), m.region, lying)
        self._fidgets(t0, t1, 45.0, 25.0, 0.4)
        if lying:
            return
        if m.region == "trunk":
            m.held.append((t0, t1))     # sitting upright: the trunk is held against gravity
            return
        if not held:
            return
        relaxed = m.posture_at(t0)
        t = t0 + rng.uniform(40, 120)
        while t + 70 < t1:              # arms (or a leg) held out now and then
            hold = rng.uniform(60, 150)
            end = min(t + hold, t1 - 5)
            m.turn_to(t, rng.uniform(1.0, 1.6), posture(rng, m.region, "held"), move_m=0.1)
            m.held.append((t + 3.5, end - 0.5))
            self._quiet(m.sl(t + 2, end), m.region)   # a held limb sways and trembles more
            m.turn_to(end, rng.uniform(1.0, 1.6), relaxed, move_m=0.1)
            t = end + rng.uniform(60, 150)

    def asleep(self, t0, t1):
        m, rng = self.m, self.m.rng
        self._quiet(m.sl(t0, t1), m.region, lying=True)
        if "turn_overs" in m.shared:    # the whole body turns over together (body.py)
            for t, length, angle in m.shared["turn_overs"]:
                axis = X if m.region == "trunk" else random_direction(rng)
                t = t + m.lag
                m.turn(t, length, axis + rng.normal(0, 0.15, 3), angle,
                       move_m=rng.uniform(0.05, 0.25), label="turning over")
                m.impacts(self.thumps, [t + length], [random_direction(rng)
                                                      * rng.uniform(0.05, 0.3)],
                          "turning over")
        t = t0 + rng.uniform(60, 400)
        while t < t1 - 5 and "turn_overs" not in m.shared:    # turning over
            length = rng.uniform(1.5, 4.0)
            axis = X if m.region == "trunk" else random_direction(rng)
            angle = math.radians(rng.uniform(80, 180)) * rng.choice([-1, 1])
            m.turn(t, length, axis + rng.normal(0, 0.15, 3), angle,
                   move_m=rng.uniform(0.05, 0.25), label="turning over")
            m.impacts(self.thumps, [t + length], [random_direction(rng)
                                                  * rng.uniform(0.05, 0.3)], "turning over")
            t += max(180.0, rng.exponential(660.0))
        for t in _poisson_times(rng, t0 + 5, t1 - 5, 300.0, 30.0):   # a limb moves
            m.turn(t, rng.uniform(0.5, 2.0), random_direction(rng),
                   math.radians(rng.uniform(5, 20)), move_m=rng.uniform(0.01, 0.05),
                   label="limb movement asleep")

    def walking(self, t0, t1):
        m, rng = self.m, self.m.rng
        sl = m.sl(t0, t1)
        t = m.t[sl]
        up = m.up0
        fwd = unit(np.asarray(FORWARD[m.region]) - up * (up @ FORWARD[m.region]))
        side = np.cross(up, fwd)
        if "steps" in m.shared:         # the body's steps (body.py), felt after a lag
            steps = np.asarray(m.shared["steps"]) + m.lag \
                + rng.normal(0, 0.003, len(m.shared["steps"]))
            cadence = 1.0 / float(np.median(np.diff(steps)))
        else:
            cadence = rng.uniform(1.6, 2.1)
            steps = [t0 + rng.uniform(0, 0.5)]
            while steps[-1] < t1 + 1:
                steps.append(steps[-1] + (1 + rng.normal(0, 0.025)) / cadence)
            steps = np.array(steps)
        size = 1 + rng.normal(0, 0.12, len(steps))
        phase = np.interp(t, steps, np.arange(len(steps))) * 2 * math.pi   # 2 pi per step
        gain = np.interp(t, steps, size)
        k_up = {"ankle": 0.6, "wrist": 0.7, "trunk": 1.0}[m.region]
        av, aap = rng.uniform(0.15, 0.3) * k_up, rng.uniform(0.08, 0.2) * k_up
        m.acc[sl] += np.outer(av * gain * np.cos(phase), up)
        m.acc[sl] += np.outer(aap * gain * np.cos(phase + rng.uniform(0.5, 1.5)), fwd)
        m.acc[sl] += np.outer(rng.uniform(0.04, 0.1) * np.sin(phase / 2), side)
        own = steps[::2] if rng.random() < 0.5 else steps[1::2]
        if m.region == "trunk":
            m.sines(sl, [cadence / 2], [math.radians(rng.uniform(2, 5))], up)
            m.sines(sl, [cadence / 2], [math.radians(rng.uniform(1, 3))], fwd)
            vec = [unit(up + 0.5 * fwd) * rng.uniform(0.15, 0.5) * s for s in size]
            m.impacts(self.heels, steps, vec, "step")
        elif m.region == "wrist":
            swing = math.radians(rng.uniform(8, 20))    # about the shoulder
            m.sines(sl, [cadence / 2], [swing], side, lever_m=rng.uniform(0.55, 0.65))
            m.impacts(self.heels, steps, [random_direction(rng) * rng.uniform(0.05, 0.25) * s
                                          for s in size], "step")
        else:
            lead = rng.uniform(0, 2 * math.pi)
            th = math.radians(rng.uniform(20, 35))
            m.sines(sl, [cadence / 2, cadence], [th, th * rng.uniform(0.2, 0.4)], side,
                    lever_m=0.35, phases=[lead, 2 * lead + rng.uniform(0, 1)])
            m.impacts(self.heels, own, [unit(-X + 0.6 * fwd + 0.3 * rng.normal(size=3))
                                        * rng.uniform(1.5, 4.0) for _ in own], "step")
            other = steps[1::2] if own[0] == steps[0] else steps[::2]
            m.impacts(self.heels, other, [random_direction(rng) * rng.uniform(0.1, 0.3)
                                          for _ in other], "step")
            m.impacts(self.thumps, own + 0.6 / cadence,
                      [unit(fwd - 0.5 * X) * rng.uniform(0.5, 1.0) for _ in own], "step")
        if "walk_turns" in m.shared:
            for t, length, sign in m.shared["walk_turns"]:
                m.turn(t + m.lag, length, up, math.pi * sign, block=False,
                       label="turn while walking")
            return
        t = t0 + rng.uniform(20, 45)
        while t < t1 - 3:               # turning at the end of a corridor
            m.turn(t, rng.uniform(1.5, 2.5), up, math.pi * rng.choice([-1, 1]), block=False,
                   label="turn while walking")
            t += rng.uniform(20, 45)

    def typing(self, t0, t1):
        m, rng = self.m, self.m.rng
        self._quiet(m.sl(t0, t1), m.region)
        scale = 1.0 if m.region == "wrist" else 0.05
        taps, t = [], t0 + 1
        while t < t1 - 1:
            if rng.random() < 0.03:     # a pause to think or read
                t += rng.uniform(3, 12)
                continue
            for _ in range(int(rng.integers(2, 10))):      # a word
                taps.append(t)
                t += rng.uniform(0.09, 0.25)
            if m.region == "wrist" and rng.random() < 0.3:  # the hand shifts
                m.move(t, rng.uniform(0.15, 0.4),
                       random_direction(rng) * rng.uniform(0.003, 0.02), "hand shift")
            t += rng.uniform(0.15, 0.5)
            if rng.random() < 0.12:
                t += rng.uniform(0.8, 3.0)
        taps = np.array([x for x in taps if x < t1 - 0.2])
        vec = [unit(np.array([0, 0, -1.0]) + 0.5 * rng.normal(size=3))
               * rng.uniform(0.02, 0.12) * scale for _ in taps]
        m.impacts(self.taps, taps, vec, "key tap")
        if m.region == "wrist":
            for t in _poisson_times(rng, t0 + 5, t1 - 10, 40.0, 10.0):   # the mouse
                m.out_and_back(t, rng.uniform(0.5, 0.9), rng.uniform(2, 8),
                               random_direction(rng) * rng.uniform(0.08, 0.2), "mouse")
                m.blocked.append((t - 1, t + 10))
            m.held.append((t0, t1))     # the forearm held over the keys

    def tremor(self, t0, t1):
        m, rng = self.m, self.m.rng
        sl = m.sl(t0, t1)
        t = m.t[sl]
        self._quiet(sl, m.region)
        f0 = rng.uniform(4, 11)
        wander = np.cumsum(rng.normal(0, 0.02, len(t))) / math.sqrt(m.rate)
        wander = np.clip(wander, -0.6, 0.6)
        f = f0 + wander
        phase = 2 * math.pi * np.cumsum(f) / m.rate
        acc = math.exp(rng.uniform(math.log(0.03), math.log(0.3))) \
            * {"wrist": 1.0, "ankle": 0.4, "trunk": 0.2}[m.region]
        r = 0.2
        am = 1 + 0.3 * np.sin(2 * math.pi * rng.uniform(0.05, 0.3) * t + rng.uniform(0, 6))
        th = acc * G0 / (r * (2 * math.pi * f0) ** 2) * am
        h2 = rng.uniform(0.1, 0.25)
        w = 2 * math.pi * f
        theta = th * (np.sin(phase) + h2 / 4 * np.sin(2 * phase))
        omega = th * w * (np.cos(phase) + h2 / 2 * np.cos(2 * phase))
        alpha = -th * w * w * (np.sin(phase) + h2 * np.sin(2 * phase))
        m.rotation(theta, omega, alpha, perpendicular(rng, X), r, sl)
        self._fidgets(t0, t1, 90.0, 15.0, 0.2)
        m.tremor.append((t0, t1))
        if m.region == "wrist":
            m.held.append((t0, t1))     # a postural tremor: the arm held out

    def car(self, t0, t1):
        m, rng = self.m, self.m.rng
        sl = m.sl(t0, t1)
        t = m.t[sl]
        self._quiet(sl, m.region)
        up = m.up0
        fwd = perpendicular(rng, up)
        side = np.cross(up, fwd)
        fr = rng.uniform(3.5, 5.5)
        freqs = np.clip(rng.normal(fr, 2.5, 40), 0.8, 25)
        amps = 1 / (1 + ((freqs - fr) / 2.0) ** 2) * np.array([m.sensor.gain(f) for f in freqs])
        rms = rng.uniform(0.015, 0.05) * {"trunk": 1.0, "wrist": 0.8, "ankle": 1.2}[m.region]
        env = 1 + 0.4 * np.sin(2 * math.pi * rng.uniform(0.005, 0.02) * t + rng.uniform(0, 6))
        for direction, share in ((up, 1.0), (fwd, 0.4), (side, 0.4)):
            v = np.zeros(len(t))
            for f, a, ph in zip(freqs, amps, rng.uniform(0, 2 * math.pi, len(freqs))):
                v += a * np.sin(2 * math.pi * f * t + ph)
            v *= rms * share / max(np.sqrt(np.mean(v ** 2)), 1e-9)
            m.acc[sl] += np.outer(v * env, direction)
        fe = rng.uniform(25, 45)
        if fe < 0.45 * m.rate:          # the engine
            m.acc[sl] += np.outer(rng.uniform(0.005, 0.02) * m.sensor.gain(fe)
                                  * np.sin(2 * math.pi * fe * t), up)
        if "manoeuvres" in m.shared:    # the car's braking and curves move the whole body
            for which, ts, length, a in m.shared["manoeuvres"]:
                ts = ts + m.lag
                s = m.sl(ts, ts + length)
                m.acc[s] += np.outer(a * np.sin(math.pi * (m.t[s] - ts) / length) ** 2,
                                     (fwd, side)[which])
        for direction, every, lo, hi in ((fwd, 25, 2, 8), (side, 35, 3, 10)):
            if "manoeuvres" in m.shared:
                break
            for ts in _poisson_times(rng, t0, t1, every):       # braking, curves
                length = rng.uniform(lo, hi)
                s = m.sl(ts, ts + length)
                a = rng.uniform(0.05, 0.3) * rng.choice([-1, 1])
                m.acc[s] += np.outer(a * np.sin(math.pi * (m.t[s] - ts) / length) ** 2,
                                     direction)
        if "bumps" in m.shared:
            bumps = list(np.asarray(m.shared["bumps"]) + m.lag)
        else:
            bumps = _poisson_times(rng, t0 + 1, t1 - 3, 1 / rng.uniform(0.05, 0.3))
        gain = {"trunk": 1.0, "wrist": 0.8, "ankle": 1.2}[m.region]
        m.impacts(self.bumps, bumps, [unit(up + 0.2 * rng.normal(size=3))
                                      * rng.uniform(0.1, 0.6) * gain for _ in bumps],
                  "road bump")
        self._fidgets(t0, t1, 60.0, 15.0, 0.2)
        if m.region == "trunk":
            m.held.append((t0, t1))


# ------------------------------------------------------------------ family B

def _band(f0, q):
    """Amplitude spectrum of a narrow band at f0, width f0 / q (gaussian, so that the
    acceleration, which weighs it by f^2, has no tail towards high frequencies)."""
    return lambda f: np.exp(-0.5 * ((f - f0) * q / f0) ** 2)


def _hann_burst(m, t0, length, shape, rms_rad, axis, lever, label):
    m.marks.append((t0, t0 + length, label))
    sl = m.sl(t0, t0 + length)
    n = len(m.t[sl])
    if n < 16:
        return
    env = np.sin(math.pi * np.arange(n) / n) ** 2
    m.spectral_rotation(sl, shape, rms_rad, axis, lever, envelope=env)


class BackgroundsB:
    """Stochastic processes."""

    def __init__(self, m):
        self.m = m
        rng = m.rng
        self.taps = chirp_templates(rng, m.sensor, 6, (40, 70), (20, 35), 0.003, 0.006)
        self.thumps = chirp_templates(rng, m.sensor, 6, (20, 35), (8, 14), 0.008, 0.02)
        self.heels = chirp_templates(rng, m.sensor, 6, (25, 40), (10, 18), 0.006, 0.014)
        self.axle = chirp_templates(rng, m.sensor, 6, (10, 20), (3, 6), 0.015, 0.04)

    def _quiet(self, sl, region, lying=False):
        m, rng = self.m, self.m.rng
        for axis in np.eye(3):          # drift of posture: smoothed OU per axis
            th, om, al = smooth_ou(m, sl, rng.uniform(5, 20),
                                   math.radians(rng.uniform(0.3, 1.5) * (0.4 if lying else 1)))
            m.rotation(th, om, al, axis, 0.0, sl)
        acc = rng.uniform(0.7, 3.0) * (1.0 if region == "wrist" else 0.35) / 1000 * G0
        f0, r = rng.uniform(7.5, 11.5), 0.25
        m.spectral_rotation(sl, _band(f0, rng.uniform(3, 6)),
                            acc / (r * (2 * math.pi * f0) ** 2), perpendicular(rng, X), r)
        # breathing: inhale shorter than exhale, the rate wanders
        rate = (rng.uniform(10, 15) if lying else rng.uniform(12, 20)) / 60
        inst = rate * (1 + 0.1 * smooth_ou(m, sl, 30, 1.0)[0])
        ph = 2 * math.pi * np.cumsum(inst) / m.rate
        ph = ph + 0.35 * np.sin(ph)
        tilt = math.radians(rng.uniform(0.5, 2.0) if region == "trunk"
                            else rng.uniform(0.05, 0.3))
        th = tilt * np.sin(ph)
        om = np.gradient(th, 1 / m.rate)
        m.rotation(th, om, np.gradient(om, 1 / m.rate), perpendicular(rng, X), 0.0, sl)

    def _micro(self, t0, t1, mean_s, max_deg):
        m, rng = self.m, self.m.rng
        for t in _poisson_times(rng, t0 + 1, t1 - 5, mean_s, 1.0):
            length = rng.uniform(1, 4)
            lo, hi = rng.uniform(0.2, 0.5), rng.uniform(1.0, 1.8)
            _hann_burst(m, t, length, lambda f: ((f > lo) & (f < hi)).astype(float),
                        math.radians(rng.uniform(0.2, max_deg)), random_direction(rng),
                        rng.uniform(0.1, 0.4), "small movement")
            m.blocked.append((t - 1, t + length + 1))

    def _shifts(self, t0, t1, mean_s, lo_deg, hi_deg, contact_p):
        m, rng = self.m, self.m.rng
        for t in _poisson_times(rng, t0 + 3, t1 - 4, mean_s, 3.0):
            length = rng.uniform(1.0, 2.5)
            m.turn(t, length, random_direction(rng), math.radians(rng.uniform(lo_deg, hi_deg)),
                   "cosine", move_m=rng.uniform(0.02, 0.12), label="posture shift")
            if rng.random() < contact_p:
                m.impacts(self.thumps, [t + length + rng.uniform(0, 0.3)],
                          [random_direction(rng) * rng.uniform(0.03, 0.2)], "hand put down")

    def rest(self, t0, t1, lying=False, held=True):
        m, rng = self.m, self.m.rng
        self._quiet(m.sl(t0, t1), m.region, lying)
        self._micro(t0, t1, 25.0, 1.5)
        self._shifts(t0, t1, 150.0, 8, 35, 0.5)
        for t in _poisson_times(rng, t0 + 3, t1 - 3, 80.0):    # a hand put down
            m.impacts(self.thumps, [t], [random_direction(rng) * rng.uniform(0.03, 0.2)],
                      "hand put down")
            m.blocked.append((t - 2, t + 2))
        if lying:
            return
        if m.region == "trunk":
            m.held.append((t0, t1))
            return
        if not held:
            return
        relaxed = m.posture_at(t0)
        t = t0 + rng.uniform(30, 150)
        while t + 50 < t1:
            end = min(t + rng.uniform(40, 200), t1 - 5)
            m.turn_to(t, rng.uniform(0.8, 2.0), posture(rng, m.region, "held"), "cosine",
                      move_m=0.12)
            m.held.append((t + 3.5, end - 0.5))
            self._quiet(m.sl(t + 2, end), m.region)
            m.turn_to(end, rng.uniform(0.8, 2.0), relaxed, "cosine", move_m=0.12)
            t = end + rng.uniform(40, 200)

    def asleep(self, t0, t1):
        m, rng = self.m, self.m.rng
        self._quiet(m.sl(t0, t1), m.region, lying=True)
        shared = m.shared.get("turn_overs")
        overs = [(t + m.lag, length) for t, length, _ in shared] if shared is not None \
            else [(t, None) for t in _poisson_times(rng, t0 + 30, t1 - 8, 720.0, 150.0)]
        for t, length in overs:    # turning over
            length = rng.uniform(2.0, 5.0) if length is None else length
            axis = X if m.region == "trunk" else random_direction(rng)
            m.turn(t, length, axis + rng.normal(0, 0.2, 3),
                   math.radians(rng.uniform(70, 180)) * rng.choice([-1, 1]), "two-stage",
                   move_m=rng.uniform(0.05, 0.3), label="turning over")
            m.impacts(self.thumps, [t + length * rng.uniform(0.3, 0.45), t + length],
                      [random_direction(rng) * rng.uniform(0.03, 0.3) for _ in range(2)],
                      "turning over")
        for t in _poisson_times(rng, t0 + 5, t1 - 6, 240.0, 20.0):    # a limb moves
            length = rng.uniform(0.8, 3.0)
            _hann_burst(m, t, length, lambda f: (f < 1.5).astype(float),
                        math.radians(rng.uniform(2, 10)), random_direction(rng),
                        rng.uniform(0.2, 0.5), "limb movement asleep")
            m.blocked.append((t - 2, t + length + 2))

    def walking(self, t0, t1):
        m, rng = self.m, self.m.rng
        sl = m.sl(t0, t1)
        t = m.t[sl]
        up = m.up0
        fwd = unit(np.asarray(FORWARD[m.region]) - up * (up @ FORWARD[m.region]))
        side = np.cross(up, fwd)
        if "stride_phase" in m.shared:   # the body's stride (body.py), felt after a lag
            t_body, psi_body = m.shared["stride_phase"]
            psi = np.interp(t - m.lag, t_body, psi_body)
            inst = np.gradient(psi, 1.0 / m.rate) / (2 * math.pi)
        else:
            stride = rng.uniform(0.8, 1.05)                  # strides per second
            inst = stride * (1 + 0.03 * smooth_ou(m, sl, 8.0, 1.0)[0])
            psi = 2 * math.pi * np.cumsum(inst) / m.rate     # stride phase
        omega = 2 * math.pi * inst
        rms = {"trunk": (0.2, 0.12, 0.07), "wrist": (0.15, 0.15, 0.1),
               "ankle": (0.6, 0.5, 0.2)}[m.region]
        for direction, target in zip((up, fwd, side), rms):
            harm = np.zeros(len(t))
            for h in range(1, 7):
                weight = (1.0 if h == 2 else 0.5 / h) if direction is not side else \
                    (1.0 if h == 1 else 0.3 / h)
                harm += weight * rng.uniform(0.5, 1.5) * np.cos(h * psi + rng.uniform(0, 6))
            harm *= target * rng.uniform(0.7, 1.3) / max(np.sqrt(np.mean(harm ** 2)), 1e-9)
            m.acc[sl] += np.outer(harm, direction)
        amp = {"trunk": (3, 6), "wrist": (8, 22), "ankle": (25, 40)}[m.region]
        lever = {"trunk": 0.0, "wrist": 0.6, "ankle": 0.4}[m.region]
        th = np.zeros(len(t))
        om = np.zeros(len(t))
        al = np.zeros(len(t))
        for h in (1, 2, 3):
            a = math.radians(rng.uniform(*amp)) * (1.0, 0.12, 0.03)[h - 1]
            p = rng.uniform(0, 2 * math.pi)
            th += a * np.sin(h * psi + p)
            om += a * h * omega * np.cos(h * psi + p)
            al -= a * (h * omega) ** 2 * np.sin(h * psi + p)
        m.rotation(th, om, al, side, lever, sl)
        contacts = np.flatnonzero(np.diff(np.floor(psi / math.pi)) > 0)   # two per stride
        times = t[contacts]
        own = times[::2] if rng.random() < 0.5 else times[1::2]
        if m.region == "ankle":
            m.impacts(self.heels, own, [unit(-X + 0.5 * fwd + 0.3 * rng.normal(size=3))
                                        * math.exp(rng.normal(math.log(2.5), 0.3))
                                        for _ in own], "step")
            m.impacts(self.heels, np.setdiff1d(times, own),
                      [random_direction(rng) * rng.uniform(0.1, 0.3)
                       for _ in np.setdiff1d(times, own)], "step")
        else:
            size = (0.15, 0.4) if m.region == "trunk" else (0.05, 0.25)
            m.impacts(self.heels, times, [unit(up + 0.4 * rng.normal(size=3))
                                          * rng.uniform(*size) for _ in times], "step")
        if "walk_turns" in m.shared:
            for ts, length, sign in m.shared["walk_turns"]:
                m.turn(ts + m.lag, length, up, math.radians(150) * sign, "cosine",
                       block=False, label="turn while walking")
            return
        for ts in _poisson_times(rng, t0 + 10, t1 - 4, 30.0, 10.0):   # turns
            m.turn(ts, rng.uniform(2.0, 3.0), up,
                   math.radians(rng.uniform(90, 180)) * rng.choice([-1, 1]), "cosine",
                   block=False, label="turn while walking")

    def typing(self, t0, t1):
        m, rng = self.m, self.m.rng
        self._quiet(m.sl(t0, t1), m.region)
        scale = 1.0 if m.region == "wrist" else 0.05
        taps, t = [], t0 + 1
        mean_key = rng.uniform(0.15, 0.22)
        while t < t1 - 1:
            for _ in range(1 + rng.poisson(4.5)):
                taps.append(t)
                t += rng.gamma(3.0, mean_key / 3.0)
            t += math.exp(rng.normal(math.log(0.35), 0.5))
            if rng.random() < 0.04:
                t += math.exp(rng.normal(math.log(5.0), 0.6))
        taps = np.array([x for x in taps if x < t1 - 0.2])
        vec = [direction * math.exp(rng.normal(math.log(0.05), 0.5)) * scale
               for direction in (unit(np.array([0, 0, -1.0]) + 0.6 * rng.normal(size=3))
                                 for _ in taps)]
        m.impacts(self.taps, taps, vec, "key tap")
        if m.region == "wrist":
            for ts in _poisson_times(rng, t0 + 5, t1 - 10, 35.0, 8.0):   # the mouse
                length = rng.uniform(2, 8)
                _hann_burst(m, ts, length, lambda f: (f < 2.5).astype(float),
                            math.radians(rng.uniform(3, 12)), random_direction(rng), 0.3,
                            "mouse")
                m.blocked.append((ts - 1, ts + length + 1))
            m.held.append((t0, t1))

    def tremor(self, t0, t1):
        m, rng = self.m, self.m.rng
        sl = m.sl(t0, t1)
        self._quiet(sl, m.region)
        f0, r = rng.uniform(4, 12), 0.2
        acc = math.exp(rng.normal(math.log(0.08), 0.6)) \
            * {"wrist": 1.0, "ankle": 0.4, "trunk": 0.2}[m.region]
        env = np.exp(smooth_ou(m, sl, 5.0, 0.3)[0])
        m.spectral_rotation(sl, _band(f0, rng.uniform(6, 20)),
                            acc * G0 / (r * (2 * math.pi * f0) ** 2) / math.sqrt(2),
                            perpendicular(rng, X), r, envelope=env)
        self._micro(t0, t1, 60.0, 1.0)
        m.tremor.append((t0, t1))
        if m.region == "wrist":
            m.held.append((t0, t1))

    def car(self, t0, t1):
        m, rng = self.m, self.m.rng
        sl = m.sl(t0, t1)
        self._quiet(sl, m.region)
        up = m.up0
        fwd = perpendicular(rng, up)
        side = np.cross(up, fwd)
        speed = rng.uniform(8, 25)
        fb, fs = rng.uniform(1.0, 1.5), rng.uniform(4.0, 6.0)

        def road(f):    # ISO 8608: displacement PSD ~ n^-2 -> acceleration ~ f^2 / f
            f = np.maximum(f, 0.05)
            d = 1.0 / (f / speed)          # amplitude ~ sqrt(PSD) ~ 1/n
            body = 1 / np.sqrt((1 - (f / fb) ** 2) ** 2 + (2 * 0.3 * f / fb) ** 2)
            seat = 1 / np.sqrt((1 - (f / fs) ** 2) ** 2 + (2 * 0.25 * f / fs) ** 2)
            return d * (2 * math.pi * f) ** 2 * body * seat * (f < 40)
        gain = {"trunk": 1.0, "wrist": 0.8, "ankle": 1.2}[m.region]
        rms = rng.uniform(0.02, 0.07) * gain
        m.spectral_acc(sl, road, rms, up)
        m.spectral_acc(sl, road, rms * 0.35, fwd)
        m.spectral_acc(sl, road, rms * 0.35, side)
        for direction in (fwd, side):   # manoeuvres: OU accelerations
            a = smooth_ou(m, sl, rng.uniform(3, 8), rng.uniform(0.05, 0.15), 10.0, 0.8)[0]
            m.acc[sl] += np.outer(a, direction)
        if "bumps" in m.shared:         # both axles' bumps, shared by the whole body
            times = list(np.asarray(m.shared["bumps"]) + m.lag)
        else:
            wheelbase = rng.uniform(2.5, 3.0)
            events = _poisson_times(rng, t0 + 1, t1 - 3, 1 / rng.uniform(0.03, 0.2))
            times = [x for e in events for x in (e, e + wheelbase / speed)]
        m.impacts(self.axle, times, [unit(up + 0.3 * rng.normal(size=3))
                                     * rng.uniform(0.1, 0.5) * gain for _ in times],
                  "road bump")
        fe = rng.uniform(22, 50)
        if fe < 0.45 * m.rate:
            m.acc[sl] += np.outer(rng.uniform(0.003, 0.02) * m.sensor.gain(fe)
                                  * np.sin(2 * math.pi * fe * m.t[sl]), up)
        self._shifts(t0, t1, 90.0, 5, 20, 0.2)
        if m.region == "trunk":
            m.held.append((t0, t1))


BACKGROUNDS = {"A": BackgroundsA, "B": BackgroundsB}
