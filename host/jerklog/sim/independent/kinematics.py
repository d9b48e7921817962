"""Physics shared by both model families of the independent generator.

Frames and units (hardware/wearing.md): the sensor's x runs along the segment away from the
trunk (towards the fingers or toes; on the trunk towards the head), z out of the skin. `up` is
the unit vector against gravity in the sensor frame: a still sensor reads acc = up (in g).
A segment turning by a small rotation vector phi (sensor frame) sees gravity turn by -phi;
its gyroscope reads d(phi)/dt.

A transient (a jerk, an impact, a corrective movement) is built on a fine time grid
(FINE_HZ), from a scalar acceleration profile along a direction, as the motion of a sensor at
lever arm r from a joint: the part of the direction across the segment turns the segment about
the joint (tangential acceleration, centripetal acceleration, rotation rate and the tilt of
gravity all follow from one angle), the part along the segment moves it along itself. Every
profile is closed (velocity and displacement back to zero at its end), so a transient has
compact support: outside it, nothing was added.
"""
import math

import numpy as np

G0 = 9.80665          # m/s^2 per g
FINE_HZ = 4000.0      # the fine grid transients are built on before the sensor samples them
DT = 1.0 / FINE_HZ
DEG = 180.0 / math.pi


def unit(v):
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def random_direction(rng):
    """Uniform on the sphere."""
    return unit(rng.normal(size=3))


def direction_near(rng, axis, max_deg):
    """Uniform on the spherical cap of half-angle max_deg around axis."""
    axis = unit(axis)
    cos_t = rng.uniform(math.cos(math.radians(max_deg)), 1.0)
    sin_t = math.sqrt(max(0.0, 1.0 - cos_t * cos_t))
    a = perpendicular(rng, axis)
    b = np.cross(axis, a)
    phi = rng.uniform(0, 2 * math.pi)
    return unit(cos_t * axis + sin_t * (math.cos(phi) * a + math.sin(phi) * b))


def perpendicular(rng, v):
    """A random unit vector at right angles to v."""
    v = unit(v)
    while True:
        w = rng.normal(size=3)
        w -= v * (w @ v)
        n = np.linalg.norm(w)
        if n > 1e-6:
            return w / n


def rodrigues(u, axis, angle):
    """Vectors u (n, 3) or (3,) turned about unit axes (n, 3) or (3,) by angles (n,) rad."""
    u = np.asarray(u, dtype=float)
    angle = np.asarray(angle, dtype=float)[..., None]
    c, s = np.cos(angle), np.sin(angle)
    kxu = np.cross(axis, u)
    kdu = np.sum(axis * u, axis=-1, keepdims=True)
    return u * c + kxu * s + axis * kdu * (1.0 - c)


def rotate_by_vector(u, rotvec):
    """u (n, 3) seen from a sensor turned by rotvec (n, 3): turned by -rotvec, exactly."""
    angle = np.linalg.norm(rotvec, axis=1)
    axis = np.zeros_like(rotvec)
    moving = angle > 1e-12
    axis[moving] = rotvec[moving] / angle[moving, None]
    axis[~moving] = (1.0, 0.0, 0.0)
    return rodrigues(u, axis, -angle)


def minjerk(s):
    """Minimum-jerk position 0..1 over s in 0..1, and its first and second derivatives."""
    s = np.clip(s, 0.0, 1.0)
    return (10 * s ** 3 - 15 * s ** 4 + 6 * s ** 5, 30 * s ** 2 - 60 * s ** 3 + 30 * s ** 4,
            60 * s - 180 * s ** 2 + 120 * s ** 3)


def alpha_pulse(t, rise):
    """A muscle twitch's force: (t/rise) e^(1 - t/rise) for t >= 0, peak 1 at t = rise."""
    x = np.maximum(t, 0.0) / rise
    return x * np.exp(1.0 - x)


def span_10(mag, dt=DT):
    """Time (s) between the first and the last instant at or above 10 % of the peak."""
    above = np.flatnonzero(mag >= 0.1 * mag.max())
    return (above[-1] - above[0]) * dt if len(above) else 0.0


def fft_convolve(x, h):
    """Causal linear convolution of x with h, truncated to len(x)."""
    n = len(x) + len(h) - 1
    size = 1 << (n - 1).bit_length()
    return np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[:len(x)]


def close_profile(a, dt=DT):
    """a (g, fine grid) with the least smooth correction that returns velocity and
    displacement exactly to zero at its end (two broad windows, so the shape is kept)."""
    m = len(a)
    s = (np.arange(m) + 0.5) / m
    w1 = np.sin(math.pi * s) ** 2
    w2 = np.sin(2 * math.pi * s) * np.sin(math.pi * s) ** 2
    weight = m - np.arange(m)          # displacement at the end = dt^2 * sum(weight * a)
    basis = np.array([[w1.sum(), w2.sum()], [weight @ w1, weight @ w2]])
    c = np.linalg.solve(basis, np.array([a.sum(), weight @ a]))
    return a - c[0] * w1 - c[1] * w2


def integrate(a_g, dt=DT):
    """Velocity (m/s) and displacement (m) of an acceleration profile in g."""
    v = np.cumsum(a_g) * (G0 * dt)
    return v, np.cumsum(v) * dt


def limb_motion(profile_g, direction, lever_m, up):
    """A sensor on a segment moved by a profile along `direction` (sensor frame).

    profile_g: (m,) closed acceleration profile in g; lever_m: distance from the joint the
    segment turns about (the joint lies towards -x); up: gravity's direction at the time.
    Returns (kinematic acceleration (m, 3) g, added specific force (m, 3) g: kinematic plus
    the tilt of gravity, rotation rate (m, 3) deg/s)."""
    x_axis = np.array([1.0, 0.0, 0.0])
    d = unit(direction)
    along = d @ x_axis
    across = d - along * x_axis
    share = np.linalg.norm(across)
    v, x = integrate(profile_g)
    kin = np.outer(profile_g * along, x_axis)
    gyro = np.zeros((len(profile_g), 3))
    tilt = np.zeros((len(profile_g), 3))
    if share > 1e-9:
        e_t = across / share
        n = np.cross(x_axis, e_t)            # n x (r x) = r e_t
        omega = share * v / lever_m          # rad/s
        theta = share * x / lever_m          # rad
        kin = kin + np.outer(profile_g * share, e_t) \
            - np.outer(omega ** 2 * lever_m / G0, x_axis)
        gyro = np.outer(omega * DEG, n)
        tilt = rodrigues(np.broadcast_to(up, (len(theta), 3)), n, -theta) - up
    return kin, kin + tilt, gyro


class SensorModel:
    """How an IMU turns motion into samples: its filter (on the fine grid), noise density,
    offsets, scale errors and ranges. `kernel` is the filter's impulse response on the fine
    grid (sums to 1; causal, so it delays as a real chip's digital filter does)."""

    def __init__(self, name, rate_hz, kernel, acc_noise_ug, gyro_noise_mdps, has_gyro,
                 acc_range_g, gyro_range_dps, bandwidth_hz, rng, offset_mg, bias_dps,
                 scale_pct, bias_walk_dps=0.0):
        self.name = name
        self.rate_hz = rate_hz
        self.kernel = kernel / kernel.sum()
        self.bandwidth_hz = bandwidth_hz
        self.acc_noise_g = acc_noise_ug * 1e-6 * math.sqrt(bandwidth_hz)
        self.gyro_noise_dps = gyro_noise_mdps * 1e-3 * math.sqrt(bandwidth_hz)
        self.has_gyro = has_gyro
        self.acc_range_g = acc_range_g
        self.gyro_range_dps = gyro_range_dps
        self.offset_g = rng.uniform(-1, 1, 3) * offset_mg / 1000.0
        self.bias_dps = rng.uniform(-1, 1, 3) * bias_dps
        self.scale = 1.0 + rng.uniform(-1, 1, 3) * scale_pct / 100.0
        self.bias_walk_dps = bias_walk_dps

    def gain(self, f_hz):
        """|H(f)| of the filter, for sinusoidal background parts above a few Hz."""
        k = np.arange(len(self.kernel)) * DT
        return float(abs(np.sum(self.kernel * np.exp(-2j * math.pi * f_hz * k))))

    def filter(self, x):
        """x (m, k) on the fine grid -> filtered (m + len(kernel), k), zero-padded."""
        pad = np.vstack([x, np.zeros((len(self.kernel), x.shape[1]))])
        return np.column_stack([fft_convolve(pad[:, i], self.kernel) for i in range(x.shape[1])])

    def finish(self, acc_g, gyro_dps, rng):
        """Noise, offsets, scale, ranges; gyro None on a sensor without one."""
        n = len(acc_g)
        acc = acc_g * self.scale + self.offset_g + rng.normal(0, self.acc_noise_g, (n, 3))
        acc = np.clip(acc, -self.acc_range_g, self.acc_range_g)
        if not self.has_gyro:
            return acc, None
        bias = self.bias_dps
        if self.bias_walk_dps:
            steps = rng.normal(0, self.bias_walk_dps / math.sqrt(self.rate_hz), (n, 3))
            bias = bias + np.cumsum(steps, axis=0)
        gyro = gyro_dps + bias + rng.normal(0, self.gyro_noise_dps, (n, 3))
        return acc, np.clip(gyro, -self.gyro_range_dps, self.gyro_range_dps)


def add_transient(t, acc, gyro, t0, fine_acc, fine_gyro, sensor):
    """Add a transient that starts at t0 (s) on the fine grid, filtered by the sensor and
    sampled at the instants t (any spacing). Only samples within its support change.
    Returns (first, last + 1) sample indexes touched."""
    filt = sensor.filter(np.hstack([fine_acc, fine_gyro]))
    t_end = t0 + len(filt) * DT
    lo, hi = np.searchsorted(t, [t0, t_end])
    if hi <= lo:
        return lo, lo
    pos = (t[lo:hi] - t0) * FINE_HZ
    grid = np.arange(len(filt))
    for i in range(3):
        acc[lo:hi, i] += np.interp(pos, grid, filt[:, i])
        if gyro is not None:
            gyro[lo:hi, i] += np.interp(pos, grid, filt[:, 3 + i])
    return lo, hi


def add_templates(out, rate_hz, template, times, vectors):
    """Add copies of a short filtered template (fine grid, starting at its event time) at
    `times` (s) scaled by `vectors` (k, 3) to `out` (n, 3), sampled at i / rate_hz."""
    if len(times) == 0:
        return
    n = len(out)
    length = int(math.ceil(len(template) * DT * rate_hz)) + 1
    first = np.ceil(np.asarray(times) * rate_hz).astype(np.int64)
    idx = first[:, None] + np.arange(length)[None, :]
    pos = (idx / rate_hz - np.asarray(times)[:, None]) * FINE_HZ
    val = np.interp(pos.ravel(), np.arange(len(template)), template, left=0.0,
                    right=0.0).reshape(idx.shape)
    ok = (idx >= 0) & (idx < n)
    for i in range(3):
        np.add.at(out[:, i], idx[ok], (val * np.asarray(vectors)[:, i:i + 1])[ok])
