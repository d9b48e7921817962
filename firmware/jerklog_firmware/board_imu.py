"""A real IMU board: FIFO batches from lsm6 / mpu6, in the units and clock the app expects.

``ImuBoard`` has the sim board's interface (see board_sim and app.BoardLoop):
``read_into(times, samples) -> n``, ``rate_hz``, ``has_gyro``, ``dropped``, ``name``,
``sensor``, ``finished``.

Units: the driver's raw counts are converted IN PLACE in the caller's ``samples``
(array('h'), made once) with the driver's integer scales ``(num, shift)``:
mg = (raw * num) >> shift, 0.1 deg/s likewise. No floats, no allocation; every result fits
an int16 (+-16 g = +-16000 mg, +-2000 dps = +-20000).

Time: each batch is stamped when it is read. Sample i of n gets
``t_read - (n - 1 - i) * 1000 // rate_hz`` in device-uptime ms, then is pushed to at least
one ms after the previous sample, so times always increase. Uptime is a counter advanced by
``ticks_diff(now, previous read)``, so ticks wrap (2**30 ms on the boards) is invisible as
long as reads are less than period/2 (6.2 days) apart. The counter is a small int below
2**30 ms: on a 31-bit board it does not allocate for the first 12.4 days of uptime; after
that the arithmetic allocates (a long int) but stays correct, and ``times`` (array 'i')
holds it up to 2**31 ms (24.8 days). See docs/boards.md.
"""
from array import array

from . import fastpath


def default_clock():
    """MicroPython's ``time`` module (ticks_ms, ticks_diff, ticks_add). Elsewhere there is no
    such clock: pass ``clock=`` (the tests' fakes: tests/firmware/fakes/fake_clock.py)."""
    import time
    if not hasattr(time, "ticks_ms"):
        raise ValueError("ImuBoard: this Python's time module has no ticks_ms: pass clock=")
    return time


class ImuBoard:
    has_gyro = True

    def __init__(self, imu, name, clock=None):
        self.imu = imu
        self.name = name
        self.sensor = imu.chip
        self.rate_hz = imu.rate_hz
        self.finished = False  # an IMU never runs out of samples
        self.accel_scale = imu.accel_scale
        self.gyro_scale = imu.gyro_scale
        self._scales = array("i", (imu.accel_scale[0], imu.accel_scale[1], imu.gyro_scale[0],
                                   imu.gyro_scale[1]))  # for fastpath.scale_stamp
        self._clock = clock if clock is not None else default_clock()
        self._ticks_ms = self._clock.ticks_ms
        self._ticks_diff = self._clock.ticks_diff
        self._prev_ticks = self._ticks_ms()
        self.uptime_ms = 0       # device uptime at the last read
        self._last_t = -1        # time of the last sample handed out

    @property
    def dropped(self):
        """Samples lost to FIFO overflow (the driver's count, a lower bound)."""
        return self.imu.overflows

    def read_into(self, times, samples):
        """Read one FIFO batch into samples (mg, 0.1 deg/s) and times (uptime ms)."""
        if len(samples) > 6 * len(times):
            raise ValueError("ImuBoard: samples holds more than len(times) samples")
        n = self.imu.read_into(samples)
        now = self._ticks_ms()
        up = self.uptime_ms + self._ticks_diff(now, self._prev_ticks)
        self._prev_ticks = now
        self.uptime_ms = up
        rate = self.rate_hz
        last = self._last_t
        if fastpath.scale_stamp is not None:  # the loop below as machine code
            self._last_t = fastpath.scale_stamp(samples, times, n, self._scales, up, rate, last)
            return n
        an, ash = self.accel_scale
        gn, gsh = self.gyro_scale
        i = 0
        j = 0
        while i < n:
            samples[j] = (samples[j] * an) >> ash
            samples[j + 1] = (samples[j + 1] * an) >> ash
            samples[j + 2] = (samples[j + 2] * an) >> ash
            samples[j + 3] = (samples[j + 3] * gn) >> gsh
            samples[j + 4] = (samples[j + 4] * gn) >> gsh
            samples[j + 5] = (samples[j + 5] * gn) >> gsh
            t = up - (n - 1 - i) * 1000 // rate
            if t <= last:
                t = last + 1
            times[i] = t
            last = t
            i += 1
            j += 6
        self._last_t = last
        return n
