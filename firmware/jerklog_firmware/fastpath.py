"""Viper kernels for the board's per-byte and per-sample loops, compiled on the board at import.

Four loops dominate the firmware's cost per byte or per value, not per decision: the frame's
CRC-16 and COBS (every record, ~800 bytes per candidate's evidence), the on-board log's copy
and CRC of each record, the evidence waveform's encoder (624 values per candidate at 208 Hz)
and the copy of each FIFO batch into the evidence ring. In bytecode they cost ~0.35 us a
frame byte on this machine's unix port; as `@micropython.viper` (machine integers, raw
buffer pointers) ~0.007. Three more run once a sample (issue 14: on the emulated Pico the
per-sample path cost 60,000-67,000 cycles a sample in bytecode): the LSM6DSOX's tagged FIFO
words paired into samples, the scaling and time stamps of each sample, and the detector's
quiet samples (Detector.skim: baselines, bin maximum, humps, the end of a movement; every
decision stays in detector.py's bytecode). They do exactly what the bytecode in protocol.py,
eventlog.py, app.py, lsm6.py, board_imu.py and detector.py does (the same bytes, samples and
state: tests/firmware/test_fastpath.py), which stays as the fallback.

Why compiled from a string at import, not written as module code: a viper function in a module
makes that module uncompilable by `mpy-cross` without `-march=<the board's architecture>`,
and the deploy compiles the package to bytecode-only `.mpy` (docs/deploy.md). Source held in
a string survives that compilation, and the board's own compiler (rp2: armv6m, esp32:
xtensawin, nRF52840: armv7emsp; each port enables its native emitter) turns it into machine
code here. Cost: the compiler's temporary heap once at import (the source, ~8 KB, is let go
once compiled) and the machine code in RAM.

Where the port has no native emitter (or no compiler), CPython (the host imports the firmware
too) or the compile fails for any reason, the names below are None and the callers run their
bytecode loops. `ENABLED` says which it is. Values stay inside 31 bits (bytes, offsets
below 200, sums of at most 16 int16 samples, times below 2**31 ms, the detector's baselines
and squared magnitudes below 2**30), so machine-word arithmetic gives the same results as
Python's ints.
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
#   as Python's //, which viper calls a helper for). ptr32 loads are unsigned too (>> would be
#   a logical shift): every one is cast with int().
# fifo_tagged(b, end, p, out, st) -> samples in out: the LSM6DSOX's tagged FIFO words in
#   b[0:end] (7 bytes each: tag, x, y, z little-endian) paired into samples by TAG_CNT
#   (lsm6.LSM6._read_tagged's inner loop): p (array 'h' of 6) holds the half sample
#   carried over; st (array 'i') = [n, have, cnt, lost] in and out, out (array 'h') gets
#   ax ay az gx gy gz from index 6 n on. Halves arrive as raw int16 bits and are stored so.
# scale_stamp(x, tm, n, sc, up, rate, last) -> last time: board_imu.ImuBoard.read_into's
#   loop: x[0:6 n] (array 'h', raw counts) scaled in place by sc (array 'i': accel num,
#   shift, gyro num, shift) as (raw * num) >> shift, and tm[i] (array 'i') = up -
#   (n - 1 - i) * 1000 // rate pushed to at least last + 1.
# skim(tm, x, i, end, k) -> the first sample index it did not take: Detector.update for
#   samples i.. of tm (ms, array 'i') and x (6 values a sample, array 'h') while they change
#   nothing but the baselines, the bin maximum, the humps and MOVING's end (detector.skim
#   calls it only in IDLE or MOVING with no jerk waiting and no event ready); it stops
#   before a sample at or after k[19] (the bin's end or a heartbeat) and before one that
#   opens a candidate. k (array 'i'): the detector's state in and out (Detector.skim);
#   k[21] = SIGN_SHIFT sign-extends the baselines, which can be negative (a ptr32 load
#   zero-extends where the machine word is 64 bits: the unix port).
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

@micropython.viper
def fifo_tagged(b, end: int, p, out, st) -> int:
    src = ptr8(b)
    pd = ptr16(p)
    dst = ptr16(out)
    v = ptr32(st)
    n = int(v[0])
    have = int(v[1])
    cnt = int(v[2])
    lost = int(v[3])
    o = 0
    while o < end:
        t = src[o]
        s = t >> 3
        if s == 1 or s == 2:
            c = (t >> 1) & 3
            if have != 0 and (c != cnt or (have & s) != 0):
                have = 0
                lost += 1
            cnt = c
            j = 0
            if s == 1:
                j = 3
            pd[j] = src[o + 1] | (src[o + 2] << 8)
            pd[j + 1] = src[o + 3] | (src[o + 4] << 8)
            pd[j + 2] = src[o + 5] | (src[o + 6] << 8)
            have |= s
            if have == 3:
                q = 6 * n
                dst[q] = pd[0]
                dst[q + 1] = pd[1]
                dst[q + 2] = pd[2]
                dst[q + 3] = pd[3]
                dst[q + 4] = pd[4]
                dst[q + 5] = pd[5]
                n += 1
                have = 0
        o += 7
    v[0] = n
    v[1] = have
    v[2] = cnt
    v[3] = lost
    return n

@micropython.viper
def scale_stamp(x, tm, n: int, sc, up: int, rate: int, last: int) -> int:
    s = ptr16(x)
    tt = ptr32(tm)
    c = ptr32(sc)
    an = int(c[0])
    ash = int(c[1])
    gn = int(c[2])
    gsh = int(c[3])
    i = 0
    j = 0
    while i < n:
        s[j] = (((int(s[j]) ^ 0x8000) - 0x8000) * an) >> ash
        s[j + 1] = (((int(s[j + 1]) ^ 0x8000) - 0x8000) * an) >> ash
        s[j + 2] = (((int(s[j + 2]) ^ 0x8000) - 0x8000) * an) >> ash
        s[j + 3] = (((int(s[j + 3]) ^ 0x8000) - 0x8000) * gn) >> gsh
        s[j + 4] = (((int(s[j + 4]) ^ 0x8000) - 0x8000) * gn) >> gsh
        s[j + 5] = (((int(s[j + 5]) ^ 0x8000) - 0x8000) * gn) >> gsh
        t = up - (n - 1 - i) * 1000 // rate
        if t <= last:
            t = last + 1
        tt[i] = t
        last = t
        i += 1
        j += 6
    return last
@micropython.viper
def skim(tm, x, i: int, end: int, k) -> int:
    tt = ptr32(tm)
    s = ptr16(x)
    v = ptr32(k)
    bx = int(v[0])
    by = int(v[1])
    bz = int(v[2])
    hx = int(v[3])
    hy = int(v[4])
    hz = int(v[5])
    bmax = int(v[6])
    above = int(v[7])
    rises = int(v[8])
    state = int(v[9])
    tlast = int(v[10])
    quiet = int(v[11])
    kb = int(v[12])
    kg = int(v[13])
    hump2 = int(v[14])
    trig2 = int(v[15])
    low2 = int(v[16])
    hold = int(v[17])
    refr = int(v[18])
    stop = int(v[19])
    clamp = int(v[20])
    w = int(v[21])
    bx = (bx << w) >> w
    by = (by << w) >> w
    bz = (bz << w) >> w
    hx = (hx << w) >> w
    hy = (hy << w) >> w
    hz = (hz << w) >> w
    j = i
    while j < end:
        t = int(tt[j])
        if t >= stop:
            break
        q = 6 * j
        ax = (int(s[q]) ^ 0x8000) - 0x8000
        ay = (int(s[q + 1]) ^ 0x8000) - 0x8000
        az = (int(s[q + 2]) ^ 0x8000) - 0x8000
        dx = ax - (bx >> kb)
        dy = ay - (by >> kb)
        dz = az - (bz >> kb)
        if dx > clamp:
            dx = clamp
        elif dx < 0 - clamp:
            dx = 0 - clamp
        if dy > clamp:
            dy = clamp
        elif dy < 0 - clamp:
            dy = 0 - clamp
        if dz > clamp:
            dz = clamp
        elif dz < 0 - clamp:
            dz = 0 - clamp
        m2 = dx * dx + dy * dy + dz * dz
        if state == 0 and m2 >= trig2 and t >= quiet:
            break
        if m2 > bmax:
            bmax = m2
        if m2 >= hump2:
            if above == 0:
                above = 1
                rises += 1
        elif above != 0:
            above = 0
        bx += ax - (bx >> kb)
        by += ay - (by >> kb)
        bz += az - (bz >> kb)
        hx += ((int(s[q + 3]) ^ 0x8000) - 0x8000) - (hx >> kg)
        hy += ((int(s[q + 4]) ^ 0x8000) - 0x8000) - (hy >> kg)
        hz += ((int(s[q + 5]) ^ 0x8000) - 0x8000) - (hz >> kg)
        if state != 0:
            if m2 < low2:
                if t - tlast >= hold:
                    state = 0
                    quiet = t + refr
            else:
                tlast = t
        j += 1
    v[0] = bx
    v[1] = by
    v[2] = bz
    v[3] = hx
    v[4] = hy
    v[5] = hz
    v[6] = bmax
    v[7] = above
    v[8] = rises
    v[9] = state
    v[10] = tlast
    v[11] = quiet
    return j
"""

frame_into = record_into = ring_copy = wave_part = fifo_tagged = scale_stamp = skim = None
ENABLED = False
SIGN_SHIFT = 32 if sys.maxsize > 0x7FFFFFFF else 0  # machine word bits - 32
if sys.implementation.name == "micropython":
    try:
        _ns = {}
        exec(SOURCE, _ns)
        frame_into = _ns["frame_into"]
        record_into = _ns["record_into"]
        ring_copy = _ns["ring_copy"]
        wave_part = _ns["wave_part"]
        fifo_tagged = _ns["fifo_tagged"]
        scale_stamp = _ns["scale_stamp"]
        skim = _ns["skim"]
        ENABLED = True
        del _ns
    except Exception:  # no native emitter (SyntaxError), no compiler, no room: bytecode
        frame_into = record_into = ring_copy = wave_part = fifo_tagged = scale_stamp = skim = None
    SOURCE = None  # ~6 KB of RAM back once compiled (a board loads the .mpy into RAM)
