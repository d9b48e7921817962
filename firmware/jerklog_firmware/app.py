"""The recording loop: board samples -> detector -> frames. Board-independent."""
import struct
from array import array

from . import protocol
from .version import VERSION as FIRMWARE_VERSION

HEARTBEAT_MS = 1000       # device time between heartbeats
HELLO_EVERY = 30          # heartbeats between repeated hellos (a host may join late)
BATCH = 32                # samples read from the board per call


def new_boot_id():
    """A random boot id for this boot: 30 bits (a small int on 31-bit boards), never 0."""
    import os
    b = os.urandom(4)
    return (b[0] | (b[1] << 8) | (b[2] << 16) | ((b[3] & 0x3F) << 24)) or 1


class BoardLoop:
    """Owns the buffers (made once) and runs the per-sample path without allocating."""

    def __init__(self, board, detector, writer, region, epoch_ms=0, log=None,
                 virtual_clock=False, set_rtc=None):
        self.board = board
        self.log = log              # the on-board EventLog, or None
        self.log_errors = 0         # appends that failed (flash full or faulty)
        self.virtual_clock = virtual_clock  # sim faster than real time: host time is not ours
        self.set_rtc = set_rtc      # callable(unix_ms) on boards with an RTC, else None
        self.detector = detector
        self.writer = writer
        self.region = region
        self.epoch_ms = epoch_ms
        self.times = array("i", [0] * BATCH)
        self.samples = array("h", [0] * (6 * BATCH))
        self.raw_on = False      # raw streaming (CMD_RAW): waveforms for clinicians
        self._raw = array("h", [0] * (6 * protocol.RAW_SAMPLES))
        self._raw_n = 0
        self._raw_t = 0
        self._raw_period_us = 1000000 // board.rate_hz
        self.uptime_ms = 0
        self._next_heartbeat = HEARTBEAT_MS
        self._heartbeats = 0

    def hello(self, keep=False):
        """Send a hello; keep=True also logs it, so the boot's clock travels with its events."""
        b = self.board
        flags = protocol.FLAG_GYRO if b.has_gyro else 0
        if self.virtual_clock:
            flags |= protocol.FLAG_VIRTUAL_CLOCK
        self.writer.hello(b.rate_hz, flags, self.epoch_ms, FIRMWARE_VERSION, b.name, b.sensor,
                          self.region)
        if keep:
            self._keep()

    def _keep(self):
        """Append the frame just sent to the on-board log (allocation-free once open)."""
        if self.log is not None:
            try:
                self.log.append(self.writer.payload_buf, self.writer.last_len)
            except OSError:
                self.log_errors += 1  # a flash fault must never stop detection

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
        times = self.times
        s = self.samples
        i = 0
        while i < n:
            t = times[i]
            j = 6 * i
            if det.update(t, s[j], s[j + 1], s[j + 2], s[j + 3], s[j + 4], s[j + 5]):
                self._send_event()
            self.uptime_ms = t
            if self.raw_on:
                self._raw_add(t, s, j)
            if t >= self._next_heartbeat:
                self._next_heartbeat = t + HEARTBEAT_MS
                self.heartbeat()
            i += 1
        return n

    def _send_event(self):
        det = self.detector
        self.writer.event(det.ev_t_ms, det.ev_duration_ms, det.ev_peak_mg, det.ev_peak_ddps,
                          det.ev_kind, det.ev_axis, det.ev_context, det.ev_posture,
                          det.ev_confidence, det.ev_activity_mg)
        self._keep()

    def finish(self):
        """The recording ends: send the events the detector still holds (a jerk waiting for
        its look-ahead)."""
        while self.detector.flush():
            self._send_event()

    def _raw_add(self, t, s, j):
        """Add sample s[j:j+6] to the raw frame being filled; send it when full."""
        r = self._raw
        k = 6 * self._raw_n
        if k == 0:
            self._raw_t = t
        r[k] = s[j]
        r[k + 1] = s[j + 1]
        r[k + 2] = s[j + 2]
        r[k + 3] = s[j + 3]
        r[k + 4] = s[j + 4]
        r[k + 5] = s[j + 5]
        self._raw_n += 1
        if self._raw_n == protocol.RAW_SAMPLES:
            self.writer.raw(self._raw_t, self._raw_n, self._raw_period_us, r)
            self._raw_n = 0

    def trigger(self):
        """The wearer pressed the button: a trigger mark that travels like an event."""
        self.writer.event(self.uptime_ms, 0, 0, 0, protocol.KIND_TRIGGER, 0,
                          protocol.CONTEXT_UNKNOWN, protocol.POSTURE_UNKNOWN, 255, 0)
        self._keep()

    # -- commands from the host --------------------------------------------------------
    def handle(self, cmd):
        """Carry out one command record from the host."""
        c = cmd["command"]
        if c == protocol.CMD_HELLO:
            self.hello()
        elif c == protocol.CMD_LOG_DUMP:
            self.dump_log(cmd["argument"])
        elif c == protocol.CMD_LOG_ACK:
            boot_id, seq = protocol.parse_log_cursor(cmd["argument"])
            n = self.log.ack(boot_id, seq, self.writer.device_id) if self.log else 0
            self.log_status(protocol.LOG_ACKED, n, 0, 0)
        elif c == protocol.CMD_LOG_STATUS:
            self.log_status(protocol.LOG_STATE, 0, 0, 0)
        elif c == protocol.CMD_RAW:
            self.raw_on = cmd["argument"] == 1
            self._raw_n = 0
        elif c == protocol.CMD_SET_TIME:
            if not self.virtual_clock:  # a replay keeps the wall clock it was started with
                self.epoch_ms = cmd["argument"] - self.uptime_ms
                if self.set_rtc is not None:
                    self.set_rtc(cmd["argument"])
                self.hello(keep=True)  # logged: this boot's clock travels with its events

    def dump_log(self, argument):
        """Send every logged record after the cursor (all unacknowledged ones for -1)."""
        sent = last_boot = last_seq = 0
        if self.log is not None:
            after = None
            if argument != -1:
                boot_id, seq = protocol.parse_log_cursor(argument)
                after = (self.writer.device_id, boot_id, seq)
            for payload in self.log.records(after):
                self.writer.replay(payload)
                _, _, last_boot, last_seq = struct.unpack_from(protocol.HEADER_FMT, payload, 0)
                sent += 1
        self.log_status(protocol.LOG_DUMPED, sent, last_boot, last_seq)

    def log_status(self, reason, records, last_boot, last_seq):
        log = self.log
        if log is None:
            self.writer.log_status(reason, records, last_boot, last_seq, 0, 0, 0, 0)
        else:
            self.writer.log_status(reason, records, last_boot, last_seq, log.dropped,
                                   log.count(), log.used_bytes, log.capacity_bytes)

    def goodbye(self, reason):
        d = self.detector
        self.writer.goodbye(reason, self.uptime_ms, d.samples, self.board.dropped, d.events)
