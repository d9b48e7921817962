"""Jerk models of the two families: waveform shapes, sizes, timing of series, corrective
movements, negative myoclonus, startle, hypnic jerks.

Family A ("twitch"): a jerk is the response of a joint, a damped mass-spring (the segment's
inertia, passive stiffness and damping), to the force of muscle twitches (alpha functions):
one twitch on a heavily damped joint gives a monophasic acceleration, an agonist twitch
braked by an antagonist one a biphasic one, a twitch on a lightly damped joint a damped
oscillation. Negative myoclonus: muscle tone fades (the limb falls), the catch is a twitch
that stops the fall, then the limb is lifted back.

Family B ("wavelet"): a jerk is written directly as an acceleration wavelet: a gaussian
lobe with a slow balancing lobe (monophasic), two gaussian lobes of opposite sign and equal
area (biphasic), a damped sinusoidal displacement (damped); a displacement left over is
undone by a slow passive return. Negative myoclonus: a skewed velocity bump (a slow fall and
an abrupt stop).

The families also draw sizes, durations, series gaps and rhythms from different
distributions; both cover 40-250 ms, 0.15-2 g, any direction, series and rhythms with gaps
of 0.12-1 s (1-8 Hz).
"""
import math

import numpy as np

from jerklog.sim.independent.kinematics import (
    DT,
    G0,
    alpha_pulse,
    close_profile,
    direction_near,
    fft_convolve,
    integrate,
    minjerk,
    random_direction,
    span_10,
)

SHAPES = ("monophasic", "biphasic", "damped")
MIN_G, MAX_G = 0.15, 2.0
MIN_MS, MAX_MS = 40.0, 250.0
# The direction a startle or a flexion jerk takes most often (sensor frame, per region):
# the forearm and the shin lift away from their skin side, the trunk bends forward.
FLEXION = {"wrist": (0.0, 0.0, 1.0), "ankle": (0.0, 0.0, 1.0), "trunk": (0.0, 0.0, 1.0)}


def _loguniform(rng, lo, hi):
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _resample(profile_n, dtau, scale_s):
    """A profile on a normalised grid (step dtau) stretched by scale_s onto the fine grid."""
    length = (len(profile_n) - 1) * dtau * scale_s
    t = np.arange(int(length / DT) + 1) * DT
    return np.interp(t / scale_s, np.arange(len(profile_n)) * dtau, profile_n)


def _fit_duration(profile_n, dtau, duration_s):
    """Stretch a normalised profile so that its 10 % span is duration_s; peak |a| 1."""
    p = profile_n / np.abs(profile_n).max()
    scale = duration_s / (span_10(np.abs(p), dtau))
    out = _resample(p, dtau, scale)
    return out / np.abs(out).max()


def _return_move(x_end_m, start_s, length_s):
    """Acceleration (g, fine grid, from 0) of a minimum-jerk move that undoes x_end_m."""
    n = int((start_s + length_s) / DT) + 2
    s = (np.arange(n) * DT - start_s) / length_s
    inside = (s >= 0) & (s <= 1)
    a = np.zeros(n)
    a[inside] = -x_end_m * minjerk(s[inside])[2] / length_s ** 2 / G0
    return a


def _with_return(a, peak_g, rng, min_s, max_s, tail_pct=8.0):
    """Append to `a` (g) a slow passive return of whatever displacement it leaves, no larger
    than tail_pct % of the jerk's peak (longer if need be), and close it exactly."""
    _, x = integrate(a)
    x_end = x[-1]
    length = rng.uniform(min_s, max_s)
    if x_end:
        length = max(length, math.sqrt(5.774 * abs(x_end) / (tail_pct / 100.0 * peak_g * G0)))
    ret = _return_move(x_end, len(a) * DT, length)
    out = np.zeros(len(ret))
    out[:len(a)] += a
    out += ret
    return close_profile(out)


def _out_and_back(distance_m, out_s, hold_s, back_s):
    """Acceleration (g, fine grid) of a voluntary movement there and back (minimum jerk)."""
    n = int((out_s + hold_s + back_s) / DT) + 2
    t = np.arange(n) * DT
    a = np.zeros(n)
    s1 = t / out_s
    m1 = s1 <= 1
    a[m1] = distance_m * minjerk(s1[m1])[2] / out_s ** 2
    s2 = (t - out_s - hold_s) / back_s
    m2 = (s2 >= 0) & (s2 <= 1)
    a[m2] -= distance_m * minjerk(s2[m2])[2] / back_s ** 2
    return close_profile(a / G0)


class Family:
    """What a model family decides about jerks; the subclasses fill in the numbers."""
    name = "?"
    corrective_p = 0.4

    def amplitude(self, rng, kind):
        raise NotImplementedError

    def duration_s(self, rng, kind):
        raise NotImplementedError

    def shape(self, rng):
        raise NotImplementedError

    def profile(self, rng, shape, duration_s, peak_g):
        """Closed acceleration profile (g, fine grid) of a positive jerk, peak |a| peak_g."""
        raise NotImplementedError

    def negative_profile(self, rng, peak_g, duration_s):
        """Closed acceleration profile (g) along `up` (against gravity): the fall (negative)
        while tone lapses and the catch (positive) that ends it."""
        raise NotImplementedError

    def corrective(self, rng):
        """(delay after the jerk's peak s, distance m, out s, hold s, back s, cone deg)."""
        raise NotImplementedError

    def lever_m(self, rng, region):
        raise NotImplementedError

    def series_size(self, rng):
        raise NotImplementedError

    def series_gap_s(self, rng):
        raise NotImplementedError

    def rhythm(self, rng):
        """(rate Hz, number of jerks) of a rhythmic train."""
        raise NotImplementedError

    def member_amplitude(self, rng, base):
        raise NotImplementedError

    def direction(self, rng, kind, region):
        if kind == "startle":
            return direction_near(rng, FLEXION[region], self.startle_cone_deg)
        return random_direction(rng)


class TwitchFamily(Family):
    """Family A: muscle twitches driving a damped joint."""
    name = "A"
    corrective_p = 0.35
    startle_cone_deg = 45.0

    def amplitude(self, rng, kind):
        if kind in ("startle", "hypnic"):
            return _loguniform(rng, 0.3, MAX_G)
        return _loguniform(rng, MIN_G, MAX_G)

    def duration_s(self, rng, kind):
        if kind == "startle":
            return rng.uniform(60, 160) / 1000.0
        if kind == "hypnic":
            return rng.uniform(80, MAX_MS) / 1000.0
        return rng.uniform(MIN_MS, MAX_MS) / 1000.0

    def shape(self, rng):
        return SHAPES[rng.choice(3, p=(0.4, 0.4, 0.2))]

    @staticmethod
    def _joint(torque, w0, zeta, dtau):
        """Angular acceleration of a damped joint (natural rate w0, damping ratio zeta)
        driven by `torque`, all on a normalised grid."""
        t = np.arange(len(torque)) * dtau
        wd = w0 * math.sqrt(1.0 - zeta * zeta)
        env = np.exp(-zeta * w0 * t)
        h = env * np.sin(wd * t) / wd
        hd = env * (np.cos(wd * t) - zeta * w0 / wd * np.sin(wd * t))
        theta = fft_convolve(torque, h) * dtau
        omega = fft_convolve(torque, hd) * dtau
        return torque - 2.0 * zeta * w0 * omega - w0 * w0 * theta

    def profile(self, rng, shape, duration_s, peak_g):
        dtau = 0.01
        if shape == "monophasic":
            w0, zeta = rng.uniform(0.1, 0.18), rng.uniform(0.9, 0.97)
            twitches = [(0.0, 1.0, 1.0)]
        elif shape == "biphasic":
            w0, zeta = rng.uniform(0.3, 0.7), rng.uniform(0.6, 0.9)
            twitches = [(0.0, 1.0, 1.0),
                        (rng.uniform(1.5, 2.5), rng.uniform(0.7, 1.2), -rng.uniform(0.6, 1.0))]
        else:
            w0, zeta = rng.uniform(1.4, 2.6), rng.uniform(0.1, 0.25)
            twitches = [(0.0, rng.uniform(0.6, 1.0), 1.0)]
        length = max(14.0, 9.0 / (zeta * w0))
        t = np.arange(int(length / dtau)) * dtau
        torque = sum(c * alpha_pulse(t - t0, rise) for t0, rise, c in twitches)
        a = _fit_duration(self._joint(torque, w0, zeta, dtau), dtau, duration_s)
        return close_profile(np.concatenate([np.zeros(40), a * peak_g, np.zeros(40)]))

    def negative_profile(self, rng, peak_g, duration_s):
        lapse = 1.0                         # normalised: the lapse lasts 1
        fade = rng.uniform(0.1, 0.25)       # tone decays
        rise = rng.uniform(0.12, 0.3)       # the catching twitch
        dtau = 0.002
        t = np.arange(int((lapse + 10 * rise) / dtau)) * dtau
        fall = np.where(t < lapse, 1.0 - np.exp(-t / fade),
                        (1.0 - math.exp(-lapse / fade)) * np.exp(-(t - lapse) / rise))
        catch = alpha_pulse(t - lapse, rise)
        unit_a = catch * (fall.sum() / catch.sum()) - fall     # the catch stops the fall
        a = _fit_duration(unit_a, dtau, duration_s)
        a *= min(peak_g, 0.8 / -a.min())    # it falls at less than 0.8 g
        a = np.concatenate([np.zeros(40), a])
        return _with_return(a, np.abs(a).max(), rng, 0.3, 0.8)

    def corrective(self, rng):
        return (rng.uniform(0.15, 0.45), rng.uniform(0.02, 0.08), rng.uniform(0.4, 0.8),
                rng.uniform(0.0, 0.3), rng.uniform(0.4, 0.9), 30.0)

    def lever_m(self, rng, region):
        if region == "wrist":   # forearm about the elbow, or the whole arm about the shoulder
            return rng.uniform(0.22, 0.35) if rng.random() < 0.7 else rng.uniform(0.5, 0.65)
        if region == "ankle":
            return rng.uniform(0.3, 0.42)
        return rng.uniform(0.35, 0.5)

    def series_size(self, rng):
        return int(rng.integers(2, 7))

    def series_gap_s(self, rng):
        return rng.uniform(0.12, 1.0)

    def rhythm(self, rng):
        return rng.uniform(1.0, 8.0), int(rng.integers(4, 13))

    def member_amplitude(self, rng, base):
        return float(np.clip(base * rng.uniform(0.7, 1.3), MIN_G, MAX_G))


class WaveletFamily(Family):
    """Family B: acceleration wavelets."""
    name = "B"
    corrective_p = 0.5
    startle_cone_deg = 60.0

    def amplitude(self, rng, kind):
        median = 0.8 if kind in ("startle", "hypnic") else 0.45
        low = 0.3 if kind in ("startle", "hypnic") else MIN_G
        return float(np.clip(median * math.exp(rng.normal(0, 0.6)), low, MAX_G))

    def duration_s(self, rng, kind):
        lo, hi = {"startle": (50, 200), "hypnic": (70, MAX_MS)}.get(kind, (MIN_MS, MAX_MS))
        return _loguniform(rng, lo, hi) / 1000.0

    def shape(self, rng):
        return SHAPES[int(rng.integers(0, 3))]

    def profile(self, rng, shape, duration_s, peak_g):
        dtau = 0.01
        if shape == "monophasic":
            w = rng.uniform(2.5, 4.0)                    # the balancing lobe: wider, lower
            tau = np.arange(-4.0, 4.0 + 4 * w, dtau)
            t_b = 1.5 + 1.3 * w
            p = np.exp(-tau ** 2 / 2) - np.exp(-(tau - t_b) ** 2 / (2 * w * w)) / w
        elif shape == "biphasic":
            s2 = rng.uniform(0.6, 1.6)
            gap = (1.0 + s2) * rng.uniform(1.1, 1.6)
            tau = np.arange(-4.0, gap + 4 * s2, dtau)
            p = np.exp(-tau ** 2 / 2) - np.exp(-(tau - gap) ** 2 / (2 * s2 * s2)) / s2
            if rng.random() < 0.5:
                p = -p[::-1]                            # the larger lobe first or second
        else:
            decay, onset = rng.uniform(0.5, 1.4), rng.uniform(0.03, 0.1)
            tau = np.arange(0.0, 8 * decay + 1.0, dtau)
            x = np.exp(-tau / decay) * np.sin(2 * math.pi * tau) * (1 - np.exp(-tau / onset)) ** 2
            p = np.gradient(np.gradient(x, dtau), dtau)
        a = _fit_duration(p, dtau, duration_s) * peak_g
        a = np.concatenate([np.zeros(40), a])
        return _with_return(a, peak_g, rng, 0.4, 1.0)

    def negative_profile(self, rng, peak_g, duration_s):
        p, q = rng.uniform(2.5, 4.0), rng.uniform(1.6, 2.2)
        dtau = 0.001
        s = np.arange(0.0, 1.0 + dtau, dtau)
        v = -(s ** p) * (1 - s) ** q                 # falling, then stopped abruptly
        a = _fit_duration(np.gradient(v, dtau), dtau, duration_s)
        a *= min(peak_g, 0.8 / -a.min())
        a = np.concatenate([np.zeros(40), a, np.zeros(40)])
        return _with_return(a, np.abs(a).max(), rng, 0.3, 0.9)

    def corrective(self, rng):
        return (rng.uniform(0.2, 0.7), _loguniform(rng, 0.015, 0.1), rng.uniform(0.35, 0.9),
                rng.uniform(0.1, 0.5), rng.uniform(0.35, 0.9), 60.0)

    def lever_m(self, rng, region):
        lo, hi = {"wrist": (0.12, 0.6), "ankle": (0.2, 0.8)}.get(region, (0.25, 0.6))
        return _loguniform(rng, lo, hi)

    def series_size(self, rng):
        return int(min(8, 2 + rng.geometric(0.4) - 1))

    def series_gap_s(self, rng):
        return _loguniform(rng, 0.12, 1.0)

    def rhythm(self, rng):
        return _loguniform(rng, 1.0, 8.0), int(rng.integers(3, 16))

    def member_amplitude(self, rng, base):
        return float(np.clip(base * math.exp(rng.normal(0, 0.25)), MIN_G, MAX_G))


FAMILIES = {"A": TwitchFamily(), "B": WaveletFamily()}


def corrective_profile(family, rng):
    """(delay s, closed profile g, cone deg) of a corrective movement after a jerk."""
    delay, dist, out_s, hold_s, back_s, cone = family.corrective(rng)
    return delay, _out_and_back(dist, out_s, hold_s, back_s), cone


def peak_of(kin):
    """(index, |a|) of the largest kinematic acceleration of a transient."""
    mag = np.linalg.norm(kin, axis=1)
    i = int(np.argmax(mag))
    return i, float(mag[i])


def span_ms(kin):
    return 1000.0 * span_10(np.linalg.norm(kin, axis=1))
