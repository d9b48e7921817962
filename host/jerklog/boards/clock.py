"""Mapping a board's uptime clock to UTC from what the host sees.

A board counts uptime in ms with its own crystal, which runs fast or slow (100 ppm is
0.36 s an hour, 4.3 s over a night). Each heartbeat tells the host (uptime, host receive
time); the receive time is late by the transfer delay, which is never negative. So:

  * per minute of uptime, keep the smallest offset (host_ms - uptime_ms): the heartbeat that
    came through fastest, the best estimate of the true offset in that minute;
  * fit a straight line offset = a + b * uptime through the last `window` minutes of those
    minima: b is the clock's drift, a + b * t maps uptime t to host time.

The host clock itself is the reference (NTP keeps it within a few ms); a jump of the host
clock shows as a step in the offsets: the fit starts afresh from it and counts a correction.
"""

MINUTE_MS = 60000
STEP_MS = 50  # a minute's best offset this far from the fit is a clock step, not drift


class ClockModel:
    def __init__(self, window=10):
        self.window = window   # minutes of minima the fit uses
        self._minima = []      # [(uptime minute, uptime_ms, offset_ms)] ascending
        self.corrections = 0   # clock steps seen (a host clock set, say)
        self.last_shift_ms = 0  # by how much, the last time

    def add(self, uptime_ms: int, host_ms: int) -> None:
        """One observation: the board said uptime_ms; the host received it at host_ms."""
        offset = host_ms - uptime_ms
        minute = uptime_ms // MINUTE_MS
        m = self._minima
        if m and m[-1][0] == minute:
            if offset < m[-1][2]:
                m[-1] = (minute, uptime_ms, offset)
            return
        if m and minute < m[-1][0]:
            return  # an old observation (a replay): the live ones are better
        if len(m) >= 2:
            # The last minute is complete: is its best offset a step away from the fit of
            # the minutes before it? Then the clock was set (the host's, say), not drifting:
            # start the fit afresh from that minute, and say so.
            last = m.pop()
            predicted = self.to_host_ms(last[1]) - last[1]
            if abs(last[2] - predicted) > STEP_MS:
                self.corrections += 1
                self.last_shift_ms = last[2] - predicted
                del m[:]
            m.append(last)
        m.append((minute, uptime_ms, offset))
        if len(m) > self.window:
            del m[0]

    @property
    def known(self):
        return bool(self._minima)

    def drift_ppm(self):
        """How fast the board's clock runs against the host's, ppm (positive: fast)."""
        a, b = self._fit()
        return -b * 1e6  # a fast board's uptime outruns host time: the offset falls

    def _fit(self):
        m = self._minima
        if not m:
            raise ValueError("no observations yet")
        if len(m) == 1:
            return float(m[0][2]), 0.0
        n = len(m)
        mx = sum(u for _, u, _ in m) / n
        my = sum(o for _, _, o in m) / n
        sxx = sum((u - mx) ** 2 for _, u, _ in m)
        sxy = sum((u - mx) * (o - my) for _, u, o in m)
        b = sxy / sxx if sxx else 0.0
        return my - b * mx, b

    def to_host_ms(self, uptime_ms: int) -> int:
        """Host (UTC) ms for a device uptime, from the current fit."""
        a, b = self._fit()
        return int(round(uptime_ms + a + b * uptime_ms))


def anchored_utc(anchors):
    """uptime ms (array) -> UTC ms, through a boot's per-minute measured offsets [(uptime_ms,
    offset_ms)] (store.clock_anchors): linear between the measurements before and after a
    time, so what a board logged between two connections is placed by both of them; held
    at the first (last) measurement before (after) them."""
    import numpy as np
    up = np.array([a[0] for a in anchors], dtype=np.float64)
    off = np.array([a[1] for a in anchors], dtype=np.float64)

    def to_utc(t_ms):
        t = np.asarray(t_ms, dtype=np.float64)
        return np.rint(t + np.interp(t, up, off)).astype(np.int64)
    return to_utc


def retime_boots(store, keys=None) -> int:
    """Place the records of measured boots (clock 'host') by their anchors; keys: the
    (device_id, boot_id) to do, or every boot. Return the rows moved. The caller commits."""
    moved = 0
    for b in store.boots():
        key = (b["device_id"], b["boot_id"])
        if (keys is not None and key not in keys) or b["clock"] != "host":
            continue
        anchors = store.clock_anchors(*key)
        if anchors:
            moved += store.retime_boot(key[0], key[1], anchored_utc(anchors))
    return moved
