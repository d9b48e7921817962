"""Streaming myoclonic-jerk detector: samples in, events out.

One implementation for every place that detects: the board runs it on IMU samples, the host
runs it in `jerklog analyze` and the simulator runs it under the real MicroPython interpreter.
It is written in the subset of Python that MicroPython and CPython share, uses only integer
arithmetic (mg, tenths of deg/s, ms) so both give identical results, and allocates nothing
per sample.

How it decides (see docs/detector.md for the reasoning and the benchmark):
  * Gravity and posture are tracked per axis by a slow exponential average (the baseline);
    the dynamic acceleration d = a - baseline is what a jerk adds. The gyroscope's bias is
    tracked the same way.
  * Context history: every 100 ms bin keeps the largest |d|^2 seen in it; a ring holds the
    last few seconds of bins. Accepted jerks are kept out of the history, so a series of
    jerks does not raise its own bar; rejected candidates (steps, taps, bumps) go in.
  * A candidate opens when |d| rises above max(min_peak, trigger_factor * typical bin peak)
    and closes when |d| has stayed below half that level for hold_ms. While it is open the
    baseline is frozen, so the jerk is neither absorbed into gravity nor its own background.
    Longer than max_duration_ms is voluntary movement and is dropped.
  * At close the candidate is judged against the history before it: if the median bin was
    quiet (rest, sleep), it must stand rest_factor above that median; if the wearer was
    moving, it must stand active_factor above the largest recent bin, i.e. above the
    steps, taps and bumps the wearer was already making. Sudden and out of proportion to
    what the wearer is doing: that is a jerk.
  * A jerk is also isolated: an accepted one waits for a look-ahead (confirm_ms) and is
    dropped if the movement goes on after it (scratching, strides, a burst of taps). Events
    therefore come out ~0.8 s after their peak; flush() hands out the waiting ones at the
    end of a recording.
  * Tremor (a sustained 4-12 Hz oscillation) is recognised from bins that are uniformly
    busy with a hump rate in the tremor band, and reported as tremor episodes, not jerks.
Magnitudes are compared squared (no square roots per sample); every product stays below 2**30
so nothing allocates on boards with 31-bit small ints.
"""
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

from array import array

from . import fastpath
from . import protocol as pc

# Settings a clinician may change, with safe defaults: (default, low, high, meaning).
SETTINGS = {
    "min_peak_mg": (100, 30, 2000,
                    "smallest dynamic acceleration counted as a jerk, mg"),
    "trigger_factor_x10": (20, 10, 80,
                           "a candidate opens above this multiple of the typical recent "
                           "100 ms peak, x10"),
    "rest_factor_x10": (30, 15, 100,
                        "at rest, a jerk must exceed the median recent peak by this "
                        "factor, x10"),
    "active_factor_x10": (30, 10, 80,
                          "while moving, a jerk must exceed the rank-th largest recent peak "
                          "by this factor, x10"),
    "rest_rank_factor_x10": (30, 10, 80,
                             "at rest, a jerk must exceed the rest_rank-th largest recent peak "
                             "by this factor (earlier jerks of a series excepted), x10"),
    "rest_rank": (2, 1, 10, "which recent peak a jerk is compared with at rest"),
    "active_rank": (1, 1, 10, "which recent peak a jerk is compared with while moving"),
    "min_duration_ms": (20, 0, 200, "shortest event reported, ms"),
    "active_min_duration_ms": (20, 0, 200,
                               "shortest event reported while moving (taps are shorter), ms"),
    "max_duration_ms": (350, 50, 1000,
                        "longest event reported, ms; longer is voluntary movement"),
    "hold_ms": (40, 10, 200, "quiet time that closes an event, ms"),
    "refractory_ms": (60, 0, 1000, "dead time after an event closes, ms"),
    "confirm_ms": (750, 0, 2000,
                   "look-ahead after an event: if the movement goes on, it was not a jerk "
                   "(0: off), ms"),
    "continue_pct": (30, 1, 100,
                     "an event is dropped when, during confirm_ms, |d| stays above a quarter of "
                     "its peak for more than this share of the time, %"),
    "baseline_ms": (500, 100, 5000, "gravity/posture tracking time constant, ms"),
    "history_ms": (3000, 1000, 10000, "context window before a candidate, ms"),
    "rest_mg": (40, 5, 500, "median recent 100 ms peak below which the wearer is at rest, mg"),
    "sleep_ms": (600000, 60000, 3600000,
                 "time mostly at rest after which the wearer counts as asleep, ms"),
    "tremor_min_mg": (40, 10, 1000, "smallest oscillation reported as tremor, mg"),
    "tremor_min_ms": (3000, 1000, 60000, "shortest tremor episode reported, ms"),
    "jolt_background_mg": (20, 0, 1000,
                           "on a background whose median recent 100 ms peak is at least this "
                           "(a vehicle's vibration), an event along gravity that turns the limb "
                           "little is a jolt from outside (a road bump), not a jerk (0: off), mg"),
    "up_axis": (1, -3, 3,
                "sensor axis pointing to the head when upright (+-1 x, +-2 y, +-3 z; 0: "
                "unknown); by default from the body region (for_region)"),
}

BIN_MS = const(100)           # context history resolution
ACC_CLAMP = const(16000)      # mg; keeps 3 * d^2 < 2**30
GYRO_CLAMP = const(18000)     # 0.1 deg/s
LEVEL2_MAX = const(10000000)  # mg^2; keeps (level2 // 100) * factor^2 < 2**30
OUT_OF_REACH = const(0x3FFFFFFF)  # mg^2, above any peak (3 * ACC_CLAMP^2)
TREMOR_PIECE_MS = const(60000)  # a long tremor episode is reported in pieces of this length
REST_ONE = const(1 << 20)     # fixed-point 1.0 for the slow rest fraction (a shift of 11
REST_ASLEEP = const(996147)   # would round a 0..1024 scale to no change); 95 % of it

JOLT_VERTICAL_X100 = const(85)  # a jolt: d . up >= 0.85 |d| (within ~32 deg of gravity)
JOLT_ROT_PER_G = const(15)  # and the rotation under 15 deg/s per g of its peak
REBOUND_MS = const(300)       # a jerk under a third of one this shortly before is its rebound
MOVED = const(0x10000)        # P_MOVED of a jerk followed by a judged non-jerk candidate
CONFIRM_SKIP_MS = const(60)   # the look-ahead starts this long after a jerk's candidate
#                               closes (which is hold_ms after the jerk ends)
# Fields of a jerk waiting for its look-ahead (two slots: a jerk of a series may be accepted
# while the one before it still waits).
P_T = const(0)          # peak time, ms
P_DUR = const(1)        # ms
P_PEAK = const(2)       # mg
P_DDPS = const(3)       # 0.1 deg/s
P_KIND = const(4)
P_AXIS = const(5)
P_CTX = const(6)
P_POSTURE = const(7)
P_CONF = const(8)       # 0..255
P_ACT = const(9)        # background, mg
P_LEVEL2 = const(10)    # a quarter of the peak, squared, mg^2
P_FROM = const(11)      # look-ahead start and end, ms
P_UNTIL = const(12)
P_N = const(13)         # samples looked at, and those above P_LEVEL2
P_K = const(14)
P_MOVED = const(15)     # samples of movement above P_LEVEL2 seen; -1: a jerk followed
P_REF = const(16)       # the acceptance level, mg (evidence)
P_PEAKN = const(17)     # the peak's sample number (samples counted at the peak; evidence)
P_FIELDS = const(18)
TREMOR_SLOT = const(36)  # (2 * P_FIELDS) a finished tremor piece waiting to go out
# The arrays below live in _p too: every attribute more slows every attribute lookup.
# Verdicts of judged candidates, kept or dropped, waiting for the caller to send their
# evidence (app.BoardLoop reads them once per batch): a queue of CQ_SLOTS, oldest first.
CQ_N = const(54)        # (TREMOR_SLOT + P_FIELDS) verdicts waiting
CQ_LOST = const(55)     # verdicts that found the queue full (their evidence is lost)
CQ_HEAD = const(56)
C_T = const(0)          # fields of one verdict, in protocol.EVIDENCE_FMT order
C_DUR = const(1)
C_PEAK = const(2)
C_DDPS = const(3)
C_KIND = const(4)
C_AXIS = const(5)
C_CTX = const(6)
C_POSTURE = const(7)
C_CONF = const(8)
C_ACT = const(9)
C_VERDICT = const(10)
C_LEVEL = const(11)
C_PEAKN = const(12)     # the peak's sample number: where its waveform is in a sample ring
C_FIELDS = const(13)
CQ_SLOTS = const(8)     # CQ_HEAD + CQ_SLOTS * C_FIELDS = 160
# Activity epochs (protocol EPOCH): sums over EPOCH_BINS bins of 100 ms, in _p.
EPOCH_BINS = const(50)  # 5 s (nothing per sample: the epoch is made of the 100 ms bins)
PEAK2_CAP = const(20000000)  # mg^2 (4.47 g): 50 bins of it stay below 2**30
E_BINS = const(160)
E_GX = const(161)       # sums of the gravity baseline (mg) at each bin's end
E_GY = const(162)
E_GZ = const(163)
E_SUM = const(164)      # sum of the bins' peak |d|^2 (each at most PEAK2_CAP), mg^2
E_MAX2 = const(165)     # largest |d|^2, mg^2
E_T0 = const(166)       # the epoch's first sample time, ms
E_S0 = const(167)       # samples counted before the epoch
E_READY = const(168)    # a finished epoch is in E_OUT..: the caller sends it and clears this
E_OUT = const(169)      # t_ms, samples, gx, gy, gz, peak_rms_mg, max_mg (protocol.EPOCH_FIELDS)
PEAK_N = const(176)     # the open candidate's peak sample number (samples counted at it)
P_ARRAY = const(177)
MOVING_RANK = const(3)        # three big recent bins and more: the wearer is moving

# The detector's per-sample state in one array (Detector._k) that fastpath.skim works on in
# place: baselines (mg << kb, 0.1 deg/s << kg), the bin's maximum (mg^2), humps, the state
# machine and its times (ms), the thresholds (mg^2); the shifts, hold and refractory times
# (set once, mirrored from the attributes bytecode reads); skim's stop time (set per call).
K_BX = const(0)
K_BY = const(1)
K_BZ = const(2)
K_HX = const(3)
K_HY = const(4)
K_HZ = const(5)
K_BIN_MAX = const(6)
K_ABOVE = const(7)
K_RISES = const(8)
K_STATE = const(9)
K_T_LAST = const(10)
K_QUIET = const(11)
K_KB = const(12)
K_KG = const(13)
K_HUMP2 = const(14)
K_TRIG2 = const(15)
K_LOW2 = const(16)
K_HOLD = const(17)
K_REFRACTORY = const(18)
K_STOP = const(19)      # ms: skim stops before a sample at or after it
K_CLAMP = const(20)
K_SIGN = const(21)      # fastpath.SIGN_SHIFT
K_ARRAY = const(22)

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


def for_region(settings, region):
    """settings with up_axis following the body region unless it was set: for a board worn as
    hardware/wearing.md says, +x points to the head on the trunk (up_axis 1) and away from the
    trunk on a limb, so down a hanging arm or a standing leg (-1). A region not known is
    taken as the trunk."""
    if settings and "up_axis" in settings:
        return settings
    out = dict(settings) if settings else {}
    limb = region
    for side in ("left_", "right_"):
        if limb.startswith(side):
            limb = limb[len(side):]
    out["up_axis"] = -1 if limb in ("wrist", "upper_arm", "thigh", "ankle") else 1
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


def _scaled(level2, factor_x10):
    """level2 * (factor_x10 / 10)^2 without leaving small ints; beyond what can be computed
    (a background above ~3.2 g) nothing can stand out, so the level is out of reach."""
    if level2 > LEVEL2_MAX:
        return OUT_OF_REACH
    return (level2 // 100) * (factor_x10 * factor_x10)


class Detector:
    """Feed update() one sample at a time; when it returns True the ev_* attributes hold
    the finished event (times in ms on the caller's clock, mg, 0.1 deg/s)."""

    # Where the caller finds a queued verdict's peak sample number and a finished epoch.
    Q_N = CQ_N
    Q_HEAD = CQ_HEAD
    Q_PEAKN = C_PEAKN
    Q_FIELDS = C_FIELDS
    EP_READY = E_READY
    EP_OUT = E_OUT

    def __init__(self, rate_hz, settings=None):
        if rate_hz < 25 or rate_hz > 4000:
            raise ValueError("sample rate %d Hz is outside 25..4000 Hz" % rate_hz)
        s = validate(settings)
        self.settings = s
        self._k = k = array("i", [0] * K_ARRAY)  # per-sample state: K_* above
        self.rate_hz = rate_hz
        self._period_ms = max(1, 1000 // rate_hz)
        self._kb = _shift_for(s["baseline_ms"], rate_hz)
        self._kg = _shift_for(4 * s["baseline_ms"], rate_hz)
        self._min_peak2 = s["min_peak_mg"] * s["min_peak_mg"]
        self._rest2 = s["rest_mg"] * s["rest_mg"]
        self._tremor2 = s["tremor_min_mg"] * s["tremor_min_mg"]
        self._trigger = s["trigger_factor_x10"]
        self._min_dur = s["min_duration_ms"]
        self._max_dur = s["max_duration_ms"]
        self._hold = s["hold_ms"]
        self._refractory = s["refractory_ms"]
        k[K_KB] = self._kb
        k[K_KG] = self._kg
        k[K_HOLD] = self._hold
        k[K_REFRACTORY] = self._refractory
        k[K_CLAMP] = ACC_CLAMP
        k[K_SIGN] = fastpath.SIGN_SHIFT
        self._confirm = s["confirm_ms"]
        self._continue = s["continue_pct"]
        # Too short a look-ahead (the next jerk came first) is no evidence of movement.
        self._confirm_min_n = s["confirm_ms"] * rate_hz // 4000
        # Movement outside candidates counts from 10 ms on: the rising flank of the next
        # jerk of a series passes a quarter of this one's peak before it opens a candidate.
        self._moved_min_n = max(1, 10 * rate_hz // 1000)
        self._up_axis = s["up_axis"]
        self._settle_ms = s["baseline_ms"] * 3  # no events until the baseline has settled
        self._nbins = s["history_ms"] // BIN_MS
        self._ring = array("i", [0] * self._nbins)
        self._scratch = array("i", [0] * self._nbins)
        self._p = array("i", [0] * P_ARRAY)
        # Per-bin averages: sleep over ~sleep_ms/2, the rest over ~1.6 s.
        self._ks = _shift_for(s["sleep_ms"] // 2, 1000 // BIN_MS)
        self.reset()

    def reset(self):
        """Forget all state, as after power-up."""
        k = self._k
        self._started = False
        k[K_BX] = k[K_BY] = k[K_BZ] = 0   # acceleration baseline, mg << kb
        k[K_HX] = k[K_HY] = k[K_HZ] = 0   # gyro bias, 0.1 deg/s << kg
        k[K_STATE] = IDLE
        self._t0 = 0
        k[K_QUIET] = 0
        k[K_TRIG2] = self._min_peak2
        k[K_LOW2] = self._min_peak2 >> 2
        # context history
        self._bin_end = 0
        k[K_BIN_MAX] = 0
        k[K_RISES] = 0
        k[K_ABOVE] = 0
        k[K_HUMP2] = 1
        self._bins = 0
        self._ring_pos = 0
        self._typical2 = 0      # EMA of bin maxima, mg^2
        self._rise_rate = 0     # EMA of humps per bin, x16
        self._rest_frac = 0     # EMA of "bin quiet", 0..REST_ONE
        self._tremor_frac = 0   # EMA of "bin looks like tremor", 0..1024
        self._tremor_on = False
        self._tremor_start = 0
        self._tremor_level2 = 0
        # the open candidate
        self._t_first = k[K_T_LAST] = self._t_peak = 0
        self._peak2 = self._peak_r2 = 0
        self._peak_dx = self._peak_dy = self._peak_dz = 0
        self._first_up = 0      # first excursion along "up", mg * mg
        self._first_norm = 0
        self._open_bins = 0
        self._median2 = self._top2 = 0
        self._typical_open = 0
        self._jerk_bin = 0  # the bin in progress when the last jerk was accepted
        self._series_t = -100000  # last jerk accepted at rest, and the largest such peak
        self._series_peak2 = 0
        self._rest_top2 = self._act_top2 = 0
        self._last_t = -100000  # the last jerk accepted: peak time (ms) and peak (mg)
        self._last_peak = 0
        # the accepted jerk waiting for its look-ahead (see _decide), and the ready slots
        self._npend = 0         # jerks waiting (0..2); the oldest is in slot _p_old
        self._p_old = 0
        i = 0
        while i < P_ARRAY:  # free every slot
            self._p[i] = 0
            i += 1
        self._ev_ready = False
        self._tr_ready = False
        self._out = False       # either of them is ready (one test per sample)
        self.samples = 0
        self.events = 0
        self.candidates = 0
        self.dropped = 0        # accepted, then dropped because the movement went on
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

    # -- per sample -----------------------------------------------------------------------
    def skim(self, times, s, i, end, stop_ms):
        """update() for samples i.. of times and s (six values a sample) while they change
        only the baselines, the bin maximum, the humps and the end of a movement, as machine
        code (fastpath.skim, where the port compiles it); returns the index of the first
        sample it did not take (i: none), which the caller gives to update(). It stops before
        a sample at or after stop_ms (ms: the caller's next heartbeat) or the bin's end, and
        before one that opens a candidate; it takes none while a candidate is open, a jerk
        waits for its look-ahead or an event is ready. The same state as update() would
        leave, sample for sample (tests/firmware/test_fastpath.py). The state it works on
        lives in the array _k (K_*) for that: a call copies nothing."""
        k = self._k
        if (fastpath.skim is None or k[K_STATE] == OPEN or self._npend or self._out
                or not self._started):
            return i
        k[K_STOP] = stop_ms if stop_ms < self._bin_end else self._bin_end
        j = fastpath.skim(times, s, i, end, k)
        self.samples += j - i
        return j

    def update(self, t_ms, ax, ay, az, gx, gy, gz):
        """One sample: time (ms, increasing), acceleration (mg), rotation (0.1 deg/s).

        Returns True when an event (jerk, negative or tremor episode) is ready in ev_*.
        """
        k = self._k
        self.samples += 1
        kb = self._kb
        kg = self._kg
        if not self._started:
            self._start(t_ms, ax, ay, az, gx, gy, gz)

        dx = ax - (k[K_BX] >> kb)
        dy = ay - (k[K_BY] >> kb)
        dz = az - (k[K_BZ] >> kb)
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

        if self._npend:  # look-ahead of accepted jerks: does the movement go on?
            self._look(t_ms, m2)
        if t_ms >= self._bin_end:
            self._close_bin(t_ms)
        if m2 > k[K_BIN_MAX]:
            k[K_BIN_MAX] = m2
        # Humps: rises of |d| through half the typical bin peak (for the tremor band).
        if m2 >= k[K_HUMP2]:
            if not k[K_ABOVE]:
                k[K_ABOVE] = 1
                k[K_RISES] += 1
        elif k[K_ABOVE]:
            k[K_ABOVE] = 0

        state = k[K_STATE]
        if state == OPEN:
            rx = gx - (k[K_HX] >> kg)
            ry = gy - (k[K_HY] >> kg)
            rz = gz - (k[K_HZ] >> kg)
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
                self._p[PEAK_N] = self.samples
                self._peak_dx = dx
                self._peak_dy = dy
                self._peak_dz = dz
            if m2 >= k[K_LOW2]:
                k[K_T_LAST] = t_ms
            elif t_ms - k[K_T_LAST] >= self._hold:
                self._close(t_ms)
                return self._out and self._emit()
            if t_ms - self._t_first > self._max_dur:
                k[K_STATE] = MOVING  # too long for a jerk: voluntary movement
                self._verdict(pc.VERDICT_LONG, t_ms - self._t_first, pc.CONTEXT_UNKNOWN, 0,
                              0, 0)
                if self._npend:
                    self._moved(self._peak2)
            return self._out and self._emit()

        # IDLE or MOVING: follow gravity and gyro bias; feed the history.
        k[K_BX] += ax - (k[K_BX] >> kb)
        k[K_BY] += ay - (k[K_BY] >> kb)
        k[K_BZ] += az - (k[K_BZ] >> kb)
        k[K_HX] += gx - (k[K_HX] >> kg)
        k[K_HY] += gy - (k[K_HY] >> kg)
        k[K_HZ] += gz - (k[K_HZ] >> kg)

        if state == MOVING:
            if m2 < k[K_LOW2]:
                if t_ms - k[K_T_LAST] >= self._hold:
                    k[K_STATE] = IDLE
                    k[K_QUIET] = t_ms + self._refractory
            else:
                k[K_T_LAST] = t_ms
            return self._out and self._emit()

        if m2 >= k[K_TRIG2] and t_ms >= k[K_QUIET]:
            self._open(t_ms, dx, dy, dz, m2)
        return self._out and self._emit()

    def _start(self, t_ms, ax, ay, az, gx, gy, gz):
        k = self._k
        kb = self._kb
        kg = self._kg
        self._started = True
        self._t0 = t_ms
        k[K_BX] = ax << kb
        k[K_BY] = ay << kb
        k[K_BZ] = az << kb
        k[K_HX] = gx << kg
        k[K_HY] = gy << kg
        k[K_HZ] = gz << kg
        k[K_QUIET] = t_ms + self._settle_ms
        self._bin_end = t_ms + BIN_MS
        self._p[E_T0] = t_ms

    def _open(self, t_ms, dx, dy, dz, m2):
        k = self._k
        k[K_STATE] = OPEN
        self.candidates += 1
        self._t_first = k[K_T_LAST] = self._t_peak = t_ms
        self._p[PEAK_N] = self.samples
        self._peak2 = m2
        self._peak_r2 = 0
        self._peak_dx = dx
        self._peak_dy = dy
        self._peak_dz = dz
        self._open_bins = self._bins
        self._typical_open = self._typical2
        # Direction of the first excursion relative to "up" (the gravity baseline), for
        # telling a lapse against gravity (negative myoclonus) from a jerk.
        self._first_up = self._along_up(dx, dy, dz)
        self._first_norm = isqrt(m2)

    # -- per 100 ms ----------------------------------------------------------------------
    def _close_bin(self, t_ms):
        """Push the finished bin into the history and update the slow context measures.

        A tremor episode piece that ends goes to the tremor slot (see _emit).
        """
        k = self._k
        while self._bin_end <= t_ms:
            self._bin_end += BIN_MS
        m = k[K_BIN_MAX]
        self._ring[self._ring_pos] = m
        self._ring_pos += 1
        if self._ring_pos == self._nbins:
            self._ring_pos = 0
        self._bins += 1
        typical = self._typical2
        if self._bins > self._jerk_bin:  # a bin holding an accepted jerk is not background
            typical += (m - typical) >> 3
            self._typical2 = typical
            self._set_trigger()
        k[K_HUMP2] = (typical >> 2) + 1
        self._rise_rate += ((k[K_RISES] << 4) - self._rise_rate) >> 3
        quiet = m < self._rest2  # this bin, not the typical level: taps in pauses are no sleep
        if quiet:
            self._rest_frac += (REST_ONE - self._rest_frac) >> self._ks
        else:
            self._rest_frac -= (self._rest_frac >> self._ks) + 1
            if self._rest_frac < 0:
                self._rest_frac = 0
        # Tremor-like bin: busy (this bin near the typical level, which is large enough) and
        # a hump rate of 0.6..3 per 100 ms, i.e. 3..15 Hz oscillation of |d| (twice the
        # movement frequency of a one-axis oscillation).
        tremorish = (typical >= self._tremor2 and m >= (typical >> 2)
                     and 10 <= self._rise_rate <= 48)
        self._tremor_frac += ((1024 if tremorish else 0) - self._tremor_frac) >> 4
        self._epoch_bin(t_ms, m)
        k[K_BIN_MAX] = 0
        k[K_RISES] = 0
        self._tremor_step(t_ms)

    def _epoch_bin(self, t_ms, m):
        """Add the finished bin to the activity epoch; every EPOCH_BINS bins one is ready in
        _p[E_OUT:] (the sample at t_ms, which closed the bin, starts the next epoch)."""
        k = self._k
        e = self._p
        kb = self._kb
        seen = self.samples - 1
        e[E_SUM] += m if m < PEAK2_CAP else PEAK2_CAP
        e[E_GX] += k[K_BX] >> kb
        e[E_GY] += k[K_BY] >> kb
        e[E_GZ] += k[K_BZ] >> kb
        if m > e[E_MAX2]:
            e[E_MAX2] = m
        bins = e[E_BINS] + 1
        if bins < EPOCH_BINS:
            e[E_BINS] = bins
            return
        e[E_OUT] = e[E_T0]
        e[E_OUT + 1] = seen - e[E_S0]
        e[E_OUT + 2] = e[E_GX] // bins
        e[E_OUT + 3] = e[E_GY] // bins
        e[E_OUT + 4] = e[E_GZ] // bins
        e[E_OUT + 5] = isqrt(e[E_SUM] // bins)
        e[E_OUT + 6] = isqrt(e[E_MAX2])
        e[E_READY] = 1
        e[E_BINS] = e[E_GX] = e[E_GY] = e[E_GZ] = e[E_SUM] = e[E_MAX2] = 0
        e[E_T0] = t_ms
        e[E_S0] = seen

    def _verdict(self, verdict, duration, context, conf, act, level):
        """Queue the verdict on the candidate just judged (its peak is in _peak*), for its
        evidence. Per candidate, never per sample."""
        q = self._p
        if q[CQ_N] >= CQ_SLOTS:
            q[CQ_LOST] += 1
            return
        peak = isqrt(self._peak2)
        o = CQ_HEAD + q[CQ_N] * C_FIELDS
        q[CQ_N] += 1
        q[o + C_T] = self._t_peak
        q[o + C_DUR] = duration
        q[o + C_PEAK] = peak
        q[o + C_DDPS] = isqrt(self._peak_r2)
        q[o + C_KIND] = self._kind(peak)
        q[o + C_AXIS] = self._dominant_axis()
        q[o + C_CTX] = context
        q[o + C_POSTURE] = self._posture()
        q[o + C_CONF] = conf
        q[o + C_ACT] = act
        q[o + C_VERDICT] = verdict
        q[o + C_LEVEL] = level
        q[o + C_PEAKN] = q[PEAK_N]

    def _verdict_slot(self, slot, verdict):
        """Queue the verdict on a jerk that waited for its look-ahead (slot of _p)."""
        q = self._p
        if q[CQ_N] >= CQ_SLOTS:
            q[CQ_LOST] += 1
            return
        p = self._p
        o = CQ_HEAD + q[CQ_N] * C_FIELDS
        q[CQ_N] += 1
        i = 0
        while i <= P_ACT:  # P_T..P_ACT are C_T..C_ACT
            q[o + i] = p[slot + i]
            i += 1
        q[o + C_VERDICT] = verdict
        q[o + C_LEVEL] = p[slot + P_REF]
        q[o + C_PEAKN] = p[slot + P_PEAKN]


    def _tremor_step(self, t_ms):
        if not self._tremor_on:
            if self._tremor_frac >= 900:
                self._tremor_on = True
                self._tremor_start = t_ms - 2 * 16 * BIN_MS  # the EMA lags ~2 time constants
                if self._tremor_start < self._t0:
                    self._tremor_start = self._t0
                self._tremor_level2 = 0
            return
        if self._typical2 > self._tremor_level2:
            self._tremor_level2 = self._typical2
        length = t_ms - self._tremor_start
        if self._tremor_frac < 500:
            self._tremor_on = False
            self._emit_tremor(length - 16 * BIN_MS, False)
        elif length >= TREMOR_PIECE_MS:
            self._emit_tremor(length, True)

    def _emit_tremor(self, length, go_on):
        start = self._tremor_start
        if go_on:
            self._tremor_start = start + length
        if length < self.settings["tremor_min_ms"] and not go_on:
            return
        p = self._p  # the tremor slot: fields P_T.. of slot TREMOR_SLOT
        p[TREMOR_SLOT + P_T] = start
        p[TREMOR_SLOT + P_DUR] = length if length < 65535 else 65535
        p[TREMOR_SLOT + P_PEAK] = isqrt(self._tremor_level2)
        p[TREMOR_SLOT + P_POSTURE] = self._posture()
        p[TREMOR_SLOT + P_CONF] = self._tremor_frac >> 2
        p[TREMOR_SLOT + P_ACT] = isqrt(self._typical2)
        self._tr_ready = True
        self._out = True

    # -- per candidate ------------------------------------------------------------------
    def _history(self, skip):
        """Set _median2 and _top2 (rank-th largest) of the bins before the candidate, mg^2.

        Results go to attributes: returning a tuple would allocate.
        """
        n = self._bins - skip
        if n > self._nbins - skip:
            n = self._nbins - skip
        if n <= 0:
            self._median2 = self._top2 = self._rest_top2 = self._act_top2 = 0
            return
        ring = self._ring
        out = self._scratch
        pos = self._ring_pos - 1 - skip
        i = 0
        while i < n:
            if pos < 0:
                pos += self._nbins
            v = ring[pos]
            # insertion sort, descending (n is small and this runs once per candidate)
            j = i
            while j > 0 and out[j - 1] < v:
                out[j] = out[j - 1]
                j -= 1
            out[j] = v
            pos -= 1
            i += 1
        self._median2 = out[n >> 1]
        self._top2 = out[(MOVING_RANK if MOVING_RANK < n else n) - 1]
        rank = self.settings["rest_rank"]
        self._rest_top2 = out[(rank if rank < n else n) - 1]
        rank = self.settings["active_rank"]
        self._act_top2 = out[(rank if rank < n else n) - 1]

    def _close(self, t_ms):
        """Judge the candidate that just ended; an accepted one waits for its look-ahead."""
        k = self._k
        k[K_STATE] = IDLE
        k[K_QUIET] = t_ms + self._refractory
        duration = k[K_T_LAST] - self._t_first + self._period_ms
        peak2 = self._peak2
        # Bins touched by the candidate, and the one before it, are not its background.
        touched = self._bins - self._open_bins
        self._history(touched + 1)
        median2 = self._median2
        # It must stand out from the background (median) and from the biggest things the
        # wearer was just doing (the largest recent bins: steps, taps, bumps, or the jerks
        # before it in a series). At rest one earlier movement may come close (the rest_rank
        # -th largest is the bar); while the wearer moves, nothing in the history may.
        # (a sum, not a difference: t - (-100000) would pass 2**30 in the last 100 s of the
        # board's small-int uptime, and allocate)
        if self._t_peak > self._series_t + self.settings["history_ms"]:
            self._series_peak2 = 0  # no accepted jerk left in the history
        series = median2 < self._rest2 and self._rest_top2 <= self._series_peak2
        # Asleep (quiet for 95 % of sleep_ms: typing leaves more than one bin in twenty busy;
        # and the typical level, which accepted jerks do not raise, still quiet) nobody types
        # or scratches: what stands out of the quiet is a jerk, and jerks after it are a
        # series, however alike in size.
        asleep = median2 < self._rest2 and self._typical_open < self._rest2 and \
            self._rest_frac >= REST_ASLEEP and \
            self._t_peak - self._t0 >= self.settings["sleep_ms"]
        if median2 >= self._rest2 or (self._top2 >= self._min_peak2 and not series):
            context = pc.CONTEXT_ACTIVE
            top_ref2 = _scaled(self._act_top2, self.settings["active_factor_x10"])
            min_duration = self.settings["active_min_duration_ms"]
        else:
            context = pc.CONTEXT_REST
            # Within a series at rest, the big recent bins are the series' own jerks.
            top_ref2 = 0 if series else _scaled(self._rest_top2,
                                                self.settings["rest_rank_factor_x10"])
            # Asleep, a short jerk is no key tap: the shortest duration (which is there for
            # taps) does not apply.
            min_duration = 0 if asleep else self._min_dur
        ref2 = _scaled(median2, self.settings["rest_factor_x10"])
        if top_ref2 > ref2:
            ref2 = top_ref2
        if ref2 < self._min_peak2:
            ref2 = self._min_peak2
        peak = isqrt(peak2)
        # Confidence: 0 at the acceptance level, towards 1 far above it; lower when moving.
        conf = 255 - ref2 // ((peak2 >> 8) + 1)  # (ref/peak)^2 in 1/256ths, small ints
        if conf < 0:
            conf = 0
        if context == pc.CONTEXT_ACTIVE:
            conf = (conf * 3) >> 2
        judged = pc.CONTEXT_ASLEEP if context == pc.CONTEXT_REST and asleep else context
        if self._t_peak < self._last_t + REBOUND_MS and 3 * peak < self._last_peak:
            self._verdict(pc.VERDICT_REBOUND, duration, judged, conf, isqrt(median2),
                          isqrt(ref2))
            return  # the rebound of the jerk just before it (a big jerk swings back): part
            #         of that jerk, so no movement in its look-ahead either
        if peak2 < ref2 or duration < min_duration or (not asleep and
                                                           self._jolt(median2, peak)):
            self._verdict(pc.VERDICT_LOW if peak2 < ref2 else
                          pc.VERDICT_SHORT if duration < min_duration else pc.VERDICT_JOLT,
                          duration, judged, conf, isqrt(median2), isqrt(ref2))
            if self._npend:
                self._moved(peak2)  # a movement in the look-ahead of the waiting jerks
            return  # part of the movement; it stays in the history
        self._last_t = self._t_peak
        self._last_peak = peak
        if context == pc.CONTEXT_REST and (series or asleep or
                                           (peak2 >> 2) + (peak2 >> 3) + (peak2 >> 4) >= ref2):
            # What this jerk puts in the history is a series, not the wearer moving: a series
            # starts with a clear jerk (1.5x the acceptance level: 0.4375 ~ 1/1.5^2 of its
            # power), so that a run of small taps just over the bar cannot pass each other
            # through.
            self._series_t = self._t_peak
            if peak2 > self._series_peak2:
                self._series_peak2 = peak2
        # An accepted jerk must not raise the trigger for the next jerk of a series (it stays
        # in the history ring, where the series rules see it).
        self._typical2 = self._typical_open
        self._jerk_bin = self._bins + 1
        self._set_trigger()
        if context == pc.CONTEXT_REST and asleep:
            context = pc.CONTEXT_ASLEEP
        if self._npend == 2:
            self._decide(self._p_old)  # rare: judge the oldest on what it has seen so far
        if self._npend == 1 and self._p[self._p_old + P_MOVED] < self._moved_min_n:
            self._p[self._p_old + P_MOVED] = -1  # what follows it is a jerk: a series
        slot = self._p_old if self._npend == 0 else P_FIELDS - self._p_old
        if self._npend == 0:
            self._p_old = slot
        self._npend += 1
        p = self._p
        p[slot + P_T] = self._t_peak
        p[slot + P_DUR] = duration
        p[slot + P_PEAK] = peak
        p[slot + P_DDPS] = isqrt(self._peak_r2)
        p[slot + P_KIND] = self._kind(peak)
        p[slot + P_AXIS] = self._dominant_axis()
        p[slot + P_CTX] = context
        p[slot + P_POSTURE] = self._posture()
        p[slot + P_CONF] = conf
        p[slot + P_REF] = isqrt(ref2)
        p[slot + P_PEAKN] = p[PEAK_N]
        p[slot + P_ACT] = isqrt(median2)
        p[slot + P_LEVEL2] = peak2 >> 4
        p[slot + P_FROM] = t_ms + CONFIRM_SKIP_MS  # past the jerk's own rebound
        p[slot + P_UNTIL] = t_ms + CONFIRM_SKIP_MS + self._confirm
        p[slot + P_N] = 0
        p[slot + P_K] = 0
        p[slot + P_MOVED] = 0
        if self._confirm == 0:
            self._decide(slot)

    def _jolt(self, median2, peak):
        """A jolt from outside the body, not a jerk: a road bump comes up through the seat
        along gravity, on the vehicle's vibration, and moves the body without turning the
        limb about a joint; a jerk turns it. Never asleep (the caller's test): nobody sleeps
        in a bus, and a hypnic jerk of the trunk along gravity turns little."""
        level = self.settings["jolt_background_mg"]
        if level == 0 or median2 < level * level or self._peak_r2 == 0:
            return False  # off, a quiet background, or no rotation data (a real gyro's
            #               noise is almost never 0 for a whole candidate): cannot tell
        # peak rotation (0.1 deg/s) / 10 per peak g (peak / 1000): under JOLT_ROT_PER_G
        if isqrt(self._peak_r2) * 100 >= JOLT_ROT_PER_G * peak:
            return False
        up = self._along_up(self._peak_dx, self._peak_dy, self._peak_dz)
        return abs(up) * 100 >= JOLT_VERTICAL_X100 * peak

    def _look(self, t_ms, m2):
        """One sample of look-ahead for each waiting jerk; judge those whose time is up (once
        a candidate that is still open has been judged: it may be the next jerk of a
        series)."""
        p = self._p
        slot = 0
        while slot < 2 * P_FIELDS:
            if p[slot + P_UNTIL]:
                if t_ms >= p[slot + P_UNTIL]:
                    # One decision per call: ev_* holds one event until the caller reads it.
                    if self._k[K_STATE] != OPEN and not self._ev_ready:
                        self._decide(slot)
                elif t_ms >= p[slot + P_FROM]:
                    p[slot + P_N] += 1
                    if m2 > p[slot + P_LEVEL2]:
                        p[slot + P_K] += 1
                        # Outside candidates (judged when they close: a jerk of a series
                        # or a rebound is no movement), this is movement.
                        if p[slot + P_MOVED] >= 0 and self._outside(t_ms, m2):
                            p[slot + P_MOVED] += 1
            slot += P_FIELDS

    def _outside(self, t_ms, m2):
        """This sample is in no candidate: neither in an open one nor opening one."""
        k = self._k
        state = k[K_STATE]
        return state == MOVING or (state == IDLE and (m2 < k[K_TRIG2] or
                                                      t_ms < k[K_QUIET]))

    def _moved(self, m2):
        """A movement of |d|^2 = m2 (not a jerk) in the look-ahead of the waiting jerks."""
        p = self._p
        slot = 0
        while slot < 2 * P_FIELDS:
            if p[slot + P_UNTIL] and p[slot + P_MOVED] >= 0 and m2 > p[slot + P_LEVEL2]:
                p[slot + P_MOVED] = MOVED
            slot += P_FIELDS

    def _decide(self, slot):
        """End of a look-ahead: an isolated jerk becomes the next event (ev_*); one that the
        movement carried on from is dropped: |d| above a quarter of its peak for more than
        continue_pct of the time (scratching, a stride), or at all, other than in a jerk of a
        series, while awake (the next tap, a car's bounce after a bump)."""
        p = self._p
        p[slot + P_UNTIL] = 0  # the slot is free
        self._npend -= 1
        if self._npend:
            self._p_old = P_FIELDS - slot
        n = p[slot + P_N]
        if n >= self._confirm_min_n and (p[slot + P_K] * 100 > self._continue * n or
                                         (p[slot + P_MOVED] >= self._moved_min_n
                                          and p[slot + P_CTX] != pc.CONTEXT_ASLEEP)):
            self.dropped += 1
            self._verdict_slot(slot, pc.VERDICT_CONTINUED if p[slot + P_K] * 100 >
                               self._continue * n else pc.VERDICT_MOVED)
            if self._series_t == p[slot + P_T]:  # it opened no series after all
                self._series_t = -100000
                self._series_peak2 = 0
            return
        self._verdict_slot(slot, pc.VERDICT_KEPT)
        self.events += 1
        self.ev_t_ms = p[slot + P_T]
        self.ev_duration_ms = p[slot + P_DUR]
        self.ev_peak_mg = p[slot + P_PEAK]
        self.ev_peak_ddps = p[slot + P_DDPS]
        self.ev_kind = p[slot + P_KIND]
        self.ev_axis = p[slot + P_AXIS]
        self.ev_context = p[slot + P_CTX]
        self.ev_posture = p[slot + P_POSTURE]
        self.ev_confidence = p[slot + P_CONF]
        self.ev_activity_mg = p[slot + P_ACT]
        self._ev_ready = True
        self._out = True

    def flush(self):
        """End of the recording: judge the waiting jerks on the look-ahead they had and hand
        out what is ready. Returns True while an event is ready in ev_*; call until False."""
        k = self._k
        if k[K_STATE] == OPEN:  # a candidate the recording ended in is judged as it is
            self._close(k[K_T_LAST] + self._hold)
        while not self._emit():
            if not self._npend:
                return False
            self._decide(self._p_old)
        return True

    def _emit(self):
        """At most one event per call: a confirmed jerk first, then a tremor piece."""
        if self._ev_ready:
            self._ev_ready = False
            self._out = self._tr_ready
            return True
        if self._tr_ready:
            self._tr_ready = False
            self._out = False
            self.events += 1
            p = self._p
            self.ev_t_ms = p[TREMOR_SLOT + P_T]
            self.ev_duration_ms = p[TREMOR_SLOT + P_DUR]
            self.ev_peak_mg = p[TREMOR_SLOT + P_PEAK]
            self.ev_peak_ddps = 0
            self.ev_kind = pc.KIND_TREMOR
            self.ev_axis = 0
            self.ev_context = pc.CONTEXT_ACTIVE
            self.ev_posture = p[TREMOR_SLOT + P_POSTURE]
            self.ev_confidence = p[TREMOR_SLOT + P_CONF]
            self.ev_activity_mg = p[TREMOR_SLOT + P_ACT]
            return True
        return False

    def _set_trigger(self):
        k = self._k
        trig2 = _scaled(self._typical2, self._trigger)
        if trig2 < self._min_peak2:
            trig2 = self._min_peak2
        k[K_TRIG2] = trig2
        k[K_LOW2] = trig2 >> 2

    def _along_up(self, dx, dy, dz):
        """d . up in mg (up: the gravity baseline direction, |baseline| ~ 1000 mg)."""
        k = self._k
        kb = self._kb
        bx = k[K_BX] >> kb
        by = k[K_BY] >> kb
        bz = k[K_BZ] >> kb
        norm = isqrt(bx * bx + by * by + bz * bz)
        if norm < 300:
            return 0
        return (dx * bx + dy * by + dz * bz) // norm

    def _kind(self, peak):
        """Negative myoclonus: the first excursion is a drop along gravity (the limb lapses)
        and the peak is the catch, back up along gravity; both mostly vertical."""
        first = self._first_up
        if first >= 0 or -first * 10 < self._first_norm * 6:
            return pc.KIND_JERK
        catch = self._along_up(self._peak_dx, self._peak_dy, self._peak_dz)
        if catch * 10 >= peak * 6:
            return pc.KIND_NEGATIVE
        return pc.KIND_JERK

    def _dominant_axis(self):
        x, y, z = self._peak_dx, self._peak_dy, self._peak_dz
        ax_, ay_, az_ = abs(x), abs(y), abs(z)
        if ax_ >= ay_ and ax_ >= az_:
            return 1 if x >= 0 else -1
        if ay_ >= az_:
            return 2 if y >= 0 else -2
        return 3 if z >= 0 else -3

    def _posture(self):
        k = self._k
        up = self._up_axis
        if up == 0:
            return pc.POSTURE_UNKNOWN
        kb = self._kb
        if up == 1 or up == -1:
            g = k[K_BX] >> kb
        elif up == 2 or up == -2:
            g = k[K_BY] >> kb
        else:
            g = k[K_BZ] >> kb
        if up < 0:
            g = -g
        # Upright when the head-ward axis carries most of gravity (within ~50 degrees).
        return pc.POSTURE_UPRIGHT if g >= 640 else pc.POSTURE_LYING
