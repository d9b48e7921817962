"""A fake ticks_ms source that wraps like a board's, for tests (CPython and MicroPython).

``FakeClock(period)`` has the three functions of MicroPython's ``time`` that the board layer
uses: ``ticks_ms()``, ``ticks_diff(a, b)``, ``ticks_add(t, delta)``. The tick value runs in
``0 .. period-1``; a 31-bit board's ``time.ticks_ms()`` has ``period = 2**30`` (it wraps after
about 12.4 days). A test picks a small period (e.g. 1000) and ``start`` just below it so that
the clock wraps within the test. ``advance(ms)`` moves time on; it does not allocate.

``SystemClock`` gives CPython (which has no ``time.ticks_ms``) the same interface from
``time.monotonic_ns``, with the board's period.
"""

TICKS_PERIOD = 1 << 30  # MicroPython's ticks period on every port


class FakeClock:
    def __init__(self, period=TICKS_PERIOD, start=0):
        if period < 4:
            raise ValueError("FakeClock: period must be >= 4")
        self.period = period
        self._half = period // 2
        self.now = start % period

    def ticks_ms(self):
        return self.now

    def advance(self, ms):
        self.now = (self.now + ms) % self.period

    def ticks_diff(self, a, b):
        """Signed a - b, valid while the true difference is within +-period/2."""
        return (a - b + self._half) % self.period - self._half

    def ticks_add(self, t, delta):
        return (t + delta) % self.period


class SystemClock:
    """Real elapsed time on CPython, with MicroPython's ticks semantics."""

    def __init__(self, period=TICKS_PERIOD):
        import time
        self._ns = time.monotonic_ns
        self.period = period
        self._half = period // 2

    def ticks_ms(self):
        return (self._ns() // 1000000) % self.period

    def ticks_diff(self, a, b):
        return (a - b + self._half) % self.period - self._half

    def ticks_add(self, t, delta):
        return (t + delta) % self.period
