"""Streaming myoclonic-jerk detector: samples in, events out.

One implementation for every place that detects: the board runs it on IMU samples, the host
runs it in `jerklog analyze` and the simulator runs it under the real MicroPython interpreter.
It is written in the subset of Python that MicroPython and CPython share, uses only integer
arithmetic (mg, tenths of deg/s, ms) so both give identical results, and does no I/O and no
allocation per sample.

How it works (per sample):
  * gravity and posture are tracked per axis by a slow exponential average (the baseline); the
    dynamic acceleration d = a - baseline is what a jerk adds. The gyroscope gets the same
    treatment to remove its bias.
  * the background activity is the running mean of |d|^2 over a few seconds; the trigger level
    is max(min_peak_mg, background_factor * RMS background), so a jerk must stand out from
    what the wearer is already doing.
  * while an event is open the baseline and background are frozen, so the jerk cannot raise
    its own threshold or be absorbed into gravity. The event closes when |d| has stayed below
    half the trigger level for hold_ms. It is reported if it lasted min..max duration; a longer
    one is voluntary movement (a posture change, a step, lifting a cup) and is dropped.
Magnitudes are compared squared (no square roots per sample); every product stays below 2**30
so nothing allocates on boards with 31-bit small ints.
"""
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

try:
    from . import protocol as pc  # on the host, firmware/ is the package jerklog_firmware
except (ImportError, KeyError):
    import protocol as pc         # on the board the modules are flat

# Settings a clinician may change, with safe defaults. Each: (default, low, high, meaning).
SETTINGS = {
    "min_peak_mg": (100, 30, 2000,
                    "smallest dynamic acceleration counted as a jerk, mg"),
    "background_factor_x10": (40, 15, 80,
                              "trigger level as a multiple of background RMS activity, x10"),
    "min_duration_ms": (10, 0, 200, "shortest event reported, ms"),
    "max_duration_ms": (350, 50, 1000,
                        "longest event reported, ms; longer is voluntary movement"),
    "hold_ms": (40, 10, 200, "quiet time that closes an event, ms"),
    "refractory_ms": (60, 0, 1000, "dead time after an event closes, ms"),
    "baseline_ms": (500, 100, 5000, "gravity/posture tracking time constant, ms"),
    "activity_ms": (2000, 250, 20000, "background activity window, ms"),
    "rest_mg": (40, 5, 500, "background RMS below which the wearer is at rest, mg"),
    "sleep_ms": (600000, 60000, 3600000,
                 "time mostly at rest after which the wearer counts as asleep, ms"),
    "up_axis": (2, -3, 3,
                "sensor axis pointing to the head when upright (+-1 x, +-2 y, +-3 z; 0: unknown)"),
}

ACC_CLAMP = const(16000)     # mg; keeps 3 * d^2 < 2**30
GYRO_CLAMP = const(18000)    # 0.1 deg/s
ACT2_MAX = const(16000000)   # (mg)^2; keeps (act2 // 100) * factor^2 < 2**30

IDLE = const(0)
OPEN = const(1)
MOVING = const(2)


def validate(settings):
    """Return a full settings dict from defaults plus `settings`; raise ValueError if invalid."""
    out = {}
    for name in SETTINGS:
        out[name] = SETTINGS[name][0]
    if settings:
        for name in settings:
            if name not in SETTINGS:
                raise ValueError("unknown detector setting '%s' (known: %s)"
                                 % (name, ", ".join(sorted(SETTINGS))))
            value = settings[name]
            low, high = SETTINGS[name][1], SETTINGS[name][2]
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError("detector setting %s must be a whole number, got %r"
                                 % (name, value))
            if value < low or value > high:
                raise ValueError("detector setting %s=%d is outside %d..%d (%s)"
                                 % (name, value, low, high, SETTINGS[name][3]))
            out[name] = value
    if out["min_duration_ms"] >= out["max_duration_ms"]:
        raise ValueError("detector setting min_duration_ms must be below max_duration_ms")
    return out


def _shift_for(ms, rate_hz):
    """Largest k with 2**k samples <= ms at rate_hz: the EMA shift for a time constant."""
    n = ms * rate_hz // 1000
    k = 0
    while (2 << k) <= n:
        k += 1
    return k


def isqrt(n):
    """Integer square root (floor), for the few values computed per event."""
    if n <= 0:
        return 0
    x = n
    y = (x + 1) >> 1
    while y < x:
        x = y
        y = (x + n // x) >> 1
    return x


class Detector:
    """Feed update() one sample at a time; when it returns True the ev_* attributes hold
    the finished event (times in ms on the caller's clock, mg, 0.1 deg/s)."""

    def __init__(self, rate_hz, settings=None):
        if rate_hz < 25 or rate_hz > 4000:
            raise ValueError("sample rate %d Hz is outside 25..4000 Hz" % rate_hz)
        s = validate(settings)
        self.settings = s
        self.rate_hz = rate_hz
        self._period_ms = max(1, 1000 // rate_hz)
        self._kb = _shift_for(s["baseline_ms"], rate_hz)
        self._kg = _shift_for(4 * s["baseline_ms"], rate_hz)
        self._ka = _shift_for(s["activity_ms"], rate_hz)
        self._ks = _shift_for(s["sleep_ms"] // 2, rate_hz)
        self._min_peak2 = s["min_peak_mg"] * s["min_peak_mg"]
        self._factor2 = s["background_factor_x10"] * s["background_factor_x10"]
        self._rest2 = s["rest_mg"] * s["rest_mg"]
        self._min_dur = s["min_duration_ms"]
        self._max_dur = s["max_duration_ms"]
        self._hold = s["hold_ms"]
        self._refractory = s["refractory_ms"]
        self._up_axis = s["up_axis"]
        self._settle_ms = s["baseline_ms"] * 3  # no events until the baseline has settled
        self.reset()

    def reset(self):
        """Forget all state, as after power-up."""
        self._started = False
        self._bx = self._by = self._bz = 0   # acceleration baseline, mg << kb
        self._hx = self._hy = self._hz = 0   # gyro bias, 0.1 deg/s << kg
        self._act2 = 0                       # background mean |d|^2, mg^2
        self._rest_frac = 0                  # EMA of "at rest", 0..1024
        self._state = IDLE
        self._t0 = 0
        self._quiet_until = 0
        self._thr2 = 0
        self._low2 = 0
        self._t_first = self._t_last = self._t_peak = 0
        self._peak2 = self._peak_r2 = 0
        self._peak_dx = self._peak_dy = self._peak_dz = 0
        self._act2_before = 0
        self._rest_before = 0
        self.samples = 0
        self.events = 0
        self.ev_t_ms = 0
        self.ev_duration_ms = 0
        self.ev_peak_mg = 0
        self.ev_peak_ddps = 0
        self.ev_kind = pc.KIND_JERK
        self.ev_axis = 0
        self.ev_context = pc.CONTEXT_UNKNOWN
        self.ev_posture = pc.POSTURE_UNKNOWN
        self.ev_confidence = 0
        self.ev_activity_mg = 0

    def update(self, t_ms, ax, ay, az, gx, gy, gz):
        """One sample: time (ms, increasing), acceleration (mg), rotation (0.1 deg/s)."""
        self.samples += 1
        kb = self._kb
        kg = self._kg
        if not self._started:
            self._started = True
            self._t0 = t_ms
            self._bx = ax << kb
            self._by = ay << kb
            self._bz = az << kb
            self._hx = gx << kg
            self._hy = gy << kg
            self._hz = gz << kg
            self._quiet_until = t_ms + self._settle_ms

        dx = ax - (self._bx >> kb)
        dy = ay - (self._by >> kb)
        dz = az - (self._bz >> kb)
        if dx > ACC_CLAMP:
            dx = ACC_CLAMP
        elif dx < -ACC_CLAMP:
            dx = -ACC_CLAMP
        if dy > ACC_CLAMP:
            dy = ACC_CLAMP
        elif dy < -ACC_CLAMP:
            dy = -ACC_CLAMP
        if dz > ACC_CLAMP:
            dz = ACC_CLAMP
        elif dz < -ACC_CLAMP:
            dz = -ACC_CLAMP
        m2 = dx * dx + dy * dy + dz * dz

        state = self._state
        if state == OPEN:
            rx = gx - (self._hx >> kg)
            ry = gy - (self._hy >> kg)
            rz = gz - (self._hz >> kg)
            if rx > GYRO_CLAMP or rx < -GYRO_CLAMP:
                rx = GYRO_CLAMP
            if ry > GYRO_CLAMP or ry < -GYRO_CLAMP:
                ry = GYRO_CLAMP
            if rz > GYRO_CLAMP or rz < -GYRO_CLAMP:
                rz = GYRO_CLAMP
            r2 = rx * rx + ry * ry + rz * rz
            if r2 > self._peak_r2:
                self._peak_r2 = r2
            if m2 > self._peak2:
                self._peak2 = m2
                self._t_peak = t_ms
                self._peak_dx = dx
                self._peak_dy = dy
                self._peak_dz = dz
            if m2 >= self._low2:
                self._t_last = t_ms
            elif t_ms - self._t_last >= self._hold:
                return self._close(t_ms)
            if t_ms - self._t_first > self._max_dur:
                # Too long for a jerk: voluntary movement. Track it, report nothing.
                self._state = MOVING
            return False

        # IDLE or MOVING: follow gravity, gyro bias and background activity.
        self._bx += ax - (self._bx >> kb)
        self._by += ay - (self._by >> kb)
        self._bz += az - (self._bz >> kb)
        self._hx += gx - (self._hx >> kg)
        self._hy += gy - (self._hy >> kg)
        self._hz += gz - (self._hz >> kg)
        act2 = self._act2 + ((m2 - self._act2) >> self._ka)
        if act2 > ACT2_MAX:
            act2 = ACT2_MAX
        self._act2 = act2
        if act2 < self._rest2:
            self._rest_frac += (1024 - self._rest_frac) >> self._ks
        else:
            self._rest_frac -= (self._rest_frac >> self._ks) + 1
            if self._rest_frac < 0:
                self._rest_frac = 0

        thr2 = (act2 // 100) * self._factor2
        if thr2 < self._min_peak2:
            thr2 = self._min_peak2
        if state == MOVING:
            if m2 < (thr2 >> 2):
                if t_ms - self._t_last >= self._hold:
                    self._state = IDLE
                    self._quiet_until = t_ms + self._refractory
            else:
                self._t_last = t_ms
            return False

        if m2 >= thr2 and t_ms >= self._quiet_until:
            self._state = OPEN
            self._thr2 = thr2
            self._low2 = thr2 >> 2  # half the trigger amplitude
            self._t_first = self._t_last = self._t_peak = t_ms
            self._peak2 = m2
            self._peak_r2 = 0
            self._peak_dx = dx
            self._peak_dy = dy
            self._peak_dz = dz
            self._act2_before = act2
            self._rest_before = self._rest_frac
        return False

    def _close(self, t_ms):
        self._state = IDLE
        self._quiet_until = t_ms + self._refractory
        duration = self._t_last - self._t_first + self._period_ms
        if duration < self._min_dur:
            return False
        self.events += 1
        self.ev_t_ms = self._t_peak
        self.ev_duration_ms = duration
        peak = isqrt(self._peak2)
        self.ev_peak_mg = peak
        self.ev_peak_ddps = isqrt(self._peak_r2)
        self.ev_kind = pc.KIND_JERK
        self.ev_axis = self._dominant_axis()
        activity = isqrt(self._act2_before)
        self.ev_activity_mg = activity
        self.ev_posture = self._posture()
        if self._act2_before >= self._rest2:
            self.ev_context = pc.CONTEXT_ACTIVE
        elif self._rest_before >= 900 and self._t_peak - self._t0 >= self.settings["sleep_ms"]:
            self.ev_context = pc.CONTEXT_ASLEEP
        else:
            self.ev_context = pc.CONTEXT_REST
        # Confidence: how far the peak stands above the trigger level, 0 at the level and
        # approaching 1 at four times it; halved for events during activity.
        thr = isqrt(self._thr2)
        conf = 255 - (255 * thr * thr) // (peak * peak)  # 1 - (thr/peak)^2
        if conf < 0:
            conf = 0
        if self.ev_context == pc.CONTEXT_ACTIVE:
            conf = conf // 2
        self.ev_confidence = conf
        return True

    def _dominant_axis(self):
        x, y, z = self._peak_dx, self._peak_dy, self._peak_dz
        ax_, ay_, az_ = abs(x), abs(y), abs(z)
        if ax_ >= ay_ and ax_ >= az_:
            return 1 if x >= 0 else -1
        if ay_ >= az_:
            return 2 if y >= 0 else -2
        return 3 if z >= 0 else -3

    def _posture(self):
        up = self._up_axis
        if up == 0:
            return pc.POSTURE_UNKNOWN
        kb = self._kb
        if up == 1 or up == -1:
            g = self._bx >> kb
        elif up == 2 or up == -2:
            g = self._by >> kb
        else:
            g = self._bz >> kb
        if up < 0:
            g = -g
        # Upright when the head-ward axis carries most of gravity (within ~50 degrees).
        return pc.POSTURE_UPRIGHT if g >= 640 else pc.POSTURE_LYING
