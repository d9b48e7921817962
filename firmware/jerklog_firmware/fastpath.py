"""Viper kernels for the board's byte-heavy loops, compiled on the board at import.

Four loops dominate the firmware's cost per byte or per value, not per decision: the frame's
CRC-16 and COBS (every record, ~800 bytes per candidate's evidence), the on-board log's copy
and CRC of each record, the evidence waveform's encoder (624 values per candidate at 208 Hz)
and the copy of each FIFO batch into the evidence ring. In bytecode they cost ~0.35 us a
frame byte on this machine's unix port; as `@micropython.viper` (machine integers, raw
buffer pointers) ~0.007. They do exactly what the bytecode in protocol.py, eventlog.py and
app.py does (the same bytes: tests/firmware/test_fastpath.py), which stays as the fallback.

Why compiled from a string at import, not written as module code: a viper function in a module
makes that module uncompilable by `mpy-cross` without `-march=<the board's architecture>`,
and the deploy compiles the package to bytecode-only `.mpy` (docs/deploy.md). Source held in
a string survives that compilation, and the board's own compiler (rp2: armv6m, esp32:
xtensawin, nRF52840: armv7emsp; each port enables its native emitter) turns it into machine
code here. Cost: ~2 KB of source kept, the compiler's temporary heap once at import, and the
machine code (~1.5 KB) in RAM.

Where the port has no native emitter (or no compiler), CPython (the host imports the firmware
too) or the compile fails for any reason, the names below are None and the callers run their
bytecode loops. `ENABLED` says which it is. Values stay far inside 31 bits (bytes, offsets
below 200, sums of at most 16 int16 samples), so machine-word arithmetic gives the same
results as Python's ints.
"""
import sys

# SOURCE holds no comments (a string stays in RAM): what each kernel does.
# frame_into(p, n, f, t) -> frame length: the CRC-16/CCITT-FALSE of p[0:n] (table t, array 'H')
#   into p[n], p[n + 1] little-endian, then f = 0x00, COBS(p[0:n + 2]), 0x00
#   (FrameWriter._send).
# record_into(p, n, fr, t): the on-board log's record: fr = n, p[0:n], CRC-16 of p[0:n]
#   little-endian (EventLog.append).
# ring_copy(s, j, jend, r, q, qend) -> ring index after: s[j:jend] (array 'h') into the ring
#   r (array 'h' of qend values) from index q, wrapping (app._ring_copy).
# wave_part(r, st, prev, p, stride, axes, qend, end, n): encodes waveform samples st[1]..n-1
#   into p from offset st[0] (int8 deltas from prev, an array 'h'; 0x80 + int16 escape),
#   each the mean of `stride` ring samples from ring index st[2] (6 values a sample), until
#   the part is full (offset > end) or all n are done; st gets the offset, the count and the
#   ring index after (app.BoardLoop._send_evidence). ptr16 reads are unsigned: each value is
#   sign-extended ((x ^ 0x8000) - 0x8000); a power-of-two stride divides by a shift (a floor,
#   as Python's //, which viper calls a helper for).
SOURCE = """
@micropython.viper
def frame_into(p, n: int, f, t) -> int:
    src = ptr8(p)
    dst = ptr8(f)
    tab = ptr16(t)
    crc = 0xFFFF
    i = 0
    while i < n:
        crc = ((crc & 0xFF) << 8) ^ tab[(crc >> 8) ^ src[i]]
        i += 1
    src[n] = crc & 0xFF
    src[n + 1] = crc >> 8
    dst[0] = 0
    code_at = 1
    code = 1
    o = 2
    i = 0
    m = n + 2
    while i < m:
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
    dst[o] = 0
    return o + 1

@micropython.viper
def record_into(p, n: int, fr, t):
    src = ptr8(p)
    dst = ptr8(fr)
    tab = ptr16(t)
    dst[0] = n
    crc = 0xFFFF
    i = 0
    while i < n:
        b = src[i]
        dst[i + 1] = b
        crc = ((crc & 0xFF) << 8) ^ tab[(crc >> 8) ^ b]
        i += 1
    dst[n + 1] = crc & 0xFF
    dst[n + 2] = crc >> 8

@micropython.viper
def ring_copy(s, j: int, jend: int, r, q: int, qend: int) -> int:
    a = ptr16(s)
    b = ptr16(r)
    while j < jend:
        b[q] = a[j]
        q += 1
        if q == qend:
            q = 0
        j += 1
    return q

@micropython.viper
def wave_part(r, st, prev, p, stride: int, axes: int, qend: int, end: int, n: int):
    ring = ptr16(r)
    s = ptr32(st)
    pv = ptr16(prev)
    out = ptr8(p)
    o = s[0]
    k = s[1]
    b = s[2]
    step = 6 * stride
    sh = -1
    if (stride & (stride - 1)) == 0:
        sh = 0
        x = stride
        while x > 1:
            x >>= 1
            sh += 1
    while k < n:
        if o > end:
            break
        a = 0
        while a < axes:
            bb = b + a
            v = 0
            m = 0
            while m < stride:
                v += (int(ring[bb]) ^ 0x8000) - 0x8000
                bb += 6
                if bb >= qend:
                    bb -= qend
                m += 1
            if sh > 0:
                v = v >> sh
            elif sh < 0:
                v = v // stride
            dv = v - ((int(pv[a]) ^ 0x8000) - 0x8000)
            if dv > -128 and dv < 128:
                out[o] = dv & 0xFF
                o += 1
            else:
                out[o] = 0x80
                out[o + 1] = v & 0xFF
                out[o + 2] = (v >> 8) & 0xFF
                o += 3
            pv[a] = v
            a += 1
        b += step
        if b >= qend:
            b -= qend
        k += 1
    s[0] = o
    s[1] = k
    s[2] = b
"""

frame_into = record_into = ring_copy = wave_part = None
ENABLED = False
if sys.implementation.name == "micropython":
    try:
        _ns = {}
        exec(SOURCE, _ns)
        frame_into = _ns["frame_into"]
        record_into = _ns["record_into"]
        ring_copy = _ns["ring_copy"]
        wave_part = _ns["wave_part"]
        ENABLED = True
        del _ns
    except Exception:  # no native emitter (SyntaxError), no compiler, no room: bytecode
        frame_into = record_into = ring_copy = wave_part = None
