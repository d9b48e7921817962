"""The recording loop: board samples -> detector -> frames. Board-independent."""
import struct
from array import array

from . import fastpath, protocol
from .version import VERSION as FIRMWARE_VERSION

try:
    from micropython import heap_lock, heap_unlock
except ImportError:  # CPython (the host imports the firmware too)
    heap_lock = heap_unlock = None

HEARTBEAT_MS = 1000       # device time between heartbeats
HELLO_EVERY = 30          # heartbeats between repeated hellos (a host may join late)
BATCH = 64                # samples read from the board per call (the loop naps half a batch
#   between reads: 154 ms at 208 Hz). Each read costs the same whatever its size (the calls
#   from step() to the FIFO kernel, the batch's checks), so on the emulated Pico a batch of
#   64 instead of 32 took the per-sample cost from 23,300 to 19,200 cycles at 208 Hz.
#   Room: an MPU-6050's FIFO holds 85 samples, the LSM6DSOX's 256.
EVIDENCE_PRE_MS = 300     # waveform kept before a candidate's peak
EVIDENCE_POST_MS = 700    # and after it
EVIDENCE_RATE_HZ = 104    # waveform rate: boards average 2 (208 Hz), 4, 8 samples into one
EVIDENCE_LOG_PCT = 60     # evidence goes to the on-board log only while it is less full than
#                           this: the rest is kept for events, hellos and epochs
DUMP_SLICE_MS = 20        # a log dump sends records for at most this long between two FIFO
#   reads (after the first record): the shallowest FIFO, an MPU-6050's 85 samples at its
#   500 Hz top, holds 170 ms, and half a batch at 833 Hz comes every 38 ms
LOCK_BELOW_MS = (1 << 30) - 600000  # device ms: the detector runs heap-locked only before
#   this. From 2**30 ms (12.4 days of uptime) device times are long ints on 31-bit boards and
#   its arithmetic on them allocates; 10 min of margin covers the times it adds windows to.
LOCK_BELOW_SAMPLES = (1 << 30) - 10 ** 6  # likewise the detector's sample count (12.4 days
#   at 1000 Hz, 59.7 at 208 Hz)


def _zeros(n):
    """array('h') of n zeros, allocated once at its size: from a range, whose length the
    array constructor reads first (from a bytearray, the array would be a copy beside a
    temporary as large, which a 1000 Hz ring did not always find room for in 192 KB).
    Under CPython (the host) from bytes: its rings can pass 65536 values (rates near 4000 Hz
    with the longest detector settings), where the range's values leave int16."""
    if heap_lock is None:
        return array("h", bytes(2 * n))
    a = array("h", range(-(n >> 1), n - (n >> 1)))  # int16 values for n <= 65536 (the
    #                                                   ring at the detector's 4000 Hz: 43620)
    i = 0
    while i < n:
        a[i] = 0
        i += 1
    return a


def _ring_copy(s, j, jend, r, q, qend):
    """s[j:jend] into the ring r (qend values) from index q, wrapping; returns the index after
    (bytecode; fastpath.ring_copy does the same where the port compiles viper)."""
    while j < jend:
        r[q] = s[j]
        q += 1
        if q == qend:
            q = 0
        j += 1
    return q


def _ring_copy_sliced(s, j, jend, r, q, qend):
    """_ring_copy by slices, for CPython (the host's analyze and import run this loop): the
    same values, no per-value bytecode. Slices allocate, so never on a board."""
    while j < jend:
        n = min(jend - j, qend - q)
        r[q:q + n] = s[j:j + n]
        j += n
        q += n
        if q == qend:
            q = 0
    return q


_RING_COPY = _ring_copy if heap_lock is not None else _ring_copy_sliced


class _MonotonicClock:
    """ticks_ms/ticks_diff from time.monotonic for CPython, whose time has no ticks_ms."""

    def ticks_ms(self):
        import time
        return int(time.monotonic() * 1000)

    def ticks_diff(self, a, b):
        return a - b


def _default_clock():
    import time
    return time if hasattr(time, "ticks_ms") else _MonotonicClock()


def new_boot_id():
    """A random boot id for this boot: 30 bits (a small int on 31-bit boards), never 0."""
    import os
    b = os.urandom(4)
    return (b[0] | (b[1] << 8) | (b[2] << 16) | ((b[3] & 0x3F) << 24)) or 1


class BoardLoop:
    """Owns the buffers (made once) and runs the per-sample path without allocating."""

    def __init__(self, board, detector, writer, region, epoch_ms=0, log=None,
                 virtual_clock=False, set_rtc=None, clock=None):
        self.board = board
        self.clock = clock if clock is not None else _default_clock()  # ticks_ms, ticks_diff
        self._dump = None           # the log dump under way: an iterator over its records
        self._dump_sent = 0         # records it sent so far
        self._dump_boot = 0         # and the boot id and seq of the last of them
        self._dump_seq = 0
        self.log = log              # the on-board EventLog, or None
        self.log_errors = 0         # appends that failed (flash full or faulty)
        self.lock_ok = True         # False once the detector allocated under the heap lock
        self.lock_faults = 0        # how often that happened (0 or 1 a boot)
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
        # Evidence (docs/protocol.md): a ring of the last samples, long enough to hold a
        # candidate's waveform until its verdict (look-ahead included); ring slot of sample
        # number k (the detector's count after it) is (k - 1) % ring_n.
        rate = board.rate_hz
        st = detector.settings if detector is not None else {}
        self.ev_stride = (rate + EVIDENCE_RATE_HZ // 2) // EVIDENCE_RATE_HZ or 1
        self.ev_pre = EVIDENCE_PRE_MS * rate // 1000 // self.ev_stride
        self.ev_post = EVIDENCE_POST_MS * rate // 1000 // self.ev_stride
        span_ms = (EVIDENCE_PRE_MS + st.get("max_duration_ms", 350) + st.get("hold_ms", 40)
                   + 60 + max(st.get("confirm_ms", 750), EVIDENCE_POST_MS) + 300)
        self.ring_n = span_ms * rate // 1000 + BATCH + self.ev_stride
        self.ring = _zeros(6 * self.ring_n)
        self._q = 6 * (detector.samples % self.ring_n) if detector is not None else 0
        self._prev = array("h", [0] * 6)  # int16: a mean of int16 values
        self._wave_state = array("i", [0] * 3)  # fastpath.wave_part's offset, count, index
        self.evidence_sent = 0      # candidates whose evidence went out (the cand counter)
        self.evidence_unlogged = 0  # evidence parts not logged: the log was too full
        self.epochs = 0

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
        self.process(self.times, self.samples, 0, n)
        return n

    def process(self, times, s, start, end):
        """The per-sample path over samples start..end-1 of times (device ms) and s (six
        values a sample: mg, 0.1 deg/s), then the once-per-batch evidence and epochs. step()
        gives it the batch just read; the firmware benchmark, samples already in memory.

        The detector runs with the heap locked. It allocates nothing (the heap-lock tests
        hold it to that), but MicroPython puts the frame of a function with more than 11
        words of locals and stack, as Detector.update, on the heap at every call unless the
        heap is locked (then on the C stack): on this machine's unix port that alloc and
        free were 11 % of the per-sample cost, and on a fragmented heap each would start a
        whole garbage collection first. Frames, log appends and the hello (a log segment
        opening allocates) run unlocked. Unlocked too: device times from LOCK_BELOW_MS on,
        sample counts from LOCK_BELOW_SAMPLES, and the rest of a boot once the detector
        allocated under the lock anyway (a path no test took): that sample's update is cut
        short and the loop goes on unlocked, which costs one sample of the detector's state
        instead of the board's loop."""
        if start < end:
            self._q = (fastpath.ring_copy or _RING_COPY)(s, 6 * start, 6 * end, self.ring,
                                                         self._q, 6 * self.ring_n)
            det = self.detector
            raw_on = self.raw_on  # commands come between batches, never inside one
            beat = self._next_heartbeat
            lock = (heap_lock is not None and self.lock_ok and times[end - 1] < LOCK_BELOW_MS
                    and det.samples < LOCK_BELOW_SAMPLES)
            held = False  # this call holds the lock (an exception may come either way)
            # The quiet samples as machine code (Detector.skim), where the port has it; not
            # while raw samples go out (each sample is sent). Called as det.skim(): a bound
            # method kept in a local would be an allocation.
            skim = fastpath.skim is not None and not raw_on
            i = start
            if lock:
                heap_lock()
                held = True
            try:
                while i < end:
                    try:  # outside the sample loop: no cost a sample
                        while i < end:
                            if skim:
                                i = det.skim(times, s, i, end, beat)
                                if i >= end:
                                    break
                            t = times[i]
                            j = 6 * i
                            if det.update(t, s[j], s[j + 1], s[j + 2], s[j + 3], s[j + 4],
                                          s[j + 5]):
                                if held:
                                    heap_unlock()
                                    held = False
                                self._send_event()
                            if raw_on:
                                if held:
                                    heap_unlock()
                                    held = False
                                self._raw_add(t, s, j)
                            if t >= beat:
                                if held:
                                    heap_unlock()
                                    held = False
                                beat = t + HEARTBEAT_MS
                                self._next_heartbeat = beat
                                self.uptime_ms = t
                                self.heartbeat()
                            if lock and not held:
                                heap_lock()
                                held = True
                            i += 1
                    except MemoryError as e:
                        if not held:
                            raise e  # the heap is full: not the lock's doing (and a bare
                            #          raise is one thing the unix port's emit=native lacks)
                        heap_unlock()
                        held = False
                        lock = False
                        self.lock_ok = False
                        self.lock_faults += 1
                        i += 1  # sample i's update was cut short; the next ones run unlocked
            finally:
                if held:
                    heap_unlock()
            self.uptime_ms = times[end - 1]
        self.after_batch()

    def after_batch(self):
        """Once per batch: send the epoch and the evidence that are ready."""
        det = self.detector
        e = det._p  # the detector's array: epoch and verdict queue
        if e[det.EP_READY]:
            e[det.EP_READY] = 0
            o = det.EP_OUT
            self.writer.epoch(e[o], e[o + 1], e[o + 2], e[o + 3], e[o + 4], e[o + 5],
                              e[o + 6])
            self.epochs += 1
            self._keep()
        if e[det.Q_N]:
            self.evidence(False)

    def evidence(self, finishing):
        """Send the evidence of every queued verdict whose waveform is complete (all of them
        when the recording ends: finishing), oldest first."""
        det = self.detector
        q = det._p
        qn = det.Q_N
        head = det.Q_HEAD
        stride = self.ev_stride
        while q[qn]:
            peak_n = q[head + det.Q_PEAKN]
            post = self.ev_post
            last = peak_n + post * stride + stride - 1  # the last sample it needs
            if det.samples < last:
                if not finishing:
                    return
                post = (det.samples - peak_n - stride + 1) // stride
                if post < 0:
                    post = 0
            pre = self.ev_pre
            oldest = det.samples - self.ring_n + 1  # the oldest sample still in the ring
            if peak_n - pre * stride < oldest:
                pre = (peak_n - oldest) // stride
            if peak_n - pre * stride < 1:
                pre = (peak_n - 1) // stride
            if pre < 0:
                pre = 0
            self._send_evidence(q, pre, post)
            i = head  # drop the oldest verdict: the queue moves up one slot
            end = head + (q[qn] - 1) * det.Q_FIELDS
            while i < end:
                q[i] = q[i + det.Q_FIELDS]
                i += 1
            q[qn] -= 1

    def _send_evidence(self, q, pre, post):
        """The evidence of verdict 0 of the queue q, in parts (no allocation)."""
        w = self.writer
        p = w.payload_buf
        cand = self.evidence_sent
        self.evidence_sent += 1
        log = self.log
        keep = log is not None and 100 * log.used_bytes < EVIDENCE_LOG_PCT * log.capacity_bytes
        stride = self.ev_stride
        axes = 6 if self.board.has_gyro else 3
        n = pre + 1 + post
        part = 0
        o = w.evidence_start(cand, 0, False)
        c = self.detector.Q_HEAD  # the queue's first slot
        o = w.evidence_features(o, q[c], q[c + 1], q[c + 2], q[c + 3], q[c + 4], q[c + 5],
                                q[c + 6], q[c + 7], q[c + 8], q[c + 9], q[c + 10], q[c + 11],
                                pre, n, stride * 1000000 // self.board.rate_hz, stride, axes)
        r = self.ring
        ring_n = self.ring_n
        qend = 6 * ring_n
        prev = self._prev
        a = 0
        while a < 6:
            prev[a] = 0
            a += 1
        slot = (q[c + self.detector.Q_PEAKN] - 1 - pre * stride) % ring_n
        end = protocol.MAX_PAYLOAD - 3 * axes  # room for one more sample, all escaped
        kernel = fastpath.wave_part
        if kernel is not None:  # the loop below, as machine code (the same bytes)
            st = self._wave_state
            st[0] = o
            st[1] = 0
            st[2] = 6 * slot
            while True:
                kernel(r, st, prev, p, stride, axes, qend, end, n)
                if st[1] >= n:
                    break
                w.evidence_send(st[0])  # the part is full
                self._keep_evidence(keep)
                part += 1
                st[0] = w.evidence_start(cand, part, False)
            w.evidence_last(True)
            w.evidence_send(st[0])
            self._keep_evidence(keep)
            return
        k = 0
        while k < n:
            if o > end:
                w.evidence_send(o)
                self._keep_evidence(keep)
                part += 1
                o = w.evidence_start(cand, part, False)
            b = 6 * slot
            a = 0
            while a < axes:
                if stride == 1:
                    v = r[b + a]
                else:  # the mean of stride samples (a box filter before decimating)
                    v = 0
                    m = 0
                    bb = b + a
                    while m < stride:
                        v += r[bb]
                        bb += 6
                        if bb >= qend:
                            bb -= qend
                        m += 1
                    v //= stride
                dv = v - prev[a]
                if -128 < dv < 128:
                    p[o] = dv & 0xFF
                    o += 1
                else:
                    p[o] = protocol.WAVE_ESCAPE
                    p[o + 1] = v & 0xFF
                    p[o + 2] = (v >> 8) & 0xFF
                    o += 3
                prev[a] = v
                a += 1
            slot += stride
            if slot >= ring_n:
                slot -= ring_n
            k += 1
        w.evidence_last(True)
        w.evidence_send(o)
        self._keep_evidence(keep)

    def _keep_evidence(self, keep):
        if keep:
            self._keep()
        elif self.log is not None:
            self.evidence_unlogged += 1

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
        self.evidence(True)

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
        """Start sending every logged record after the cursor (all unacknowledged ones for
        -1); dump_more() sends them between FIFO reads, then the LOG_DUMPED status. A request
        while a dump is under way ends that one with its status for what it sent (every
        request has its answer, in order: the host counts them; acknowledging that part is
        safe, it is the log's start up to its last record) and starts over from its own
        cursor (the host stores records idempotently)."""
        if self._dump is not None:
            self._dump.close()
            self._dump = None
            self.log_status(protocol.LOG_DUMPED, self._dump_sent, self._dump_boot,
                            self._dump_seq)
        self._dump_sent = self._dump_boot = self._dump_seq = 0
        if self.log is None:
            self.log_status(protocol.LOG_DUMPED, 0, 0, 0)
            return
        after = None
        if argument != -1:
            boot_id, seq = protocol.parse_log_cursor(argument)
            after = (self.writer.device_id, boot_id, seq)
        self._dump = self.log.records(after)

    @property
    def dumping(self):
        """True while a log dump is under way (the loop must call dump_more())."""
        return self._dump is not None

    def dump_more(self, ms=DUMP_SLICE_MS):
        """Send the next records of the dump under way: one, then more while less than `ms`
        (device ms) have passed; after the last, the LOG_DUMPED status (count sent, boot id
        and seq of the last). Records appended meanwhile may or may not be part of it (the
        log reads a segment whole: docs/eventlog.md); either way they stay unacknowledged
        until a dump that sent them is acknowledged."""
        it = self._dump
        if it is None:
            return
        clock = self.clock
        start = clock.ticks_ms()
        while True:
            try:
                payload = next(it)
            except StopIteration:
                # Let go of the finished iterator first: its segment buffer is the room
                # that log_status's count() may need to read a segment in.
                it = self._dump = None
                self.log_status(protocol.LOG_DUMPED, self._dump_sent, self._dump_boot,
                                self._dump_seq)
                return
            self.writer.replay(payload)
            _, _, self._dump_boot, self._dump_seq = struct.unpack_from(protocol.HEADER_FMT,
                                                                       payload, 0)
            self._dump_sent += 1
            if clock.ticks_diff(clock.ticks_ms(), start) >= ms:
                return

    def dump_turn(self, n):
        """The loop's turn after a FIFO read of n samples: while a dump is under way, send a
        slice of it (DUMP_SLICE_MS, in the time the loop would nap; one record while the
        FIFO is behind: n == BATCH) and return True (no nap: the dump uses the idle time);
        False when there is no dump."""
        if self._dump is None:
            return False
        self.dump_more(DUMP_SLICE_MS if n < BATCH else 0)
        return True

    def dump_all(self):
        """Finish the dump under way at once (no FIFO to serve: the recording has ended)."""
        while self._dump is not None:
            self.dump_more(1000)

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
