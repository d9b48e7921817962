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
    """A power-of-two period wraps with a mask (period - 1), as the boards' ticks do: on a
    31-bit board 2**30 itself is a long int, and arithmetic with it would allocate where the
    board's native ticks functions do not. Other periods use the modulo."""

    def __init__(self, period=TICKS_PERIOD, start=0):
        if period < 4:
            raise ValueError("FakeClock: period must be >= 4")
        self.period = period
        self._half = period // 2
        self._mask = period - 1 if period & (period - 1) == 0 else 0
        self.now = start % period

    def ticks_ms(self):
        return self.now

    def _wrap(self, v):
        return v & self._mask if self._mask else v % self.period

    def advance(self, ms):
        self.now = self._wrap(self.now + ms)

    def ticks_diff(self, a, b):
        """Signed a - b, valid while the true difference is within +-period/2."""
        d = self._wrap(a - b)
        if d >= self._half:  # d - period, in two steps that stay small ints
            d -= self._half
            d -= self._half
        return d

    def ticks_add(self, t, delta):
        return self._wrap(t + delta)


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
