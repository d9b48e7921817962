"""Ground-truth scenario generator: synthetic wearable IMU recordings with labelled jerks.

A detector is benchmarked against these recordings (sensitivity, false events per hour per
context, peak-time error), so the generator aims to be *honest*: the voluntary movements that
look like jerks (heel strikes, cup-down bumps, key taps, sit-down thumps, road bumps, turning
over in bed) and continuous tremor are modelled as carefully as the jerks themselves, and only
the jerks are labelled.

Conventions and units
---------------------
* Sensor frame: right-handed x, y, z of the IMU, +z out of the skin, mounted as
  hardware/wearing.md says: on a limb +x points along it away from the trunk (towards the
  fingers or toes), on the trunk +x points to the head. (The model is built with a limb's +x
  towards the proximal joint, the elbow or the hip, and turned half about z at the end.)
* ``acc`` is specific force in g (1 g = 9.80665 m/s^2), what a MEMS accelerometer reports:
  ``acc = up + a_dyn`` where ``up`` is the unit vector opposite to gravity expressed in the
  sensor frame (a still sensor reads +1 g "up") and ``a_dyn`` the kinematic acceleration of the
  sensor in g.
* ``gyro`` is angular velocity of the sensor in its own frame, deg/s, right-handed.
  Orientation and gyro are kinematically consistent for all background motion:
  d(up)/dt = -omega x up (omega in rad/s).
* Time ``t`` in seconds from 0 at the first sample.
* A truth event's ``t`` is the time of the maximum of |added dynamic acceleration| of that
  event's transient (the physical transient, before the sensor's band limit).
  ``peak_g`` is that maximum, ``peak_dps`` the maximum |angular velocity| of the transient,
  ``duration_ms`` the time between the first and the last instant at which |added dynamic
  acceleration| is >= 10 % of ``peak_g`` (the "10 % span"), ``axis`` the unit direction of
  the added acceleration at the peak.

How a scenario is built
-----------------------
1. A *timeline* (segments of contexts and the times/kinds of the jerk episodes) is drawn from
   (seed, name, minutes) only. It does not depend on region or sensor, so generating the same
   seed for several regions gives several sensors worn during the same day with jerks at the
   same moments (a generalised-myoclonus setup); use different seeds for independent focal
   jerks.
2. Each segment is rendered from components (orientation transitions, slow rotation layers,
   oscillators, pulse trains, band-limited noise), block by block, straight into the output
   arrays (memory stays ~ the output arrays plus a few tens of MB).
3. Jerk waveforms are built on a fine time grid from a kinematic model, low-pass filtered like
   the sensor, and interpolated at the sample instants.
4. The sensor model adds white noise from the datasheet noise density, a constant zero-g
   offset and gyro bias, then quantises to the LSB grid and clips at the full-scale range.

Only numpy is used. An 8 h night at 200 Hz (5.76 M samples) takes ~8 s and ~0.37 GB peak
RSS, of which 0.32 GB are the float64 output arrays themselves.

Known simplifications (deliberate, documented so the benchmark is read correctly)
------------------------------------------------------------------------------------
* Jerks add acceleration and rotation but leave gravity's direction unchanged (the limb's
  transient tilt of a few degrees during a jerk or a negative-myoclonus drop is not
  modelled); background motion (posture changes, turns, swings, drift, tremor) does rotate
  gravity consistently with the gyro.
* Movements are rigid rotations about a fixed pivot plus translations; soft-tissue and strap
  wobble are not modelled (except through the shapes of the impact pulses).
* The sensor's digital low-pass is a zero-phase gaussian: no group delay, no aliasing of
  content above Nyquist beyond what point sampling of the filtered signal gives.
* Noise is white with the datasheet density over the filter's noise bandwidth; offsets and
  biases are constant (no temperature drift, no bias instability, no scale-factor or
  cross-axis error, no FIFO overruns or dropped samples).
* Voluntary activities are stylised: a handful of parametric patterns per context with
  random parameters, not recordings. Timing within a scenario is compressed when a short
  `minutes` is asked for (e.g. turning over every 10-40 min of an 8 h night scales down).
* Only the wearer's own jerks are labelled; nothing else (hiccups, startles, tics, sneezes,
  fasciculations) is simulated.
"""
from __future__ import annotations

import csv
import dataclasses
import math
import zlib
from dataclasses import dataclass, field

import numpy as np

G0 = 9.80665  # m/s^2 per g
DEG = 180.0 / math.pi
RAD = math.pi / 180.0

# ----------------------------------------------------------------------------------------------
# Public data model
# ----------------------------------------------------------------------------------------------


@dataclass
class TruthEvent:
    """One labelled jerk. See the module docstring for exact definitions.

    t: s, time of the peak of |added dynamic acceleration|; kind: 'jerk', 'series',
    'rhythmic', 'negative' or 'hypnic'; peak_g: g; peak_dps: deg/s; duration_ms: 10 % span in
    ms; axis: unit vector (sensor frame) of the added acceleration at the peak; context and
    category of the segment it lies in; group: episode id (the jerks of one series or rhythmic
    train share it; a single jerk has its own).
    """
    t: float
    kind: str
    peak_g: float
    peak_dps: float
    duration_ms: float
    axis: tuple
    context: str
    category: str
    group: int = -1


@dataclass
class Segment:
    """A stretch of one daily-life context: [start, end) in s from the first sample."""
    start: float
    end: float
    context: str
    category: str


@dataclass
class Scenario:
    """A generated recording. acc: (N,3) g, gyro: (N,3) deg/s (both quantised unless ideal),
    t: (N,) s. meta: the sensor model actually used (LSBs, ranges, offsets, bias, ...)."""
    name: str
    rate_hz: float
    sensor: str
    region: str
    seed: int
    t: np.ndarray
    acc: np.ndarray
    gyro: np.ndarray
    truth: list
    segments: list
    meta: dict = field(default_factory=dict)


# Context -> category. The benchmark reports false events per category; 'stairs' is gait, so
# it is reported with walking; everything that is neither rest, sleep nor gait is 'activity'.
CATEGORY = {
    "rest": "rest",
    "sleep": "sleep",
    "sleep_onset": "sleep",     # drowsy, lying, falling asleep: where hypnic jerks happen
    "walking": "walking",
    "stairs": "walking",
    "typing": "activity",
    "eating": "activity",
    "scratching": "activity",
    "tremor": "activity",
    "vehicle": "activity",
    "hold": "activity",
    "posture": "activity",
}
CONTEXTS = tuple(CATEGORY)
KINDS = ("jerk", "series", "rhythmic", "negative", "hypnic")

# ----------------------------------------------------------------------------------------------
# Sensors
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SensorSpec:
    """Typical datasheet figures (approximate; typ. values, high-performance/low-noise mode).

    acc_nd_ug: accelerometer noise density, ug/sqrt(Hz); gyro_nd_mdps: gyro rate noise
    density, mdps/sqrt(Hz); acc_offset_sd_mg / gyro_bias_sd_dps: standard deviation of the
    constant per-axis zero-g offset / zero-rate bias we draw for one device (a fraction of the
    datasheet's typical tolerance); acc_lsb_g / gyro_lsb_dps: LSB size per full-scale range.
    """
    name: str
    acc_nd_ug: float
    gyro_nd_mdps: float
    acc_offset_sd_mg: float
    gyro_bias_sd_dps: float
    acc_lsb_g: dict
    gyro_lsb_dps: dict


_ST_ACC = {2: 0.061e-3, 4: 0.122e-3, 8: 0.244e-3, 16: 0.488e-3}          # g/LSB
_ST_GYRO = {125: 4.375e-3, 250: 8.75e-3, 500: 17.5e-3, 1000: 35e-3, 2000: 70e-3}  # dps/LSB
_IV_ACC = {2: 1 / 16384, 4: 1 / 8192, 8: 1 / 4096, 16: 1 / 2048}
_IV_GYRO = {250: 1 / 131.0, 500: 1 / 65.5, 1000: 1 / 32.8, 2000: 1 / 16.4}

SENSORS = {
    # LSM6DSOX: 70-80 ug/sqrt(Hz) (70 at +-2 g, a little more at +-8 g), 3.8 mdps/sqrt(Hz),
    # zero-g offset +-20 mg typ, zero-rate level +-1 dps typ.
    "LSM6DSOX": SensorSpec("LSM6DSOX", 75.0, 3.8, 7.0, 0.5, _ST_ACC, _ST_GYRO),
    # LSM6DS3TR-C: ~90 ug/sqrt(Hz), ~5 mdps/sqrt(Hz), offset +-40 mg, ZRL a few dps.
    "LSM6DS3TR-C": SensorSpec("LSM6DS3TR-C", 90.0, 5.0, 12.0, 1.0, _ST_ACC, _ST_GYRO),
    # MPU-6050: 400 ug/sqrt(Hz), 5 mdps/sqrt(Hz), offset +-50 mg (x, y) / +-80 mg (z),
    # zero-rate output +-20 dps initial tolerance (uncalibrated parts show a few dps).
    "MPU-6050": SensorSpec("MPU-6050", 400.0, 5.0, 20.0, 3.0, _IV_ACC, _IV_GYRO),
    # MPU6886 (ICM-20602 class): ~100 ug/sqrt(Hz), ~4 mdps/sqrt(Hz), +-40 mg, +-1 dps.
    "MPU6886": SensorSpec("MPU6886", 100.0, 4.0, 12.0, 0.7, _IV_ACC, _IV_GYRO),
}
_SENSOR_ALIASES = {"MPU6050": "MPU-6050", "MPU-6886": "MPU6886", "LSM6DS3TRC": "LSM6DS3TR-C",
                   "LSM6DS3": "LSM6DS3TR-C"}

# ----------------------------------------------------------------------------------------------
# Body regions
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionSpec:
    """How a body region sees each kind of movement (amplitudes in g, angles in deg, m).

    limb_lever: signed distance (m) of the sensor from the joint it rotates about in posture
      changes, along the model's x (negative: the sensor is distal of the joint).
    phys_tremor_g: RMS range of physiological tremor at rest (8-12 Hz).
    drift_deg: amplitude of slow postural drift at rest; breath_deg: rotation by breathing;
    bcg_g: ballistocardiogram pulse amplitude (0 = not modelled).
    step_impact_g / step_sigma_ms: heel-strike transient peak and gaussian width;
    contra_gain: impact of the other foot relative to the own side; com_gain: how much of the
    trunk's vertical gait oscillation reaches the sensor.
    swing_deg / swing_lever / swing_harm: limb swing amplitude during gait, pivot distance
      (m), second-harmonic ratio (0 = no swing model, e.g. trunk).
    hand_gain: how much of hand activity (typing taps, cup bumps, scratching) reaches the
      sensor; hand_rot_gain: scales hand-to-mouth rotations; tremor_gain: pathological tremor;
    vib_gain: vehicle vibration transmission; thump_gain: sit-down / bed thumps.
    jerk_lever: range of lever arms (m) of the rotation producing a jerk (wrist: from
      pronation about the forearm axis, ~4 cm, to shoulder, ~60 cm); jerk_rot_frac: share of
      a jerk's acceleration that comes from rotation (rest is translation of the whole
      segment); jerk_max_deg: cap on the angular excursion of one jerk; jerk_peak_g: peak
      range; neg_lever: pivot distance for negative myoclonus (arm drop about elbow/shoulder).
    """
    name: str
    limb_lever: float
    phys_tremor_g: tuple
    drift_deg: float
    breath_deg: float
    bcg_g: float
    step_impact_g: tuple
    step_sigma_ms: tuple
    contra_gain: float
    com_gain: float
    swing_deg: tuple
    swing_lever: float
    swing_harm: float
    hand_gain: float
    hand_rot_gain: float
    tremor_gain: float
    vib_gain: float
    thump_gain: float
    jerk_lever: tuple
    jerk_rot_frac: tuple
    jerk_max_deg: float
    jerk_peak_g: tuple
    neg_lever: tuple


REGIONS = {
    "wrist": RegionSpec(
        "wrist", -0.25, (0.005, 0.02), 1.5, 0.15, 0.0, (0.3, 0.6), (10, 18), 0.85, 0.7,
        (10, 22), 0.6, 0.15, 1.0, 1.0, 1.0, 0.8, 0.6, (0.04, 0.6), (0.6, 1.0), 25.0,
        (0.1, 3.0), (0.3, 0.6)),
    "upper_arm": RegionSpec(
        "upper_arm", -0.15, (0.003, 0.01), 1.0, 0.3, 0.001, (0.3, 0.55), (10, 18), 0.9, 0.85,
        (6, 15), 0.15, 0.1, 0.35, 0.45, 0.6, 0.9, 0.6, (0.1, 0.3), (0.5, 0.9), 15.0,
        (0.1, 2.5), (0.12, 0.25)),
    "trunk": RegionSpec(
        "trunk", 0.4, (0.001, 0.004), 0.7, 0.6, 0.004, (0.3, 0.7), (12, 22), 1.0, 1.0,
        (0, 0), 0.0, 0.0, 0.06, 0.08, 0.25, 1.0, 1.0, (0.2, 0.6), (0.3, 0.8), 8.0,
        (0.1, 1.5), (0.3, 0.5)),
    "thigh": RegionSpec(
        "thigh", -0.25, (0.002, 0.006), 0.8, 0.05, 0.0005, (0.5, 1.0), (8, 14), 0.35, 0.9,
        (15, 25), 0.25, 0.2, 0.05, 0.03, 0.4, 1.0, 1.0, (0.15, 0.45), (0.5, 0.9), 10.0,
        (0.1, 2.0), (0.2, 0.4)),
    "ankle": RegionSpec(
        "ankle", -0.4, (0.002, 0.008), 1.0, 0.02, 0.0, (0.8, 1.5), (4, 8), 0.2, 0.8,
        (20, 35), 0.4, 0.35, 0.04, 0.02, 0.5, 1.0, 0.5, (0.08, 0.45), (0.6, 1.0), 15.0,
        (0.1, 3.0), (0.3, 0.45)),
}

# Posture targets: (tilt from +x in deg: mean, sd; roll about x in deg: mean, sd). The up
# vector is up = cos(tilt) x + sin(tilt) (cos(roll) z + sin(roll) y). roll None = uniform;
# 'bed' = lying roll mixture (supine 0, left 90, right -90, prone 180 deg).
_POSTURE = {
    "wrist": {"sit": (75, 20, 0, 40), "stand": (15, 12, 0, 40), "lie": (90, 35, None, 0),
              "desk": (95, 8, 0, 15), "table": (80, 12, 0, 25), "hold": (90, 8, 0, 15)},
    "upper_arm": {"sit": (15, 10, 0, 30), "stand": (5, 6, 0, 30), "lie": (90, 20, None, 0),
                  "desk": (30, 10, 0, 20), "table": (30, 10, 0, 20), "hold": (90, 8, 0, 20)},
    "trunk": {"sit": (15, 8, 0, 8), "stand": (4, 4, 0, 5), "lie": (90, 8, "bed", 10),
              "desk": (20, 6, 0, 5), "table": (20, 6, 0, 5), "hold": (10, 5, 0, 5)},
    "thigh": {"sit": (88, 8, 0, 10), "stand": (4, 4, 0, 8), "lie": (90, 10, "bed", 15),
              "desk": (88, 8, 0, 10), "table": (88, 8, 0, 10), "hold": (88, 8, 0, 10)},
    "ankle": {"sit": (20, 12, 0, 20), "stand": (3, 4, 0, 10), "lie": (90, 12, "bed", 20),
              "desk": (20, 12, 0, 20), "table": (20, 12, 0, 20), "hold": (20, 12, 0, 20)},
}
_BED_ROLLS = (0.0, 90.0, -90.0, 180.0)
_BED_P = (0.4, 0.25, 0.25, 0.1)

# Posture class of each context (region independent; see _ctx_posture_class).
_CTX_POSTURE = {"rest": "sit", "sleep": "lie", "sleep_onset": "lie", "walking": "stand",
                "stairs": "stand", "typing": "desk", "eating": "table", "scratching": "sit",
                "tremor": "sit", "vehicle": "sit", "hold": "hold"}
_BODY = {"sit": "sit", "desk": "sit", "table": "sit", "hold": "sit", "stand": "stand",
         "lie": "lie"}

# ----------------------------------------------------------------------------------------------
# Small math helpers
# ----------------------------------------------------------------------------------------------


def _unit(v):
    v = np.asarray(v, dtype=float)
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 0, n, 1.0)


def _rand_unit(rng):
    return _unit(rng.normal(size=3))


def _rand_perp(rng, v):
    """A random unit vector perpendicular to unit vector v."""
    r = rng.normal(size=3)
    r -= np.dot(r, v) * v
    return _unit(r)


def _rotate(v, k, ang):
    """Rodrigues: rotate v about unit axis k by ang (rad, right-handed). Broadcasts (n,3)."""
    v = np.asarray(v, dtype=float)
    k = np.asarray(k, dtype=float)
    ang = np.asarray(ang, dtype=float)
    c = np.cos(ang)[..., None]
    s = np.sin(ang)[..., None]
    kv = np.broadcast_to(k, np.broadcast_shapes(k.shape, v.shape))
    vv = np.broadcast_to(v, kv.shape)
    return vv * c + np.cross(kv, vv) * s + kv * np.sum(kv * vv, axis=-1, keepdims=True) * (1 - c)


def _rotvec_apply(u, phi):
    """Rotate vectors u (n,3) by rotation vectors phi (n,3) (angle = |phi|, rad)."""
    ang = np.linalg.norm(phi, axis=1)
    k = phi / np.where(ang > 1e-15, ang, 1.0)[:, None]
    return _rotate(u, k, ang)


def _lu(rng, lo, hi, size=None):
    """Log-uniform draw in [lo, hi]."""
    return np.exp(rng.uniform(math.log(lo), math.log(hi), size))


def _minjerk(s):
    """Minimum-jerk profile p(s), p'(s), p''(s) for s in [0, 1] (0 -> 1, rest to rest)."""
    s = np.clip(s, 0.0, 1.0)
    s2 = s * s
    p = s2 * s * (10 - 15 * s + 6 * s2)
    p1 = 30 * s2 * (1 - 2 * s + s2)
    p2 = 60 * s - 180 * s2 + 120 * s2 * s
    return p, p1, p2


def _win(t, t0, t1, ramp):
    """Raised-cosine edge window on [t0, t1] with ramps `ramp` s: (w, w', w'')."""
    ramp = max(min(ramp, 0.5 * (t1 - t0)), 1e-6)
    w = np.zeros_like(t)
    w1 = np.zeros_like(t)
    w2 = np.zeros_like(t)
    a = math.pi / ramp
    inside = (t >= t0) & (t <= t1)
    w[inside] = 1.0
    m = (t >= t0) & (t < t0 + ramp)
    s = (t[m] - t0) * a
    w[m] = 0.5 * (1 - np.cos(s))
    w1[m] = 0.5 * a * np.sin(s)
    w2[m] = 0.5 * a * a * np.cos(s)
    m = (t > t1 - ramp) & (t <= t1)
    s = (t1 - t[m]) * a
    w[m] = 0.5 * (1 - np.cos(s))
    w1[m] = -0.5 * a * np.sin(s)
    w2[m] = 0.5 * a * a * np.cos(s)
    return w, w1, w2


def _band_noise(n, fs, shape_fn, rng, ncols=3):
    """Gaussian noise (n, ncols) with spectrum |H(f)| = shape_fn(f), normalised to unit RMS."""
    nfft = 1 << max(4, int(math.ceil(math.log2(max(n, 16)))))
    f = np.fft.rfftfreq(nfft, 1.0 / fs)
    h = shape_fn(f)
    out = np.empty((n, ncols))
    for c in range(ncols):
        spec = (rng.normal(size=f.size) + 1j * rng.normal(size=f.size)) * h
        x = np.fft.irfft(spec, nfft)[:n]
        sd = x.std()
        out[:, c] = x / sd if sd > 0 else x
    return out


# Width (in sigma) of the 10 % span of the pulse shapes used for background transients.
_SPAN = {0: 2 * math.sqrt(2 * math.log(10)), 1: 5.527, 2: 5.893}


def _pulse_shape(x, order):
    """Unit-peak gaussian pulse shapes: 0 = gaussian, 1 = -derivative (biphasic, positive lobe
    first), 2 = negative second derivative (Mexican hat, triphasic, peak +1 at 0)."""
    g = np.exp(-0.5 * x * x)
    if order == 0:
        return g
    if order == 1:
        return -x * g * math.exp(0.5)
    return (1 - x * x) * g


# ----------------------------------------------------------------------------------------------
# Segment rendering: components evaluated block by block
# ----------------------------------------------------------------------------------------------


class _Block:
    """Accumulators for one block of samples: dynamic acc (g), gyro (deg/s), rotation vector
    phi (rad, sensor rotation on top of the transitions' base path)."""

    def __init__(self, tb):
        self.t = tb
        m = tb.size
        self.acc = np.zeros((m, 3))
        self.gyr = np.zeros((m, 3))
        self.phi = np.zeros((m, 3))

    def add_rot(self, sl, phi, dphi, ddphi, lever=None):
        """Add a rotation layer on samples sl: phi (rad), dphi (rad/s), ddphi (rad/s^2), all
        (m,3). With a lever r (m, sensor position relative to the pivot) the sensor also gets
        the rigid-body acceleration alpha x r + omega x (omega x r)."""
        self.phi[sl] += phi
        self.gyr[sl] += dphi * DEG
        if lever is not None:
            r = np.asarray(lever, dtype=float)
            a = np.cross(ddphi, r) + np.cross(dphi, np.cross(dphi, r))
            self.acc[sl] += a / G0


class _Comp:
    """A background component active on [t0, t1]."""
    t0 = -np.inf
    t1 = np.inf

    def span(self, tb):
        """Slice of the block where this component may be non-zero, or None."""
        if tb[-1] < self.t0 or tb[0] > self.t1:
            return None
        i0 = int(np.searchsorted(tb, self.t0, "left"))
        i1 = int(np.searchsorted(tb, self.t1, "right"))
        return slice(i0, i1) if i1 > i0 else None

    def render(self, blk):  # pragma: no cover - interface
        raise NotImplementedError


class _RotSines(_Comp):
    """Slow rotation as a sum of sinusoids, edge-windowed: drift, sway, breathing.

    amps (K,3): rotation-vector amplitude (rad) of each sinusoid; freqs (K,) Hz."""

    def __init__(self, amps, freqs, phases, t0, t1, ramp, lever=None):
        self.amps = np.asarray(amps, float)
        self.w = 2 * math.pi * np.asarray(freqs, float)
        self.ph = np.asarray(phases, float)
        self.t0, self.t1, self.ramp, self.lever = t0, t1, ramp, lever

    def render(self, blk):
        sl = self.span(blk.t)
        if sl is None:
            return
        t = blk.t[sl]
        m = t.size
        phi, d1, d2 = np.zeros((m, 3)), np.zeros((m, 3)), np.zeros((m, 3))
        for a, w, p in zip(self.amps, self.w, self.ph):   # (explicit: BLAS on (m,K)x(K,3) is slow)
            arg = w * t + p
            s, c = np.sin(arg), np.cos(arg)
            for ax in range(3):
                if a[ax] != 0.0:
                    phi[:, ax] += a[ax] * s
                    d1[:, ax] += (a[ax] * w) * c
                    d2[:, ax] -= (a[ax] * w * w) * s
        w, w1, w2 = _win(t, self.t0, self.t1, self.ramp)
        if not (w == 1.0).all():      # product rule for the edge window
            d2 *= w[:, None]
            d2 += w2[:, None] * phi + 2 * w1[:, None] * d1
            d1 *= w[:, None]
            d1 += w1[:, None] * phi
            phi *= w[:, None]
        blk.add_rot(sl, phi, d1, d2, self.lever)


class _RotBump(_Comp):
    """A rotation there and back: angle(t) = amp * 64 (s (1-s))^3, s = (t-t0)/T, about fixed
    axis k (e.g. the forward lean of the trunk while standing up); velocity and acceleration
    start and end at zero."""

    def __init__(self, t0, T, k, amp_rad, lever=None):
        self.t0, self.t1 = t0, t0 + T
        self.T, self.k, self.amp, self.lever = T, np.asarray(k, float), amp_rad, lever

    def render(self, blk):
        sl = self.span(blk.t)
        if sl is None:
            return
        s = np.clip((blk.t[sl] - self.t0) / self.T, 0, 1)
        g = s - s * s
        g1 = 1 - 2 * s
        th = self.amp * 64 * g ** 3
        th1 = self.amp * 192 * g * g * g1 / self.T
        th2 = self.amp * 384 * g * (g1 * g1 - g) / self.T ** 2
        k = self.k
        blk.add_rot(sl, th[:, None] * k, th1[:, None] * k, th2[:, None] * k, self.lever)


class _Osc(_Comp):
    """Narrow-band oscillation (tremor, scratching, physiological tremor).

    Acceleration A(t) * sum_m rel_m sin(m*psi(t) + ph_m) along unit d (A in g), produced by a
    rotation about unit axis n (perpendicular to d) with lever r (m): the rotation angle and
    gyro follow analytically (theta'' * r = acceleration), so gravity in the sensor frame
    wobbles with the oscillation. psi(t) = 2 pi (f0 t + FM terms); A(t) = amp (1 + AM terms)
    times an edge window. Centripetal terms are neglected (they are second order).
    """

    def __init__(self, amp, f0, t0, t1, d, n, r, ramp=0.5, fm=(), am=(), harm=((1, 1.0, 0.0),),
                 phase0=0.0):
        self.amp, self.f0, self.t0, self.t1 = amp, f0, t0, t1
        self.d, self.n, self.r, self.ramp = np.asarray(d, float), np.asarray(n, float), r, ramp
        self.fm, self.am, self.harm, self.phase0 = list(fm), list(am), list(harm), phase0

    def render(self, blk):
        sl = self.span(blk.t)
        if sl is None:
            return
        t = blk.t[sl]
        psi = 2 * math.pi * self.f0 * t + self.phase0
        f = np.full_like(t, self.f0)
        for a_hz, fr, p in self.fm:          # frequency modulation: f0 + a sin(2 pi fr t + p)
            psi += -(a_hz / fr) * np.cos(2 * math.pi * fr * t + p)
            f += a_hz * np.sin(2 * math.pi * fr * t + p)
        env = np.full_like(t, self.amp)
        for rel, fr, p in self.am:           # slow waxing and waning
            env *= 1 + rel * np.sin(2 * math.pi * fr * t + p)
        env *= _win(t, self.t0, self.t1, self.ramp)[0]
        acc = np.zeros_like(t)
        th = np.zeros_like(t)
        th1 = np.zeros_like(t)
        w = 2 * math.pi * f
        for m, rel, p in self.harm:
            arg = m * psi + p
            sn = np.sin(arg)
            acc += rel * sn
            th += -rel * sn / (m * w) ** 2
            th1 += -rel * np.cos(arg) / (m * w)
        k = env * G0 / self.r                # g -> m/s^2 -> rad/s^2 per lever metre
        blk.acc[sl] += (env * acc)[:, None] * self.d
        blk.phi[sl] += (k * th)[:, None] * self.n
        blk.gyr[sl] += (k * th1 * DEG)[:, None] * self.n


class _Pulses(_Comp):
    """A train of gaussian-family pulses (steps, taps, bumps, thumps) on acc or gyro.

    c: centre times (s); sig: widths (s); amp: peak (g or deg/s, physical, before the sensor
    band limit); dirs (P,3) unit. The sensor's gaussian low-pass of width sf is applied
    analytically: sigma_eff^2 = sigma^2 + sf^2, peak * (sigma/sigma_eff)^(order+1).
    """

    def __init__(self, c, sig, amp, dirs, order, sf, target="acc"):
        o = np.argsort(c)
        self.c = np.asarray(c, float)[o]
        sig = np.asarray(sig, float)[o]
        self.se = np.sqrt(sig ** 2 + sf ** 2)
        self.a = np.asarray(amp, float)[o] * (sig / self.se) ** (order + 1)
        self.dirs = np.asarray(dirs, float).reshape(-1, 3)[o]
        self.order, self.target = order, target
        if self.c.size:
            self.t0 = float(self.c[0] - 6 * self.se.max())
            self.t1 = float(self.c[-1] + 6 * self.se.max())

    def render(self, blk):
        if self.c.size == 0:
            return
        tb = blk.t
        if tb[-1] < self.t0 or tb[0] > self.t1:
            return
        smax = self.se.max()
        j0 = int(np.searchsorted(self.c, tb[0] - 6 * smax))
        j1 = int(np.searchsorted(self.c, tb[-1] + 6 * smax))
        if j1 <= j0:
            return
        c, se, a, d = self.c[j0:j1], self.se[j0:j1], self.a[j0:j1], self.dirs[j0:j1]
        fs = (tb.size - 1) / (tb[-1] - tb[0]) if tb.size > 1 else 1.0
        W = int(math.ceil(5.5 * smax * fs)) + 2
        offs = np.arange(-W, W + 1)
        out = blk.acc if self.target == "acc" else blk.gyr
        step = max(1, 2_000_000 // offs.size)
        for q0 in range(0, c.size, step):
            cc, ss, aa, dd = c[q0:q0 + step], se[q0:q0 + step], a[q0:q0 + step], d[q0:q0 + step]
            k0 = np.searchsorted(tb, cc)
            idx = k0[:, None] + offs[None, :]
            valid = (idx >= 0) & (idx < tb.size)
            idxc = np.clip(idx, 0, tb.size - 1)
            x = (tb[idxc] - cc[:, None]) / ss[:, None]
            v = _pulse_shape(x, self.order) * aa[:, None] * valid
            lo = int(idxc.min())
            hi = int(idxc.max()) + 1
            flat = (idxc - lo).ravel()
            for ax in range(3):
                out[lo:hi, ax] += np.bincount(flat, weights=(v * dd[:, ax:ax + 1]).ravel(),
                                              minlength=hi - lo)


class _Func(_Comp):
    """Any other component: fn(t) -> (acc (m,3) g or None, gyro (m,3) deg/s or None)."""

    def __init__(self, t0, t1, fn):
        self.t0, self.t1, self.fn = t0, t1, fn

    def render(self, blk):
        sl = self.span(blk.t)
        if sl is None:
            return
        a, g = self.fn(blk.t[sl])
        if a is not None:
            blk.acc[sl] += a
        if g is not None:
            blk.gyr[sl] += g


class _Noise(_Comp):
    """Pre-generated band-limited noise arrays on the segment's sample grid (vehicle)."""

    def __init__(self, i0, acc=None, gyr=None):
        self.i0, self.acc_arr, self.gyr_arr = i0, acc, gyr

    def render(self, blk):
        j0 = blk.i0 - self.i0
        j1 = j0 + blk.t.size
        if self.acc_arr is not None:
            blk.acc += self.acc_arr[j0:j1]
        if self.gyr_arr is not None:
            blk.gyr += self.gyr_arr[j0:j1]


@dataclass
class _Trans:
    """Sensor rotation by `angle` (rad) about sensor-frame axis k over [t0, t0+T] with a
    minimum-jerk profile; lever (m) = sensor position relative to the pivot, or None."""
    t0: float
    T: float
    k: np.ndarray
    angle: float
    lever: np.ndarray = None


class _Seg:
    """One segment being rendered: timing, start orientation, transitions and components."""

    def __init__(self, idx, ctx, start, end, i0, i1, t, fs, sf, u0, rng, reg, opts):
        self.idx, self.ctx, self.start, self.end = idx, ctx, start, end
        self.i0, self.i1, self.fs, self.sf = i0, i1, fs, sf
        self.t_all = t
        self.u0 = np.asarray(u0, float)
        self.rng, self.reg, self.opts = rng, reg, opts
        self.trans = []
        self.comps = []
        self.dur = end - start

    # -- transitions --------------------------------------------------------------------------
    def free(self, t0, t1):
        """True if [t0, t1] overlaps no transition and lies inside the segment."""
        if t0 < self.start + 0.05 or t1 > self.end - 0.05:
            return False
        return all(t1 <= tr.t0 or t0 >= tr.t0 + tr.T for tr in self.trans)

    def add_trans(self, t0, T, k, angle, lever=None):
        if abs(angle) < 1e-9 or not self.free(t0, t0 + T):
            return False
        self.trans.append(_Trans(t0, T, _unit(k), float(angle),
                                 None if lever is None else np.asarray(lever, float)))
        self.trans.sort(key=lambda tr: tr.t0)
        return True

    def u_at_end_of_transitions(self, upto=np.inf):
        """Base up vector after all transitions starting before `upto`."""
        u = self.u0
        for tr in self.trans:
            if tr.t0 < upto:
                u = _rotate(u, tr.k, -tr.angle)
        return u

    def prepare(self):
        self.trans.sort(key=lambda tr: tr.t0)
        self.u_before = []
        u = self.u0
        for tr in self.trans:
            self.u_before.append(u)
            u = _rotate(u, tr.k, -tr.angle)
        self.u_end = u
        self.tr_t0 = np.array([tr.t0 for tr in self.trans])

    # -- rendering ----------------------------------------------------------------------------
    def render_times(self, tb, i0=0):
        """(acc g, gyro deg/s, up) for times tb (sorted) inside the segment."""
        blk = _Block(tb)
        blk.i0 = i0
        for c in self.comps:
            if isinstance(c, _Noise) and i0 is None:
                continue
            c.render(blk)
        ub = np.empty((tb.size, 3))
        ub[:] = self.u0
        if self.trans:
            j = np.searchsorted(self.tr_t0, tb, "right") - 1
            for jj in np.unique(j):
                m = j == jj
                if jj < 0:
                    continue
                tr = self.trans[jj]
                ub[m] = _rotate(self.u_before[jj], tr.k, -tr.angle)
            for jj, tr in enumerate(self.trans):
                a = np.searchsorted(tb, tr.t0, "left")
                b = np.searchsorted(tb, tr.t0 + tr.T, "right")
                if b <= a:
                    continue
                s = (tb[a:b] - tr.t0) / tr.T
                p, p1, p2 = _minjerk(s)
                th, th1, th2 = tr.angle * p, tr.angle * p1 / tr.T, tr.angle * p2 / tr.T ** 2
                ub[a:b] = _rotate(self.u_before[jj], tr.k, -th)
                blk.gyr[a:b] += (th1 * DEG)[:, None] * tr.k
                if tr.lever is not None:
                    kr = np.cross(tr.k, tr.lever)
                    kkr = np.cross(tr.k, kr)
                    blk.acc[a:b] += (th2[:, None] * kr + (th1 ** 2)[:, None] * kkr) / G0
        u = _rotvec_apply(ub, -blk.phi)
        return u + blk.acc, blk.gyr, u

    def render_into(self, acc_out, gyr_out, block=1 << 16):
        for a in range(self.i0, self.i1, block):
            b = min(self.i1, a + block)
            acc, gyr, _ = self.render_times(self.t_all[a:b], a)
            acc_out[a:b] = acc
            gyr_out[a:b] = gyr

    def up_at(self, times):
        tb = np.atleast_1d(np.asarray(times, float))
        _, _, u = self.render_times(tb, None)
        return u


# ----------------------------------------------------------------------------------------------
# Posture geometry
# ----------------------------------------------------------------------------------------------

_X = np.array([1.0, 0.0, 0.0])


def _up_from(tilt_deg, roll_deg):
    t, r = tilt_deg * RAD, roll_deg * RAD
    return np.array([math.cos(t), math.sin(t) * math.sin(r), math.sin(t) * math.cos(r)])


def _posture_up(rng, region, cls):
    tm, tsd, rm, rsd = _POSTURE[region][cls]
    tilt = float(np.clip(rng.normal(tm, tsd), 0, 180))
    if rm is None:
        roll = rng.uniform(-180, 180)
    elif rm == "bed":
        roll = float(rng.choice(_BED_ROLLS, p=_BED_P)) + rng.normal(0, rsd)
    else:
        roll = rng.normal(rm, rsd)
    return _up_from(tilt, roll)


def _lateral(u, rng):
    """A horizontal axis perpendicular to the limb (sensor x) when possible: x cross up."""
    v = np.cross(_X, u)
    if np.linalg.norm(v) < 0.3:
        return _rand_perp(rng, u)
    return _unit(v)


# ----------------------------------------------------------------------------------------------
# Background contexts
# ----------------------------------------------------------------------------------------------


def _bg_quiet(seg, tremor_scale=1.0, drift_scale=1.0, breath_rate=(0.2, 0.33)):
    """Stillness: physiological tremor, slow drift, breathing, heartbeat (trunk)."""
    rng, reg, t0, t1 = seg.rng, seg.reg, seg.start, seg.end
    ramp = min(1.0, 0.25 * seg.dur)
    # Physiological tremor: 8-12 Hz, narrow-band, RMS in the region's range (scaled).
    rms = _lu(rng, *reg.phys_tremor_g) * tremor_scale
    d = _rand_unit(rng)
    seg.comps.append(_Osc(rms * math.sqrt(2), rng.uniform(8, 12), t0, t1, d, _rand_perp(rng, d),
                          rng.uniform(0.08, 0.2), ramp,
                          fm=[(rng.uniform(0.2, 0.5), rng.uniform(0.03, 0.1), rng.uniform(0, 6.3))],
                          am=[(rng.uniform(0.2, 0.5), rng.uniform(0.05, 0.3), rng.uniform(0, 6.3))],
                          phase0=rng.uniform(0, 6.3)))
    # Slow postural drift: 4 sinusoids 0.003-0.1 Hz about random axes.
    K = 4
    amps = rng.normal(size=(K, 3))
    amps = _unit(amps) * (reg.drift_deg * drift_scale * RAD / math.sqrt(K))
    seg.comps.append(_RotSines(amps, _lu(rng, 0.003, 0.1, K), rng.uniform(0, 6.3, K), t0, t1,
                               ramp))
    # Breathing: chest/arm rotation at 12-20 breaths/min with a second harmonic.
    if reg.breath_deg > 0.01:
        fb = rng.uniform(*breath_rate)
        ax = _lateral(seg.u0, rng)
        a = reg.breath_deg * rng.uniform(0.6, 1.4) * RAD / 2
        seg.comps.append(_RotSines(np.array([ax * a, ax * a * 0.2]), [fb, 2 * fb],
                                   rng.uniform(0, 6.3, 2), t0, t1, ramp))
    # Ballistocardiogram: a small Mexican-hat pulse per heartbeat (50-75 bpm, 5 % HRV).
    if reg.bcg_g > 0 and seg.dur > 3:
        hr = rng.uniform(50, 75) / 60.0
        n = int(seg.dur * hr) + 2
        ibi = (1 / hr) * (1 + 0.05 * rng.normal(size=n))
        c = t0 + rng.uniform(0.3, 1.0) + np.cumsum(ibi)
        c = c[(c > t0 + 0.3) & (c < t1 - 0.3)]
        d = _unit(seg.u0 * 0.3 + _X)
        seg.comps.append(_Pulses(c, rng.uniform(0.025, 0.04, c.size),
                                 reg.bcg_g * rng.uniform(0.7, 1.3, c.size),
                                 np.tile(d, (c.size, 1)), 2, seg.sf))


def _fidgets(seg, every_s, angle_deg, dur_s=(0.6, 2.5), bump_p=0.3, bump_g=(0.02, 0.12),
             t_from=None, t_to=None):
    """Small slow voluntary adjustments (Poisson, mean interval every_s): a rotation of a few
    degrees (min-jerk, lever = limb pivot) that stays, sometimes ending with a light landing
    bump (hand back on the lap / mattress)."""
    rng, reg = seg.rng, seg.reg
    a = seg.start if t_from is None else t_from
    b = seg.end if t_to is None else t_to
    t = a + rng.exponential(every_s)
    bumps = []
    while t < b - 3:
        T = rng.uniform(*dur_s)
        u = seg.u_at_end_of_transitions(t)
        k = _unit(_rand_perp(rng, u) + 0.4 * rng.normal() * u)
        ang = rng.uniform(*angle_deg) * RAD * rng.choice([-1, 1])
        if seg.add_trans(t, T, k, ang, reg.limb_lever * _X) and rng.random() < bump_p:
            bumps.append((t + T * 0.97, _lu(rng, *bump_g) * max(reg.hand_gain, 0.3)))
        t += T + rng.exponential(every_s)
    if bumps:
        c = np.array([x[0] for x in bumps])
        dirs = np.array([_unit(seg.u_at_end_of_transitions(x) + 0.3 * rng.normal(size=3))
                         for x in c])
        seg.comps.append(_Pulses(c, _lu(rng, 0.012, 0.03, c.size), [x[1] for x in bumps], dirs,
                                 2, seg.sf))


def _ctx_rest(seg, events):
    posture = seg.opts.get("posture", "sit")
    if posture == "stand":
        _bg_quiet(seg, 1.2, 1.0)
        # Standing postural sway (0.1-0.8 Hz, ~0.5-1.5 deg) and weight shifts.
        rng = seg.rng
        amps = _unit(rng.normal(size=(3, 3))) * (rng.uniform(0.5, 1.5) * RAD / math.sqrt(3))
        seg.comps.append(_RotSines(amps, rng.uniform(0.1, 0.8, 3), rng.uniform(0, 6.3, 3),
                                   seg.start, seg.end, min(1.0, 0.25 * seg.dur),
                                   seg.reg.limb_lever * _X))
        _fidgets(seg, 40.0, (1, 5))
    elif posture == "lie":
        _bg_quiet(seg, 0.6, 0.6, (0.2, 0.3))
        _fidgets(seg, 120.0, (2, 10))
    else:
        _bg_quiet(seg)
        _fidgets(seg, 150.0, (2, 8))


def _ctx_sleep(seg, events, onset=False):
    """Lying asleep: very small tremor and drift, slow breathing, heartbeat, rare limb moves;
    a sleep bout may start by turning over (1-4 s whole-body roll)."""
    rng, reg = seg.rng, seg.reg
    _bg_quiet(seg, 0.15 if not onset else 0.4, 0.4, (0.18, 0.27))
    t_free = seg.start
    if seg.opts.get("turn") and seg.dur > 8:
        t = seg.start + rng.uniform(0.8, 1.5)
        T = rng.uniform(1.0, 4.0)
        if reg.name == "trunk":
            u = seg.u0
            roll = math.degrees(math.atan2(u[1], u[2]))
            while True:
                new = float(rng.choice(_BED_ROLLS, p=_BED_P)) + rng.normal(0, 10)
                dr = (new - roll + 180) % 360 - 180
                if abs(dr) > 45:
                    break
            k, ang = _X, dr * RAD         # u = Rot(x, -ang) u0 increases the roll by dr
            lever = 0.12 * _rand_perp(rng, _X)
        else:
            u1 = _posture_up(rng, reg.name, "lie")
            if abs(np.dot(u1, seg.u0)) > 0.97:
                u1 = _unit(u1 + _rand_perp(rng, seg.u0))
            k = _unit(np.cross(u1, seg.u0))
            ang = math.acos(float(np.clip(np.dot(u1, seg.u0), -1, 1)))
            lever = reg.limb_lever * _X * rng.uniform(0.7, 1.5)
        seg.add_trans(t, T, k, ang, lever)
        # Body repositioning shoves (zero net velocity) and a settling thump into the mattress.
        nb = rng.integers(2, 5)
        c = t + rng.uniform(0.1, 0.9, nb) * T
        seg.comps.append(_Pulses(c, rng.uniform(0.12, 0.3, nb), _lu(rng, 0.03, 0.15, nb),
                                 _unit(rng.normal(size=(nb, 3))), 1, seg.sf))
        u_end = seg.u_at_end_of_transitions()
        seg.comps.append(_Pulses([t + T + rng.uniform(0.0, 0.15)], [rng.uniform(0.015, 0.04)],
                                 [_lu(rng, 0.05, 0.3) * reg.thump_gain],
                                 [_unit(u_end + 0.3 * rng.normal(size=3))], 2, seg.sf))
        t_free = t + T + 1.0
    # Limb moves in sleep: wrist more often and larger than trunk.
    every = {"wrist": 240, "upper_arm": 400, "ankle": 300, "thigh": 500}.get(reg.name, 600)
    ang = (5, 30) if reg.name in ("wrist", "ankle") else (2, 8)
    if onset:
        every *= 0.5
    _fidgets(seg, every, ang, (0.6, 2.0), 0.4, (0.02, 0.15), t_from=t_free)
    if onset:
        # A hypnic jerk is often followed by a small readjustment 0.5-2 s later.
        for ev in events:
            if ev["kind"] == "hypnic" and rng.random() < 0.5:
                t = ev["t"] + rng.uniform(0.8, 2.0)
                u = seg.u_at_end_of_transitions(t)
                seg.add_trans(t, rng.uniform(0.8, 2.0), _rand_perp(rng, u),
                              rng.uniform(3, 12) * RAD, reg.limb_lever * _X)


def _gait(seg, rng, reg, t_a, t_b, cadence, stairs=0):
    """One walking bout between t_a and t_b (s). stairs: 0 level, +1 up, -1 down.

    Steps: intervals 1/cadence with 2.5 % jitter and a slow drift. Each step: a heel-strike
    transient (Mexican hat, region amplitude and width; the contralateral foot weaker at a
    unilateral sensor), smooth centre-of-mass oscillation at the step frequency (vertical)
    and half of it (medio-lateral), limb swing at the stride frequency (rotation about the
    lateral axis with the swing lever: tangential and centripetal acceleration plus the
    changing gravity), small trunk rotations. The bout fades in and out over ~1 s.
    """
    u = seg.u_at_end_of_transitions(t_a)
    lat = _rand_perp(rng, u)
    fwd = _unit(np.cross(lat, u))
    n = int((t_b - t_a) * cadence * 1.3) + 4
    drift = 1 + 0.03 * np.sin(2 * math.pi * np.arange(n) / rng.uniform(20, 60) + rng.uniform(0, 6))
    iv = drift * (1 + 0.025 * rng.normal(size=n)) / cadence
    steps = t_a + 0.4 + np.concatenate([[0.0], np.cumsum(iv)])
    steps = steps[steps < t_b - 0.4]
    if steps.size < 3:
        return
    side0 = rng.integers(0, 2)
    ipsi = ((np.arange(steps.size) + side0) % 2) == 0
    # Heel strikes.
    lo, hi = reg.step_impact_g
    amp = rng.uniform(lo, hi) * np.exp(0.15 * rng.normal(size=steps.size))
    sig = rng.uniform(*reg.step_sigma_ms) * 1e-3 * np.exp(0.1 * rng.normal(size=steps.size))
    if stairs < 0:
        amp, sig = amp * 1.3, sig * 0.85
    elif stairs > 0:
        amp = amp * 0.8
    amp = np.where(ipsi, amp, amp * reg.contra_gain)
    dirs = _unit(u[None, :] + 0.35 * rng.normal(size=(steps.size, 1)) * fwd
                 + 0.15 * rng.normal(size=(steps.size, 1)) * lat)
    c = steps + 0.01 * rng.normal(size=steps.size)
    seg.comps.append(_Pulses(c, sig, amp, dirs, 2, seg.sf))
    if reg.name == "ankle":  # toe-off push of the own foot, ~60 % of a stride later
        ci = c[ipsi] + 0.6 * 2 / cadence
        seg.comps.append(_Pulses(ci, rng.uniform(0.02, 0.04, ci.size),
                                 amp[ipsi] * rng.uniform(0.3, 0.6, ci.size),
                                 np.tile(_unit(fwd + 0.5 * u), (ci.size, 1)), 1, seg.sf))
    # Smooth parts: COM oscillation, limb swing, trunk rotations.
    a_v = rng.uniform(0.15, 0.3) * reg.com_gain * (1.3 if stairs else 1.0)
    a_ap = rng.uniform(0.08, 0.18) * reg.com_gain
    a_ml = rng.uniform(0.04, 0.1) * reg.com_gain
    d_ap = rng.uniform(0, 2 * math.pi)
    sw = rng.uniform(*reg.swing_deg) * RAD * (1.3 if stairs and reg.name in ("ankle", "thigh")
                                               else 1.0)
    h, hp = reg.swing_harm, rng.uniform(0, 2 * math.pi)
    lever = reg.swing_lever * -_X if sw > 0 else None
    rot_amp = np.array([rng.uniform(2, 4), rng.uniform(1, 2.5), rng.uniform(1, 2)]) * RAD
    rot_ph = rng.uniform(0, 2 * math.pi, 3)
    k_idx = np.arange(steps.size, dtype=float)
    ivs = np.diff(steps)
    ivs = np.append(ivs, ivs[-1])
    e_a, e_b = steps[0], steps[-1]

    def fn(t):
        ph = 2 * math.pi * np.interp(t, steps, k_idx)   # step phase
        rate = 2 * math.pi / np.interp(t, steps, ivs)    # rad/s of the step phase
        env, env1, _ = _win(t, e_a - 0.3, e_b + 0.3, 1.0)
        acc = (env * a_v * np.cos(ph))[:, None] * u \
            + (env * a_ap * np.sin(ph + d_ap))[:, None] * fwd \
            + (env * a_ml * np.sin(ph / 2))[:, None] * lat
        st = ph / 2 + side0 * math.pi                      # stride phase
        sr = rate / 2
        phi = np.zeros((t.size, 3))
        d1 = np.zeros((t.size, 3))
        d2 = np.zeros((t.size, 3))
        if sw > 0:
            s0 = np.sin(st) + h * np.sin(2 * st + hp)
            s1 = (np.cos(st) + 2 * h * np.cos(2 * st + hp)) * sr
            s2 = -(np.sin(st) + 4 * h * np.sin(2 * st + hp)) * sr * sr
            phi += (sw * env * s0)[:, None] * lat
            d1 += (sw * (env * s1 + env1 * s0))[:, None] * lat
            d2 += (sw * env * s2)[:, None] * lat
        for amp_, axis, ph_, mult in ((rot_amp[0], u, rot_ph[0], 0.5),
                                      (rot_amp[1], fwd, rot_ph[1], 0.5),
                                      (rot_amp[2], lat, rot_ph[2], 1.0)):
            x = mult * ph + ph_
            r = mult * rate
            phi += (amp_ * env * np.sin(x))[:, None] * axis
            d1 += (amp_ * (env * np.cos(x) * r + env1 * np.sin(x)))[:, None] * axis
            d2 += (-amp_ * env * np.sin(x) * r * r)[:, None] * axis
        blk_acc = acc
        if lever is not None:
            blk_acc = blk_acc + (np.cross(d2, lever) + np.cross(d1, np.cross(d1, lever))) / G0
        return blk_acc, d1 * DEG, phi

    seg.comps.append(_GaitComp(e_a - 0.3, e_b + 0.3, fn))


class _GaitComp(_Func):
    """Like _Func but fn also returns a rotation vector (rad) for the orientation."""

    def render(self, blk):
        sl = self.span(blk.t)
        if sl is None:
            return
        a, g, phi = self.fn(blk.t[sl])
        blk.acc[sl] += a
        blk.gyr[sl] += g
        blk.phi[sl] += phi


def _ctx_walking(seg, events, stairs=False):
    rng, reg = seg.rng, seg.reg
    _bg_quiet(seg, 1.0, 0.5)
    if not stairs:
        cad = rng.uniform(1.6, 2.0)
        _gait(seg, rng, reg, seg.start, seg.end, cad)
        # Turns while walking: yaw about the vertical (gravity unchanged), 45-180 deg, 1-2.5 s.
        t = seg.start + rng.uniform(10, 40)
        while t < seg.end - 5:
            u = seg.u_at_end_of_transitions(t)
            seg.add_trans(t, rng.uniform(1.0, 2.5), u,
                          rng.uniform(45, 180) * RAD * rng.choice([-1, 1]))
            t += rng.uniform(15, 60)
    else:
        # Flights of 8-14 steps, alternately up and down, with a 180 deg turn on landings.
        t = seg.start
        direction = rng.choice([-1, 1])
        while t < seg.end - 3:
            cad = rng.uniform(1.3, 1.7) if direction > 0 else rng.uniform(1.5, 1.9)
            nsteps = rng.integers(8, 15)
            t_b = min(seg.end, t + nsteps / cad + 0.8)
            _gait(seg, rng, reg, t, t_b, cad, stairs=direction)
            t = t_b
            if t < seg.end - 4:
                # Landing: two or three steps while turning 180 deg about the vertical.
                T = rng.uniform(1.2, 2.0)
                u = seg.u_at_end_of_transitions(t)
                seg.add_trans(t + 0.2, T, u, math.pi * rng.choice([-1, 1]))
                _gait(seg, rng, reg, t - 0.1, t + T + 0.7, rng.uniform(1.6, 1.9))
                t += T + 0.5
            direction = -direction


def _ctx_typing(seg, events):
    """Typing: bursts of key strikes at 3-8 /s (tiny sharp Mexican hats of 0.05-0.3 g at the
    wrist, with a small wrist rotation each), pauses, occasional hand repositioning."""
    rng, reg = seg.rng, seg.reg
    _bg_quiet(seg, 1.0, 0.7)
    g = reg.hand_gain
    t = seg.start + rng.uniform(0.5, 2.0)
    taps = []
    while t < seg.end - 1.0:
        nk = rng.integers(3, 16)
        rate = rng.uniform(3, 8)
        for _ in range(nk):
            taps.append(t)
            t += rng.lognormal(math.log(1 / rate), 0.35)
            if t > seg.end - 1.0:
                break
        r = rng.random()
        t += rng.uniform(0.3, 2) if r < 0.7 else (rng.uniform(2, 8) if r < 0.95
                                                 else rng.uniform(8, 20))
    taps = np.array(taps)
    taps = taps[(taps > seg.start + 0.5) & (taps < seg.end - 0.5)]
    n = taps.size
    if n:
        u = seg.u0
        dirs = _unit(u[None, :] + 0.5 * rng.normal(size=(n, 3)))
        seg.comps.append(_Pulses(taps, rng.uniform(0.0025, 0.006, n),
                                 _lu(rng, 0.05, 0.3, n) * g * rng.choice([-1, 1], n), dirs, 2,
                                 seg.sf))
        gdirs = _unit(np.cross(_X, rng.normal(size=(n, 3))))
        seg.comps.append(_Pulses(taps + 0.005, rng.uniform(0.005, 0.012, n),
                                 _lu(rng, 2, 15, n) * g, gdirs, 1, seg.sf, target="gyr"))
    _fidgets(seg, 45.0, (3, 12), (0.5, 1.2), 0.5, (0.03, 0.12))


def _ctx_eating(seg, events):
    """Eating: cycles every 8-30 s: reach/scoop, hand to mouth (elbow flexion 60-100 deg over
    0.8-1.5 s, lever 25-30 cm), hold, return; then either a cup put down (impact bump 0.2-1 g,
    50-150 ms, the classic false positive) or cutlery taps."""
    rng, reg = seg.rng, seg.reg
    _bg_quiet(seg, 1.0, 0.7)
    t = seg.start + rng.uniform(1, 4)
    bumps, taps = [], []
    while t < seg.end - 7:
        u = seg.u_at_end_of_transitions(t)
        lat = _lateral(u, rng)
        hand = -_X
        k = lat if np.dot(np.cross(lat, hand), u) > 0 else -lat   # this sign lifts the hand
        ang = rng.uniform(60, 100) * RAD * reg.hand_rot_gain
        T1, T2, hold = rng.uniform(0.8, 1.5), rng.uniform(0.8, 1.5), rng.uniform(1, 3)
        lever = -rng.uniform(0.25, 0.3) * _X if reg.name == "wrist" else reg.limb_lever * _X
        if ang > 2 * RAD:
            seg.add_trans(t, T1, k, ang, lever)
            seg.add_trans(t + T1 + hold, T2, k, -ang, lever)
        t_end = t + T1 + hold + T2
        if rng.random() < 0.35:
            dur = rng.uniform(0.05, 0.15)
            bumps.append((t_end - 0.02, dur / _SPAN[2], rng.uniform(0.2, 1.0)))
        elif rng.random() < 0.6:
            for _ in range(rng.integers(1, 5)):
                taps.append(t_end + rng.uniform(0.3, 3.0))
        t = t_end + rng.uniform(8, 30) - (T1 + hold + T2)
        t = max(t, t_end + 2.0)
    if bumps:
        c = np.array([b[0] for b in bumps])
        dirs = np.array([_unit(seg.u_at_end_of_transitions(x) + 0.3 * rng.normal(size=3))
                         for x in c])
        seg.comps.append(_Pulses(c, [b[1] for b in bumps],
                                 [b[2] * max(reg.hand_gain, 0.1) for b in bumps], dirs, 2,
                                 seg.sf))
    taps = np.array([x for x in taps if seg.start + 0.5 < x < seg.end - 0.5])
    if taps.size:
        seg.comps.append(_Pulses(taps, rng.uniform(0.003, 0.006, taps.size),
                                 _lu(rng, 0.05, 0.2, taps.size) * reg.hand_gain,
                                 _unit(rng.normal(size=(taps.size, 3))), 2, seg.sf))


def _ctx_scratching(seg, events):
    """Scratching: bursts of 1-5 s of 3-6 Hz back-and-forth strokes (0.2-1.2 g at the wrist,
    with harmonics: strokes are not sinusoidal), every few seconds to half a minute."""
    rng, reg = seg.rng, seg.reg
    _bg_quiet(seg, 1.0, 0.7)
    t = seg.start + rng.uniform(0.5, 3)
    g = max(reg.hand_gain, 0.1)   # a leg sensor feels the leg being scratched
    while t < seg.end - 1.5:
        dur = min(rng.uniform(1, 5), seg.end - 0.5 - t)
        if dur < 0.6:
            break
        d = _rand_unit(rng)
        n = _rand_perp(rng, d)
        f0 = rng.uniform(3, 6)
        seg.comps.append(_Osc(_lu(rng, 0.2, 1.2) * g, f0, t, t + dur, d, n,
                              rng.uniform(0.08, 0.2), ramp=0.2,
                              fm=[(0.08 * f0, rng.uniform(0.3, 1.0), rng.uniform(0, 6.3))],
                              harm=[(1, 1.0, 0.0), (2, rng.uniform(0.15, 0.4), rng.uniform(0, 6.3)),
                                    (3, rng.uniform(0.05, 0.15), rng.uniform(0, 6.3))],
                              phase0=rng.uniform(0, 6.3)))
        t += dur + rng.uniform(3, 30)


def _ctx_tremor(seg, events):
    """Pathological tremor: continuous 4-12 Hz oscillation, 0.05-0.5 g at the wrist, waxing and
    waning (+-30-50 % over 5-20 s), slow frequency wander, 2nd harmonic, elliptical (a
    weaker orthogonal component). Not a train of jerks: never labelled."""
    rng, reg = seg.rng, seg.reg
    _bg_quiet(seg, 1.0, 0.7)
    f0 = rng.uniform(4, 12)
    amp = _lu(rng, 0.05, 0.5) * reg.tremor_gain
    d = _rand_unit(rng)
    n = _rand_perp(rng, d)
    d2 = _unit(np.cross(n, d))
    r = rng.uniform(0.08, 0.2)
    fm = [(rng.uniform(0.1, 0.3), rng.uniform(0.02, 0.08), rng.uniform(0, 6.3)),
          (rng.uniform(0.05, 0.15), rng.uniform(0.1, 0.3), rng.uniform(0, 6.3))]
    am = [(rng.uniform(0.3, 0.5), rng.uniform(0.05, 0.2), rng.uniform(0, 6.3)),
          (rng.uniform(0.1, 0.2), rng.uniform(0.3, 0.8), rng.uniform(0, 6.3))]
    harm = [(1, 1.0, 0.0), (2, rng.uniform(0.05, 0.2), rng.uniform(0, 6.3))]
    ph0 = rng.uniform(0, 6.3)
    ramp = min(2.0, 0.2 * seg.dur)
    seg.comps.append(_Osc(amp, f0, seg.start, seg.end, d, n, r, ramp, fm, am, harm, ph0))
    seg.comps.append(_Osc(amp * rng.uniform(0.2, 0.4), f0, seg.start, seg.end, d2, n, r, ramp,
                          fm, am, [(1, 1.0, rng.uniform(0.5, 2.5))], ph0))


def _ctx_vehicle(seg, events):
    """Riding in a car or bus (passenger, hands on the lap): broadband vibration with body
    resonance 4-6 Hz and road/engine band 10-20 Hz (RMS 0.015-0.06 g, peaks ~0.05-0.25 g),
    road bumps (sharp 0.15-0.8 g impact then a 1.2-2.5 Hz suspension bounce), braking and
    accelerating (0.05-0.3 g over seconds) and turns (yaw with v*omega lateral acceleration)."""
    rng, reg = seg.rng, seg.reg
    fs = seg.fs
    _bg_quiet(seg, 0.7, 0.7)
    n = seg.i1 - seg.i0
    fhi = min(40.0, 0.45 * fs)
    r1, r2 = rng.uniform(4, 6), rng.uniform(10, 18)

    def shape(f):
        bp = (f > 0.8) / (1 + (f / fhi) ** 8)
        return bp * (0.6 + 3 * np.exp(-0.5 * ((f - r1) / 1.0) ** 2)
                     + 1.5 * np.exp(-0.5 * ((f - r2) / 2.5) ** 2)) / np.sqrt(1 + f / 5)

    rms = _lu(rng, 0.015, 0.06) * reg.vib_gain
    u = seg.u0
    lat = _rand_perp(rng, u)
    fwd = _unit(np.cross(lat, u))
    nz = _band_noise(n, fs, shape, rng, 3)
    w = _win(seg.t_all[seg.i0:seg.i1], seg.start, seg.end, min(2.0, 0.2 * seg.dur))[0]
    acc = rms * w[:, None] * (nz[:, :1] * u + 0.5 * nz[:, 1:2] * fwd + 0.5 * nz[:, 2:3] * lat)
    gz = _band_noise(n, fs, lambda f: (f > 0.3) / (1 + (f / 5.0) ** 4), rng, 3)
    gyr = rng.uniform(0.5, 2.5) * w[:, None] * gz
    seg.comps.append(_Noise(seg.i0, acc, gyr))
    # Road bumps.
    t = seg.start + rng.exponential(40)
    bc, bs, ba, bd, susp = [], [], [], [], []
    while t < seg.end - 3:
        bc.append(t)
        bs.append(rng.uniform(0.008, 0.025))
        ba.append(_lu(rng, 0.15, 0.8) * reg.vib_gain)
        bd.append(_unit(u + 0.2 * rng.normal(size=3)))
        susp.append((t + 0.02, rng.uniform(1.2, 2.5), ba[-1] * rng.uniform(0.15, 0.35)))
        t += rng.exponential(rng.uniform(20, 90))
    if bc:
        seg.comps.append(_Pulses(bc, bs, ba, bd, 2, seg.sf))
        for (ts, fq, a) in susp:
            def bounce(tt, ts=ts, fq=fq, a=a):
                x = tt - ts
                y = a * np.exp(-0.3 * 2 * math.pi * fq * x) * np.sin(2 * math.pi * fq * x)
                return y[:, None] * u, None
            seg.comps.append(_Func(ts, min(seg.end, ts + 2.5), bounce))
    # Manoeuvres: braking/accelerating along fwd; turns with consistent yaw and lateral acc.
    t = seg.start + rng.uniform(5, 30)
    lc, ls, la, ld = [], [], [], []
    while t < seg.end - 10:
        if rng.random() < 0.5:
            lc.append(t + 3)
            ls.append(rng.uniform(1, 3))
            la.append(rng.uniform(0.05, 0.3) * rng.choice([-1, 1]))
            ld.append(fwd)
            t += 8
        else:
            v = rng.uniform(4, 12)                    # m/s
            ang = rng.uniform(30, 90) * RAD * rng.choice([-1, 1])
            T = max(3.0, 1.875 * abs(ang) * v / (0.3 * G0))
            if t + T < seg.end - 2 and seg.add_trans(t, T, u, ang):
                def lateral(tt, t0=t, T=T, ang=ang, v=v):
                    _, p1, _ = _minjerk((tt - t0) / T)
                    return (v * ang * p1 / T / G0)[:, None] * lat, None
                seg.comps.append(_Func(t, t + T, lateral))
            t += T + 1
        t += rng.uniform(10, 60)
    if lc:
        seg.comps.append(_Pulses(lc, ls, la, ld, 0, 0.0))


def _ctx_hold(seg, events):
    """Arm held out against gravity: enhanced physiological tremor (1.5-3x, fatigue), slow
    sag and sway (1-4 deg, 0.03-0.5 Hz) and small corrections. Negative myoclonus happens
    here (placed by the jerk timeline)."""
    rng, reg = seg.rng, seg.reg
    _bg_quiet(seg, rng.uniform(1.5, 3.0), 1.0)
    K = 3
    amps = _unit(rng.normal(size=(K, 3))) * (rng.uniform(1, 4) * RAD / math.sqrt(K))
    seg.comps.append(_RotSines(amps, _lu(rng, 0.03, 0.5, K), rng.uniform(0, 6.3, K), seg.start,
                               seg.end, min(1.0, 0.25 * seg.dur), reg.limb_lever * _X))
    _fidgets(seg, 12.0, (1, 4), (0.3, 0.8), 0.0)


def _ctx_posture(seg, events):
    """A posture change: sit<->stand, lie down / sit up, or moving the arm into a new
    position. Min-jerk rotation to the target (lever = limb pivot), trunk lean there and back
    for sit<->stand, centre-of-mass rise/fall, and a landing thump when sitting/lying down."""
    rng, reg, o = seg.rng, seg.reg, seg.opts
    _bg_quiet(seg, 1.0, 0.5)
    a, b = o["from"], o["to"]
    ba, bb = _BODY[a], _BODY[b]
    u1 = o["u_target"]
    pre = min(rng.uniform(0.5, 1.2), 0.25 * seg.dur)
    if ba == bb:
        T, D, thump = rng.uniform(0.7, 1.8), 0.0, (0.03, 0.15)
    elif {ba, bb} == {"sit", "stand"}:
        T, D = rng.uniform(1.5, 3.0), (0.4 if bb == "stand" else -0.4)
        thump = (0.2, 0.6) if bb == "sit" else None
    elif "lie" in (ba, bb) and "stand" in (ba, bb):
        T, D = rng.uniform(3.0, 5.0), (0.6 if bb == "stand" else -0.6)
        thump = (0.1, 0.3) if bb == "lie" else None
    else:
        T, D = rng.uniform(2.0, 4.5), (0.3 if ba == "lie" else -0.3)
        thump = (0.1, 0.3) if bb == "lie" else None
    T = min(T, max(0.4, seg.dur - pre - 0.3))
    t0 = seg.start + pre
    u0 = seg.u0
    cosang = float(np.clip(np.dot(u0, u1), -1, 1))
    ang = math.acos(cosang)
    if ang > 1 * RAD:
        k = np.cross(u1, u0)
        k = _unit(k) if np.linalg.norm(k) > 1e-6 else _rand_perp(rng, u0)
        seg.add_trans(t0, T, k, ang, reg.limb_lever * _X * rng.uniform(0.8, 1.3))
    if {ba, bb} == {"sit", "stand"}:
        lean = {"trunk": (25, 45), "upper_arm": (10, 30), "wrist": (15, 40),
                "ankle": (5, 15)}.get(reg.name, (0, 0))
        if lean[1] > 0:
            k = _lateral(u0, rng)
            seg.comps.append(_RotBump(t0, T, k, rng.uniform(*lean) * RAD * rng.choice([-1, 1]),
                                      reg.limb_lever * _X))
    if D != 0.0:
        # The centre of mass rises/falls by D (m) during the middle part of the transition
        # (after the forward lean): a min-jerk displacement over 45-65 % of T.
        vert = _unit(u0 + u1) if np.linalg.norm(u0 + u1) > 0.3 else u0
        Tc = rng.uniform(0.45, 0.65) * T
        tc = t0 + rng.uniform(0.25, 0.35) * T

        def lift(tt, t0=tc, T=Tc, D=D, vert=vert):
            _, _, p2 = _minjerk((tt - t0) / T)
            return (D * p2 / T ** 2 / G0)[:, None] * vert, None
        seg.comps.append(_Func(tc, tc + Tc, lift))
    if thump is not None and t0 + T + 0.1 < seg.end - 0.1:
        dur = rng.uniform(0.06, 0.15)
        g = reg.thump_gain if ba != bb else max(reg.hand_gain, 0.1)
        seg.comps.append(_Pulses([t0 + T + 0.03], [dur / _SPAN[2]], [rng.uniform(*thump) * g],
                                 [_unit(u1 + 0.25 * rng.normal(size=3))], 2, seg.sf))


_CTX_FN = {
    "rest": _ctx_rest,
    "sleep": _ctx_sleep,
    "sleep_onset": lambda s, e: _ctx_sleep(s, e, onset=True),
    "walking": _ctx_walking,
    "stairs": lambda s, e: _ctx_walking(s, e, stairs=True),
    "typing": _ctx_typing,
    "eating": _ctx_eating,
    "scratching": _ctx_scratching,
    "tremor": _ctx_tremor,
    "vehicle": _ctx_vehicle,
    "hold": _ctx_hold,
    "posture": _ctx_posture,
}

# ----------------------------------------------------------------------------------------------
# Jerk waveforms
# ----------------------------------------------------------------------------------------------


@dataclass
class _Wave:
    """A transient on a fine grid: tau (s, 0 = peak), acc (m,3) g, gyr (m,3) deg/s."""
    tau: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray
    peak_g: float
    peak_dps: float
    duration_ms: float
    axis: tuple


def _gd(tau, c, s):
    """Gaussian bump g = exp(-x^2/2), x = (tau-c)/s, and its first two time derivatives."""
    x = (tau - c) / s
    g = np.exp(-0.5 * x * x)
    return g, -x / s * g, (x * x - 1) / (s * s) * g


def _span(mag, thr, dt):
    idx = np.nonzero(mag >= thr)[0]
    return (idx[-1] - idx[0]) * dt if idx.size else 0.0


def _finish(tau, acc_ms2, om_rad):
    """Common tail: peak, axis, 10 % span; shift tau so the peak is at 0."""
    mag = np.linalg.norm(acc_ms2, axis=1)
    i = int(np.argmax(mag))
    peak = float(mag[i])
    dt = tau[1] - tau[0]
    dur = _span(mag, 0.1 * peak, dt)
    axis = tuple(float(v) for v in acc_ms2[i] / peak)
    om = np.linalg.norm(om_rad, axis=1)
    return _Wave(tau - tau[i], acc_ms2 / G0, om_rad * DEG, peak / G0, float(om.max()) * DEG,
                 dur * 1e3, axis)


def _positive_params(rng, reg, kind="jerk"):
    """Shape parameters of a positive jerk (drawn once per jerk; once per train for rhythmic).

    Kinematic model. The limb segment rotates about axis n; the sensor sits at lever r (m)
    from the pivot (direction rhat); the whole segment may also translate along eT. The
    angular velocity is theta'(t) = A [v(t)] with two shape families:

    * 'biphasic' (jerk/series 70 %, all hypnic): a fast excursion whose velocity is a skewed
      gaussian (width s1 before its peak, kappa*s1 after, kappa 1.6-2.5, or the mirror image
      for 25 % of jerks) plus a small later overshoot/rebound b g(t; d s1, s2 s1); the
      acceleration is therefore biphasic (push, then brake) with one phase 1.6-2.5x larger
      than the other, so the time of the peak is unambiguous. The limb then drifts back to
      where it started with a slow minimum-jerk return lasting >= 26 s1 (0.3-1.5 s) whose
      acceleration stays below ~7 % of the peak, so it is not part of the 10 % span.
    * 'triphasic' (jerk/series 30 %, all rhythmic): an out-and-back twitch, angle = A [g(t;
      0, s1) + b g(t; d s1, s2 s1)], acceleration a Mexican hat (elastic return inside the
      jerk).

    acc = r theta'' (n x rhat) - r theta'^2 rhat (centripetal) + x'' eT, gyro = theta' n,
    where the translation x(t) has the same shape as the rotation (delayed by dT s1) and
    carries a share 1 - w of the linear acceleration. The rotation always returns to zero,
    and gravity in the sensor frame is left unchanged during the jerk (the transient tilt of
    a few degrees is not modelled). Hypnic jerks are whole-body: more translation, larger
    levers, multiphasic (larger rebound).
    """
    hyp = kind == "hypnic"
    n = _rand_unit(rng)
    if hyp or (kind != "rhythmic" and rng.random() < 0.7):
        shape = "biphasic"
    else:
        shape = "triphasic"
    p = dict(n=n, rhat=_rand_perp(rng, n), eT=_rand_unit(rng), shape=shape,
             r=float(_lu(rng, *((0.3, 0.6) if hyp else reg.jerk_lever))),
             w=float(rng.uniform(*((0.2, 0.6) if hyp else reg.jerk_rot_frac))),
             dT=float(rng.uniform(-0.3, 0.3)),
             ret=float(rng.uniform(0.3, 0.8)))
    if shape == "biphasic":
        kappa = float(rng.uniform(1.6, 2.5))
        p.update(kappa=kappa, lead=bool(rng.random() < 0.75),
                 b=float(rng.uniform(-0.4, 0.4) if hyp else rng.uniform(-0.25, 0.25)),
                 d=float(rng.uniform(2.0, 3.0) * kappa + 1.0),
                 s2=float(rng.uniform(1.5, 3.0) if hyp else rng.uniform(1.5, 2.5)))
    else:
        p.update(b=float(rng.uniform(-0.4, 0.4)),
                 d=float(rng.uniform(1.2, 2.5) * rng.choice([-1, 1])),
                 s2=float(rng.uniform(1.0, 2.0)))
    return p


def _perturb(rng, p, deg):
    """Copy of jerk parameters with the axes turned by ~deg (same muscle, similar jerks)."""
    q = dict(p)
    rv = _rand_unit(rng) * rng.normal(0, deg) * RAD
    for key in ("n", "rhat", "eT"):
        q[key] = _rotvec_apply(np.asarray(p[key])[None, :], rv[None, :])[0]
    return q


def _return_len(p, s1):
    """Start (s after the peak) and length (s) of the slow return of a biphasic jerk."""
    kap, b, s2 = p["kappa"], p["b"], p["s2"]
    smax = kap * s1
    K = 0.5 * (1 + kap) * s1 + b * s2 * s1
    return p["d"] * s1 + 3 * s2 * s1, max(p["ret"], 26 * smax * math.sqrt(max(K / smax, 0.1)))


def _shape_va(tau, p, s1, delay=0.0):
    """Unit-amplitude (velocity, acceleration) of a jerk shape on grid tau (see
    _positive_params), delayed by `delay` s."""
    b, d, s2 = p["b"], p["d"], p["s2"]
    t = tau - delay
    if p["shape"] == "triphasic":
        _, v_a, a_a = _gd(t, 0.0, s1)
        _, v_b, a_b = _gd(t, d * s1, s2 * s1)
        return v_a + b * v_b, a_a + b * a_b
    kap = p["kappa"]
    sr, sf = (s1, kap * s1) if p["lead"] else (kap * s1, s1)   # widths before/after the peak
    sig = np.where(t < 0, sr, sf)
    v_a = np.exp(-0.5 * (t / sig) ** 2)
    a_a = -t / sig ** 2 * v_a
    v_b, a_b, _ = _gd(t, d * s1, s2 * s1)
    v = v_a + b * v_b
    a = a_a + b * a_b
    K = math.sqrt(2 * math.pi) * (0.5 * (sr + sf) + b * s2 * s1)   # excursion (integral of v)
    t0, Tr = _return_len(p, s1)                                    # slow return afterwards
    _, p1, p2 = _minjerk((t - t0) / Tr)
    return v - K * p1 / Tr, a - K * p2 / Tr ** 2


def _positive_wave(p, reg, peak_g, dur_ms, dt):
    """Build a positive jerk with the requested peak (g) and 10 % span (ms).

    The time scale s1 and the amplitude are solved iteratively (centripetal terms make the
    peak non-linear in amplitude). The lever arm is lengthened if the angular excursion would
    exceed the region's plausible maximum. Returns a _Wave with the *measured* values.
    """
    n, rhat, eT = p["n"], p["rhat"], p["eT"]
    et = np.cross(n, rhat)
    r = p["r"]
    w, d, s2, dT = p["w"], p["d"], p["s2"], p["dT"]
    target = peak_g * G0
    if p["shape"] == "biphasic":
        s1 = dur_ms * 1e-3 / (0.5 * _SPAN[1] * (1 + p["kappa"]))
    else:
        s1 = dur_ms * 1e-3 / _SPAN[2]
    for _ in range(12):
        smax = s1 * max(1.0, s2, p.get("kappa", 1.0))
        pre = 6.5 * smax + max(0.0, -d) * s1
        post = 6.5 * smax + max(0.0, d) * s1
        if p["shape"] == "biphasic":
            t0r, Tr = _return_len(p, s1)
            post = max(post, t0r + Tr + 0.01)
        tau = np.arange(-pre, post + dt, dt)
        th1, th2 = _shape_va(tau, p, s1)
        L_rot = (r * th2)[:, None] * et
        C = -(r * th1 ** 2)[:, None] * rhat
        tr = _shape_va(tau, p, s1, dT * s1)[1][:, None] * eT
        mrot = np.linalg.norm(L_rot, axis=1).max()
        mtr = np.linalg.norm(tr, axis=1).max()
        cT = (1 - w) / w * mrot / mtr if w < 0.999 else 0.0
        L = L_rot + cT * tr

        def f(k):
            return np.linalg.norm(k * L + k * k * C, axis=1).max()
        hi = target / np.linalg.norm(L, axis=1).max()
        while f(hi) < target:
            hi *= 1.5
        lo = 0.0
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            if f(mid) < target:
                lo = mid
            else:
                hi = mid
        k = 0.5 * (lo + hi)
        acc = k * L + k * k * C
        excursion = k * np.abs(np.cumsum(th1)).max() * dt * DEG
        span = _span(np.linalg.norm(acc, axis=1), 0.1 * f(k), dt) * 1e3
        changed = False
        if excursion > reg.jerk_max_deg * 1.02:
            r *= excursion / reg.jerk_max_deg
            changed = True
        if span > 0 and abs(span / dur_ms - 1) > 0.01:
            s1 *= dur_ms / span
            changed = True
        if not changed:
            break
    om = (k * th1)[:, None] * n
    return _finish(tau, acc, om)


def _negative_wave(rng, reg, u, lapse_ms, drop_g, dt):
    """Negative myoclonus: a brief loss of tone of a limb held against gravity.

    Lapse (lapse_ms, tapered plateau): the limb accelerates down (along -up) at drop_g;
    catch: an upward gaussian decelerating pulse (sigma 8-25 ms, >= lapse/12) with a small
    downward rebound, scaled so the downward velocity returns to zero; then the limb is
    lifted back to where it was (min-jerk over 0.3-0.6 s) so the position returns too. The
    movement is an arc about the elbow/shoulder (pivot at neg_lever): gyro = v / R about a
    horizontal axis; the direction has a 20 % random horizontal part. Gravity in the sensor
    frame is left unchanged (the few-degree drop is not modelled as a tilt). Truth duration =
    10 % span of lapse + catch; the return lift (< ~0.05 g, 0.5-1 s) is excluded.
    """
    L = lapse_ms * 1e-3
    sc = rng.uniform(max(0.008, L / 12), 0.025)
    tl = L + sc * 4 + rng.uniform(0.1, 0.3)
    Tl = rng.uniform(0.5, 1.0)
    tau = np.arange(-0.05, tl + Tl + 0.05, dt)
    rf = rng.uniform(0.2, 0.45) * L
    plateau = _win(tau, 0.0, L, rf)[0]
    q = drop_g * G0 * plateau                                  # downward acceleration, m/s^2
    tc = L + sc * rng.uniform(0.3, 1.0)
    catch = _gd(tau, tc, sc)[0]
    reb = -rng.uniform(0.1, 0.3) * _gd(tau, tc + rng.uniform(2.5, 3.5) * sc,
                                       rng.uniform(1.0, 1.5) * sc)[0]
    shape = catch + reb
    q = q - shape * (q.sum() / shape.sum())                     # zero net velocity
    v = np.cumsum(q) * dt
    D = np.sum(v) * dt                                          # downward displacement, m
    _, _, p2 = _minjerk((tau - tl) / Tl)
    q_event = q.copy()
    q = q - D * p2 / Tl ** 2       # lift: upward acceleration D p''/T^2 undoes the drop
    v = np.cumsum(q) * dt
    e = _unit(u + 0.2 * _rand_perp(rng, u) * rng.normal())
    acc = -q[:, None] * e
    R = rng.uniform(*reg.neg_lever)
    n = _rand_perp(rng, e) * rng.choice([-1, 1])
    om = (v / R)[:, None] * n
    # Peak, axis and duration describe the myoclonic event (lapse + catch); the slow voluntary
    # return that follows is part of the waveform but not of the labelled duration.
    w = _finish(tau, -q_event[:, None] * e, om)
    w.acc = acc / G0
    return w


def _place_wave(wave, t_peak, t, acc_out, gyr_out, sf):
    """Low-pass the fine waveform like the sensor (gaussian, sigma sf) and add it to the
    output arrays at the sample instants t (interpolated)."""
    tau, acc, gyr = wave.tau, wave.acc, wave.gyr
    dt = tau[1] - tau[0]
    if sf > 0:
        kh = int(math.ceil(4 * sf / dt))
        pad = np.zeros((kh, 3))
        acc = np.vstack([pad, acc, pad])
        gyr = np.vstack([pad, gyr, pad])
        tau = np.concatenate([tau[0] - dt * np.arange(kh, 0, -1), tau,
                              tau[-1] + dt * np.arange(1, kh + 1)])
        kx = np.arange(-kh, kh + 1) * dt / sf
        ker = np.exp(-0.5 * kx * kx)
        ker /= ker.sum()
        acc = np.stack([np.convolve(acc[:, i], ker, "same") for i in range(3)], 1)
        gyr = np.stack([np.convolve(gyr[:, i], ker, "same") for i in range(3)], 1)
    a = int(np.searchsorted(t, t_peak + tau[0], "left"))
    b = int(np.searchsorted(t, t_peak + tau[-1], "right"))
    if b <= a:
        return
    x = t[a:b] - t_peak
    for i in range(3):
        acc_out[a:b, i] += np.interp(x, tau, acc[:, i])
        gyr_out[a:b, i] += np.interp(x, tau, gyr[:, i])


# ----------------------------------------------------------------------------------------------
# Scenario plans (timeline)
# ----------------------------------------------------------------------------------------------

SCENARIOS = {
    "night": "8 h night: in bed sitting/reading, lying down, falling asleep with hypnic jerks, "
             "sleep bouts separated by turning over every 10-40 min with scattered jerks and "
             "series, a bathroom trip, then waking (sit up, rest with a post-awakening cluster "
             "of jerks, walk). ~15 jerks/h.",
    "day": "1 h of mixed daily life: rest, typing, eating, walking, stairs, standing, car ride, "
           "scratching, arm held out; jerks in every context (>= 1 per segment). ~40 jerks/h.",
    "rest": "10 min sitting still (physiological tremor, drift, breathing, rare fidgets) with "
            "mostly isolated single jerks. ~60 jerks/h.",
    "walking": "10 min of walking bouts with turns, standing pauses and a stairs section; "
               "jerks among the steps. ~60 jerks/h.",
    "activity": "20 min of typing, eating (cup put down), scratching, a car ride and holding; "
                "jerks among voluntary movement. ~60 jerks/h.",
    "tremor": "3 min: a short rest, 2.5 min of continuous 4-12 Hz tremor, a short rest; no "
              "jerks (jerks_per_hour adds some on top).",
    "negative": "10 min alternating rest and holding the arm out; negative myoclonus (lapses "
                "and catches) during the holds. ~120 jerks/h.",
    "mixed": "30 min: every context including a nap and tremor in random order; all kinds of "
             "jerks. ~60 jerks/h.",
    "sleep": "2 h asleep: turning over every 10-40 min, limb moves, scattered jerks and series. "
             "~15 jerks/h.",
    "typing": "10 min typing (false-positive calibration). ~30 jerks/h.",
    "eating": "10 min eating and drinking, cups put down. ~30 jerks/h.",
    "scratching": "10 min with scratching bursts. ~30 jerks/h.",
    "vehicle": "10 min riding in a car: vibration, road bumps, turns, braking. ~30 jerks/h.",
    "stairs": "10 min up and down stairs. ~30 jerks/h.",
    "posture": "10 min of repeated sit/stand/lie transitions with short rests. ~30 jerks/h.",
}

# name -> (default minutes, default jerks/h, kind mix override or None, min events per segment)
_DEFAULTS = {
    "night": (480, 15.0, None, 0), "day": (60, 40.0, None, 1), "rest": (10, 60.0,
    {"jerk": 0.8, "series": 0.15, "rhythmic": 0.05}, 0), "walking": (10, 60.0, None, 0),
    "activity": (20, 60.0, None, 0), "tremor": (3, 0.0, None, 0),
    "negative": (10, 120.0, None, 0), "mixed": (30, 60.0, None, 0),
    "sleep": (120, 15.0, None, 0), "typing": (10, 30.0, None, 0), "eating": (10, 30.0, None, 0),
    "scratching": (10, 30.0, None, 0), "vehicle": (10, 30.0, None, 0),
    "stairs": (10, 30.0, None, 0), "posture": (10, 30.0, None, 0),
}

# Relative jerk density per context (multiplies segment duration when allocating jerks).
_JW = {"posture": 0.3, "sleep": 0.6, "sleep_onset": 1.0, "hold": 2.0, "tremor": 0.0}
# Kind mixes per context.
_MIX = {
    "default": {"jerk": 0.6, "series": 0.25, "rhythmic": 0.15},
    "hold": {"negative": 0.75, "jerk": 0.15, "series": 0.1},
    "sleep_onset": {"hypnic": 0.85, "jerk": 0.15},
    "sleep": {"jerk": 0.6, "series": 0.3, "rhythmic": 0.1},
}


def _plan(name, T, rng):
    """List of (context, duration s, opts). Durations are rescaled to sum to T afterwards."""
    f = T / 28800.0
    P = []
    if name == "night":
        P.append(("rest", max(20, 360 * f), {"posture": "sit"}))
        P.append(("sleep_onset", max(40, 900 * f), {"min_events": 2, "min_hypnic": 2}))
        wake = [("rest", max(20, 300 * f), {"posture": "sit", "jw": 3.0}),
                ("walking", max(20, 120 * f), {})]
        mid = T - sum(p[1] for p in P) - sum(p[1] for p in wake)
        trip = max(20, 100 * f)
        first = 0.5 * (mid - trip) * rng.uniform(0.8, 1.2)

        def bouts(total, turn_first):
            out, acc = [], 0.0
            while total - acc > 20:
                d = min(max(20, rng.uniform(600, 2400) * f), total - acc)
                if total - acc - d < 20:
                    d = total - acc
                out.append(("sleep", d, {"turn": turn_first or bool(out)}))
                acc += d
            return out
        P += bouts(first, False)
        P.append(("walking", trip, {}))
        P += bouts(mid - trip - first, False)
        P += wake
    elif name == "sleep":
        P.append(("sleep", max(30, rng.uniform(600, 2400) * T / 7200), {"turn": False}))
        while sum(p[1] for p in P) < T - 20:
            P.append(("sleep", max(20, rng.uniform(600, 2400) * T / 7200), {"turn": True}))
    elif name == "day":
        P = [("rest", 5, {"posture": "sit"}), ("typing", 9, {}), ("eating", 6, {}),
             ("walking", 7, {}), ("stairs", 3, {}), ("rest", 3, {"posture": "stand"}),
             ("vehicle", 8, {}), ("walking", 4, {}), ("scratching", 3, {}), ("hold", 2, {}),
             ("rest", 5, {"posture": "sit"}), ("typing", 5, {})]
    elif name == "rest":
        P = [("rest", 1, {"posture": "sit"})]
    elif name == "walking":
        P = [("rest", 0.5, {"posture": "stand"}), ("walking", 3.5, {}),
             ("rest", 0.5, {"posture": "stand"}), ("walking", 3, {}), ("stairs", 1.5, {}),
             ("walking", 1, {})]
    elif name == "activity":
        P = [("typing", 4, {}), ("eating", 4, {}), ("scratching", 3, {}), ("vehicle", 4, {}),
             ("hold", 2, {}), ("typing", 3, {})]
    elif name == "tremor":
        P = [("rest", 15, {"posture": "sit"}), ("tremor", 150, {"jw": 0.5}),
             ("rest", 15, {"posture": "sit"})]
    elif name == "negative":
        tot = 0.0
        while tot < T:
            a, b = rng.uniform(15, 30), rng.uniform(30, 60)
            P += [("rest", a, {"posture": "sit", "jw": 0.3}), ("hold", b, {"jw": 3.0})]
            tot += a + b
    elif name == "mixed":
        ctxs = ["rest", "walking", "typing", "eating", "scratching", "tremor", "vehicle",
                "hold", "stairs", "sleep"]
        order = rng.permutation(len(ctxs))
        for i in order:
            c = ctxs[i]
            if c == "sleep":
                P += [("sleep_onset", 1.5, {}), ("sleep", 2.5, {})]
            else:
                P.append((c, rng.uniform(2, 4), {"jw": 0.5} if c == "tremor" else {}))
    elif name == "posture":
        seq = ["sit", "stand", "sit", "lie", "sit", "stand", "lie", "stand", "sit"]
        for s in seq:
            P.append(("rest", 1, {"posture": s}))
    elif name in ("typing", "eating", "scratching", "vehicle", "stairs"):
        P = [(name, 1, {})]
    else:
        raise ValueError("unknown scenario %r; choose from %s" % (name, ", ".join(SCENARIOS)))
    tot = sum(p[1] for p in P)
    return [(c, d * T / tot, dict(o)) for c, d, o in P]


def _posture_class(ctx, opts):
    if ctx == "rest":
        return opts.get("posture", "sit")
    return _CTX_POSTURE[ctx]


def _insert_postures(plan, rng):
    """Insert a 'posture' segment wherever the posture class changes (e.g. sit -> stand, lap ->
    keyboard, lying down). Its time is taken from the following segment."""
    out = []
    cls = None
    for c, d, o in plan:
        new = _posture_class(c, o)
        if cls is not None and new != cls:
            ba, bb = _BODY[cls], _BODY[new]
            if ba == bb:
                pd = rng.uniform(2.5, 4.0)
            elif "lie" in (ba, bb):
                pd = rng.uniform(5.0, 8.0)
            else:
                pd = rng.uniform(4.0, 6.0)
            pd = min(pd, 0.5 * d)
            out.append(("posture", pd, {"from": cls, "to": new}))
            d -= pd
        out.append((c, d, o))
        cls = new
    return out


# Margins (s) around a jerk peak that must lie inside the segment and be free of other jerks.
_MARGIN = {"jerk": (0.35, 0.8), "series": (0.35, 0.8), "rhythmic": (0.35, 0.35),
           "hypnic": (0.45, 1.2), "negative": (0.35, 1.6)}
_MIN_SIZE = {"series": 2, "rhythmic": 3}


def _draw_episode(kind, remaining, rng):
    """Relative times and per-jerk targets of one episode (region independent).

    Returns list of dicts: dt (s from the first peak), dur (target 10 % span, ms), q (peak
    quantile in [0,1], mapped to the region's log range), plus kind-specific fields."""
    def jdur(maxd=300.0):
        return float(np.clip(math.exp(rng.normal(math.log(80), 0.55)), 20, maxd))
    if kind == "series":
        n = int(min(remaining, rng.integers(2, 9)))
        out, t = [], 0.0
        prev = None
        for i in range(n):
            d = jdur()
            if prev is not None:
                gap = max(rng.uniform(0.2, 2.0), 0.15, 0.5 * (prev + d) * 1e-3 * 1.15 + 0.05)
                t += gap
            out.append(dict(dt=t, dur=d, q=float(rng.random())))
            prev = d
        return out
    if kind == "rhythmic":
        n = int(rng.integers(3, 13) if rng.random() < 0.8 else rng.integers(13, 21))
        n = int(min(remaining, n))
        f = rng.uniform(1.0, 4.0)
        P = 1.0 / f
        d0 = float(np.clip(math.exp(rng.normal(math.log(70), 0.4)), 20, min(300, 450 * P)))
        q0 = rng.uniform(0, 0.8)
        out = []
        for i in range(n):
            out.append(dict(dt=i * P + (0.03 * P * rng.normal() if i else 0.0),
                            dur=float(np.clip(d0 * math.exp(0.08 * rng.normal()), 20,
                                              min(300, 450 * P))),
                            q=float(np.clip(q0 + 0.06 * rng.normal(), 0, 1))))
        out.sort(key=lambda e: e["dt"])
        for i in range(1, n):     # keep >= 0.15 s between peaks whatever the jitter
            out[i]["dt"] = max(out[i]["dt"], out[i - 1]["dt"] + 0.15)
        return out
    if kind == "hypnic":
        return [dict(dt=0.0, dur=float(rng.uniform(100, 300)), q=float(rng.random()))]
    if kind == "negative":
        return [dict(dt=0.0, lapse=float(rng.uniform(50, 200)), q=float(rng.random()))]
    return [dict(dt=0.0, dur=jdur(), q=float(rng.random()))]


def _plan_jerks(segs, rate, rng, mix_override, min_per_seg):
    """Allocate jerk counts to segments (rate * duration * context weight, stochastic
    rounding) and place episodes at random free positions. Returns a list of episodes."""
    T = sum(s["end"] - s["start"] for s in segs)
    wts = []
    for s in segs:
        w = s["opts"].get("jw", _JW.get(s["ctx"], 1.0))
        wts.append(w * (s["end"] - s["start"]))
    wsum = sum(wts)
    ntot = rate * T / 3600.0
    episodes = []
    group = 0
    for s, w in zip(segs, wts):
        lam = ntot * w / wsum if wsum > 0 else 0.0
        n = int(math.floor(lam)) + int(rng.random() < lam - math.floor(lam))
        if rate > 0 and w > 0:
            n = max(n, s["opts"].get("min_events", 0))
            if s["end"] - s["start"] >= 30 and s["ctx"] != "posture":
                n = max(n, min_per_seg)
        if n == 0:
            continue
        mix = dict(_MIX.get(s["ctx"], _MIX["default"]))
        if mix_override and s["ctx"] not in ("hold", "sleep_onset"):
            mix = dict(mix_override)
        kinds = list(mix)
        p = np.array([mix[k] for k in kinds], float)
        p /= p.sum()
        occupied = []
        remaining, fails = n, 0
        forced = ["hypnic"] * s["opts"].get("min_hypnic", 0) if "hypnic" in mix else []
        while remaining > 0 and fails < 40:
            kind = kinds[rng.choice(len(kinds), p=p)] if fails < 20 else "jerk"
            if forced:
                kind = forced[0]
            if remaining < _MIN_SIZE.get(kind, 1):
                kind = "jerk"
            ep = _draw_episode(kind, remaining, rng)
            pre, post = _MARGIN[kind]
            a = s["start"] + 0.3 + pre
            b = s["end"] - 0.3 - post - ep[-1]["dt"]
            ok = False
            if b > a:
                for _ in range(50):
                    t0 = rng.uniform(a, b)
                    lo, hi = t0 - pre, t0 + ep[-1]["dt"] + post
                    if all(hi + 1.5 <= o0 or lo - 1.5 >= o1 for o0, o1 in occupied):
                        ok = True
                        break
            if not ok:
                fails += 1
                continue
            occupied.append((lo, hi))
            if forced:
                forced.pop(0)
            for e in ep:
                e["t"] = t0 + e["dt"]
                e["kind"] = kind
                e["group"] = group
                e["seg"] = s["idx"]
            episodes.append(ep)
            group += 1
            remaining -= len(ep)
    return episodes


# ----------------------------------------------------------------------------------------------
# Main entry point
# ----------------------------------------------------------------------------------------------

def _crc(s):
    return zlib.crc32(str(s).encode("utf-8"))


def _lsb(table, rng_value):
    if rng_value in table:
        return table[rng_value]
    return rng_value / 32768.0


def generate(name, minutes=None, rate_hz=200, seed=0, sensor="LSM6DSOX", region="wrist",
             jerks_per_hour=None, *, acc_range_g=8, gyro_range_dps=2000, bandwidth_hz=None,
             jitter_us=0.0, ideal=False):
    """Generate a scenario (see SCENARIOS) with ground truth.

    name: scenario name; minutes: length (None = the scenario's default); rate_hz: output
    data rate, 50-1000 Hz; seed: everything is deterministic for (name, minutes, rate_hz,
    seed, sensor, region, jerks_per_hour, options); sensor: one of SENSORS; region: one of
    REGIONS; jerks_per_hour: expected number of labelled jerks per hour over the whole
    scenario (None = the scenario's default; the counts are distributed over the segments
    in proportion to duration times a context weight).

    Options: acc_range_g / gyro_range_dps: full-scale ranges (clipping and LSB size);
    bandwidth_hz: sensor low-pass -3 dB frequency (default 0.4 * rate_hz, about what an
    LSM6/MPU digital filter gives at that ODR), modelled as a zero-phase gaussian (no group
    delay); jitter_us: standard deviation of the sampling-instant jitter (t holds the actual
    instants; clipped to +-0.4 sample); ideal=True returns the true specific force and
    angular rate with no band limit, noise, offset, bias, quantisation or clipping.
    """
    if name not in _DEFAULTS:
        raise ValueError("unknown scenario %r; choose from %s" % (name, ", ".join(SCENARIOS)))
    sensor = _SENSOR_ALIASES.get(sensor, sensor)
    if sensor not in SENSORS:
        raise ValueError("unknown sensor %r; choose from %s" % (sensor, ", ".join(SENSORS)))
    if region not in REGIONS:
        raise ValueError("unknown region %r; choose from %s" % (region, ", ".join(REGIONS)))
    if not (10 <= rate_hz <= 5000):
        raise ValueError("rate_hz must be between 10 and 5000 (50-1000 intended)")
    spec, reg = SENSORS[sensor], REGIONS[region]
    dmin, drate, mix_override, min_per_seg = _DEFAULTS[name]
    minutes = dmin if minutes is None else float(minutes)
    if minutes <= 0:
        raise ValueError("minutes must be positive")
    rate = drate if jerks_per_hour is None else float(jerks_per_hour)
    fs = float(rate_hz)
    T = minutes * 60.0
    N = int(round(T * fs))
    base = [int(seed) & 0xFFFFFFFF, _crc(name), int(round(minutes * 1000)) & 0xFFFFFFFF]
    rid, sid = _crc(region), _crc(sensor)

    # --- timeline (region independent) ---------------------------------------------------
    trng = np.random.default_rng(base + [1])
    plan = _insert_postures(_plan(name, T, trng), trng)
    cum = np.concatenate([[0.0], np.cumsum([p[1] for p in plan])])
    bounds = np.round(cum / cum[-1] * N).astype(int)
    segs = []
    for i, (c, _d, o) in enumerate(plan):
        i0, i1 = int(bounds[i]), int(bounds[i + 1])
        if i1 - i0 < 2:
            continue
        segs.append(dict(idx=len(segs), ctx=c, start=i0 / fs, end=i1 / fs, i0=i0, i1=i1,
                         opts=o))
    for k, s in enumerate(segs):     # merge-safe re-index
        s["idx"] = k
    jrng = np.random.default_rng(base + [2])
    episodes = _plan_jerks(segs, rate, jrng, mix_override, min_per_seg)

    # --- samples ---------------------------------------------------------------------------
    t = np.arange(N, dtype=np.float64) / fs
    if jitter_us and jitter_us > 0:
        jr = np.random.default_rng(base + [3])
        t += np.clip(jr.normal(0, jitter_us * 1e-6, N), -0.4 / fs, 0.4 / fs)
        t[0] = 0.0
    sf = 0.0 if ideal else 0.1325 / (bandwidth_hz if bandwidth_hz else 0.4 * fs)
    acc = np.empty((N, 3))
    gyr = np.empty((N, 3))

    # --- background, segment by segment ---------------------------------------------------
    prng = np.random.default_rng(base + [4, rid])
    u = _posture_up(prng, region, _posture_class(segs[0]["ctx"], segs[0]["opts"])
                    if segs[0]["ctx"] != "posture" else segs[0]["opts"]["from"])
    ev_by_seg = {}
    for ep in episodes:
        for e in ep:
            ev_by_seg.setdefault(e["seg"], []).append(e)
    seg_objs = []
    for s in segs:
        srng = np.random.default_rng(base + [5, rid, s["idx"]])
        opts = dict(s["opts"])
        if s["ctx"] == "posture":
            opts["u_target"] = _posture_up(srng, region, opts["to"])
        seg = _Seg(s["idx"], s["ctx"], s["start"], s["end"], s["i0"], s["i1"], t, fs, sf, u,
                   srng, reg, opts)
        _CTX_FN[s["ctx"]](seg, ev_by_seg.get(s["idx"], []))
        seg.prepare()
        seg.render_into(acc, gyr)
        u = seg.u_end
        seg_objs.append(seg)

    # --- jerks -------------------------------------------------------------------------------
    truth = []
    dt_fine = min(2.5e-4, 1.0 / (8 * fs))
    for ep in episodes:
        g = ep[0]["group"]
        wrng = np.random.default_rng(base + [6, rid, g])
        kind = ep[0]["kind"]
        seg = seg_objs[ep[0]["seg"]]
        lo, hi = reg.jerk_peak_g
        params = _positive_params(wrng, reg, kind)
        for j, e in enumerate(ep):
            if kind == "negative":
                up = seg.up_at([e["t"]])[0]
                drop = 0.1 * 5.0 ** e["q"]        # g, 0.1-0.5: partial loss of support
                lapse = e["lapse"]
                for _ in range(8):                # keep the labelled span <= 300 ms
                    wave = _negative_wave(wrng, reg, up, lapse, drop, dt_fine)
                    if wave.duration_ms <= 300.0:
                        break
                    lapse *= 0.85
                if wave.peak_g < 0.1:              # keep peaks in the stated 0.1-3 g range
                    sc_ = 0.1 / wave.peak_g
                    wave.acc *= sc_
                    wave.gyr *= sc_
                    wave.peak_g, wave.peak_dps = 0.1, wave.peak_dps * sc_
            else:
                if kind == "hypnic":
                    pk = 0.5 * 6.0 ** e["q"]
                else:
                    pk = lo * (hi / lo) ** e["q"]
                if kind == "series" and j > 0:
                    p = _perturb(wrng, params, 25.0)
                    bmax = 0.25 if p["shape"] == "biphasic" else 0.4
                    p.update(b=float(wrng.uniform(-bmax, bmax)),
                             r=float(_lu(wrng, *reg.jerk_lever)))
                elif kind == "rhythmic" and j > 0:
                    p = _perturb(wrng, params, 8.0)
                else:
                    p = params
                wave = _positive_wave(p, reg, pk, e["dur"], dt_fine)
            _place_wave(wave, e["t"], t, acc, gyr, sf)
            truth.append(TruthEvent(t=float(e["t"]), kind=kind, peak_g=float(wave.peak_g),
                                    peak_dps=float(wave.peak_dps),
                                    duration_ms=float(wave.duration_ms),
                                    axis=tuple(float(x) for x in wave.axis), context=seg.ctx,
                                    category=CATEGORY[seg.ctx], group=int(g)))
    truth.sort(key=lambda e: e.t)

    # --- sensor model ----------------------------------------------------------------------
    acc_lsb = _lsb(spec.acc_lsb_g, acc_range_g)
    gyro_lsb = _lsb(spec.gyro_lsb_dps, gyro_range_dps)
    meta = dict(acc_range_g=acc_range_g, gyro_range_dps=gyro_range_dps, acc_lsb_g=acc_lsb,
                gyro_lsb_dps=gyro_lsb, bandwidth_hz=None if ideal else 0.1325 / sf,
                jitter_us=jitter_us, ideal=ideal, minutes=minutes, jerks_per_hour=rate,
                sensor_spec=spec.__dict__.copy())
    if not ideal:
        nrng = np.random.default_rng(base + [7, rid, sid])
        enbw = 1.0 / (4 * math.sqrt(math.pi) * sf)        # gaussian filter noise bandwidth, Hz
        acc_sd = spec.acc_nd_ug * 1e-6 * math.sqrt(enbw)
        gyr_sd = spec.gyro_nd_mdps * 1e-3 * math.sqrt(enbw)
        offset = nrng.normal(0, spec.acc_offset_sd_mg * 1e-3, 3)
        bias = nrng.normal(0, spec.gyro_bias_sd_dps, 3)
        meta.update(acc_noise_g_rms=acc_sd, gyro_noise_dps_rms=gyr_sd,
                    acc_offset_g=tuple(offset.tolist()), gyro_bias_dps=tuple(bias.tolist()))
        blk = 1 << 18
        for a in range(0, N, blk):
            b = min(N, a + blk)
            for arr, sd, off, lsb in ((acc, acc_sd, offset, acc_lsb),
                                      (gyr, gyr_sd, bias, gyro_lsb)):
                x = arr[a:b]
                x += off
                x += nrng.normal(0, sd, x.shape)
                np.rint(x / lsb, out=x)
                np.clip(x, -32768, 32767, out=x)
                x *= lsb
    if region != "trunk":
        # Inside, a limb's +x points towards the proximal joint; a limb sensor is worn with +x
        # pointing away from the trunk (hardware/wearing.md). A half turn about z (out of the
        # skin) maps one onto the other: x and y change sign, exactly, after quantisation.
        for arr, lsb in ((acc, acc_lsb), (gyr, gyro_lsb)):
            arr[:, :2] *= -1
            if not ideal:
                np.minimum(arr[:, :2], 32767 * lsb, out=arr[:, :2])
        truth = [dataclasses.replace(e, axis=(-e.axis[0], -e.axis[1], e.axis[2]))
                 for e in truth]
        for key in ("acc_offset_g", "gyro_bias_dps"):
            if key in meta:
                v = meta[key]
                meta[key] = (-v[0], -v[1], v[2])
    segments = [Segment(s["start"], s["end"], s["ctx"], CATEGORY[s["ctx"]]) for s in segs]
    return Scenario(name=name, rate_hz=fs, sensor=sensor, region=region, seed=seed, t=t,
                    acc=acc, gyro=gyr, truth=truth, segments=segments, meta=meta)


# ----------------------------------------------------------------------------------------------
# CSV writers
# ----------------------------------------------------------------------------------------------

TRUTH_COLUMNS = ("t", "kind", "peak_g", "peak_dps", "duration_ms", "ax", "ay", "az", "context",
                 "category", "group")
SEGMENT_COLUMNS = ("start", "end", "context", "category")


def write_raw_csv(scn, path):
    """The scenario as a raw recording CSV (recordings.recording.write_raw_csv): t with 6
    decimals (s), acceleration 4 (g), rotation 2 (deg/s)."""
    from jerklog.recordings.recording import Recording
    from jerklog.recordings.recording import write_raw_csv as write
    write(Recording(scn.name, scn.t, scn.acc, scn.gyro, scn.rate_hz, "scenario"), path)


def write_truth_csv(scn, path):
    """One row per TruthEvent: t,kind,peak_g,peak_dps,duration_ms,ax,ay,az,context,category,
    group (t in s with 6 decimals, axis as its three unit components)."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(TRUTH_COLUMNS)
        for e in scn.truth:
            w.writerow(["%.6f" % e.t, e.kind, "%.4f" % e.peak_g, "%.2f" % e.peak_dps,
                        "%.1f" % e.duration_ms, "%.4f" % e.axis[0], "%.4f" % e.axis[1],
                        "%.4f" % e.axis[2], e.context, e.category, e.group])


def write_segments_csv(scn, path):
    """One row per Segment: start,end (s, 6 decimals),context,category."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(SEGMENT_COLUMNS)
        for s in scn.segments:
            w.writerow(["%.6f" % s.start, "%.6f" % s.end, s.context, s.category])
