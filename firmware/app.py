"""The recording loop: board samples -> detector -> frames. Board-independent."""
from array import array

try:
    from . import protocol
except (ImportError, KeyError):
    import protocol

FIRMWARE_VERSION = "0.1.0"
HEARTBEAT_MS = 1000       # device time between heartbeats
HELLO_EVERY = 30          # heartbeats between repeated hellos (a host may join late)
BATCH = 32                # samples read from the board per call


class Recorder:
    """Owns the buffers (made once) and runs the per-sample path without allocating."""

    def __init__(self, board, detector, writer, region, epoch_ms=0):
        self.board = board
        self.detector = detector
        self.writer = writer
        self.region = region
        self.epoch_ms = epoch_ms
        self.times = array("i", [0] * BATCH)
        self.samples = array("h", [0] * (6 * BATCH))
        self.uptime_ms = 0
        self._next_heartbeat = HEARTBEAT_MS
        self._heartbeats = 0

    def hello(self):
        b = self.board
        self.writer.hello(b.rate_hz, protocol.FLAG_GYRO if b.has_gyro else 0, self.epoch_ms,
                          FIRMWARE_VERSION, b.name, b.sensor, self.region)

    def heartbeat(self):
        d = self.detector
        self.writer.heartbeat(self.uptime_ms, d.samples, self.board.dropped, d.events)
        self._heartbeats += 1
        if self._heartbeats % HELLO_EVERY == 0:
            self.hello()

    def step(self):
        """Read one batch and process it; return the number of samples handled."""
        n = self.board.read_into(self.times, self.samples)
        det = self.detector
        w = self.writer
        times = self.times
        s = self.samples
        i = 0
        while i < n:
            t = times[i]
            j = 6 * i
            if det.update(t, s[j], s[j + 1], s[j + 2], s[j + 3], s[j + 4], s[j + 5]):
                w.event(det.ev_t_ms, det.ev_duration_ms, det.ev_peak_mg, det.ev_peak_ddps,
                        det.ev_kind, det.ev_axis, det.ev_context, det.ev_posture,
                        det.ev_confidence, det.ev_activity_mg)
            self.uptime_ms = t
            if t >= self._next_heartbeat:
                self._next_heartbeat = t + HEARTBEAT_MS
                self.heartbeat()
            i += 1
        return n

    def goodbye(self, reason):
        d = self.detector
        self.writer.goodbye(reason, self.uptime_ms, d.samples, self.board.dropped, d.events)
