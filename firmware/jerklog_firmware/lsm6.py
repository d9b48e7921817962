"""FIFO driver for ST LSM6DSOX (WHO_AM_I 6Ch) and LSM6DS3TR-C (WHO_AM_I 6Ah).

MicroPython (also runs on CPython for tests).  The accelerometer and the
gyroscope run at the same output data rate and both are batched into the
on-chip FIFO in continuous mode; ``read_into`` drains it into a caller-owned
``array('h')`` without allocating.

Units: rates in Hz; raw accel counts -> milli-g with ``accel_scale``; raw
gyro counts -> tenths of deg/s with ``gyro_scale``.  Both scales are
``(num, shift)`` with ``value = (raw * num) >> shift`` and ``num < 2**15`` so
that ``raw * num`` stays a small int (< 2**30) on 32-bit boards.

Register facts (LSM6DSOX and LSM6DS3TR-C datasheets, "Register description"):
  WHO_AM_I 0Fh; CTRL1_XL 10h (ODR_XL[7:4], FS_XL[3:2]: 00 2 g, 01 16 g,
  10 4 g, 11 8 g); CTRL2_G 11h (ODR_G[7:4], FS_G[3:2]: 250/500/1000/2000 dps,
  FS_125 bit 1); CTRL3_C 12h (BDU bit 6, IF_INC bit 2).  ODR codes 2..10 are
  26, 52, 104, 208, 416, 833, 1666, 3333, 6666 Hz (nominal; the real rate
  differs by the internal oscillator tolerance).
  LSM6DSOX FIFO: FIFO_CTRL1/2 07h/08h watermark WTM[8:0] (words),
  FIFO_CTRL3 09h BDR_GY[7:4] BDR_XL[3:0], FIFO_CTRL4 0Ah FIFO_MODE[2:0]
  (110 = continuous), FIFO_STATUS1/2 3Ah/3Bh (DIFF_FIFO[9:0] words,
  FIFO_OVR_LATCHED bit 3, cleared by reading FIFO_STATUS2), output words of
  7 bytes at FIFO_DATA_OUT_TAG 78h..7Eh: TAG = TAG_SENSOR[7:3] (01h gyro,
  02h accel), TAG_CNT[2:1], parity bit 0, then X, Y, Z little endian.
  LSM6DS3TR-C FIFO: FIFO_CTRL1/2 06h/07h threshold FTH[10:0] (16-bit words),
  FIFO_CTRL3 08h DEC_FIFO_GYRO[5:3] DEC_FIFO_XL[2:0] (001 = no decimation),
  FIFO_CTRL5 0Ah ODR_FIFO[6:3] FIFO_MODE[2:0], FIFO_STATUS1..4 3Ah..3Dh
  (DIFF_FIFO[10:0] words, OVER_RUN bit 6 of 3Bh, FIFO_PATTERN[9:0] = index of
  the next word in the Gx Gy Gz Ax Ay Az pattern), FIFO_DATA_OUT_L/H 3Eh/3Fh.
  Both parts roll the FIFO output address back (7Eh->78h, 3Fh->3Eh) in a
  burst read, so one I2C read fetches many words (as Linux st_lsm6dsx does).
"""

from array import array

from . import fastpath, imu_common

try:
    from micropython import const
except ImportError:
    const = lambda x: x  # noqa: E731

_WHO_AM_I = const(0x0F)
_CTRL1_XL = const(0x10)
_CTRL2_G = const(0x11)
_CTRL3_C = const(0x12)
_CTRL8_XL = const(0x17)
_FIFO_STATUS1 = const(0x3A)
# LSM6DSOX
_OX_FIFO_CTRL1 = const(0x07)
_OX_FIFO_CTRL2 = const(0x08)
_OX_FIFO_CTRL3 = const(0x09)
_OX_FIFO_CTRL4 = const(0x0A)
_OX_FIFO_DATA_OUT_TAG = const(0x78)
_OX_OVR_LATCHED = const(0x08)  # FIFO_STATUS2 bit 3
# LSM6DS3TR-C
_TR_FIFO_CTRL1 = const(0x06)
_TR_FIFO_CTRL2 = const(0x07)
_TR_FIFO_CTRL3 = const(0x08)
_TR_FIFO_CTRL4 = const(0x09)
_TR_FIFO_CTRL5 = const(0x0A)
_TR_FIFO_DATA_OUT_L = const(0x3E)
_TR_OVER_RUN = const(0x40)  # FIFO_STATUS2 bit 6

_ID_DSOX = const(0x6C)
_ID_DS3TRC = const(0x6A)
_ADDRS = (0x6A, 0x6B)  # SA0 low / high

# (ODR in Hz, ODR_XL / ODR_G / BDR / ODR_FIFO code).
_ODR = ((26, 2), (52, 3), (104, 4), (208, 5), (416, 6), (833, 7), (1666, 8), (3333, 9), (6666, 10))
# (full scale g, FS_XL bits, sensitivity in micro-g/LSB), datasheet "Mechanical characteristics".
_XL_FS = ((2, 0, 61), (4, 2, 122), (8, 3, 244), (16, 1, 488))
# (full scale dps, CTRL2_G[3:1] = FS_G<<1 | FS_125, sensitivity in micro-dps/LSB);
# the LSM6DS3TR-C names the 250 dps range 245 dps (same 8.75 mdps/LSB).
_G_FS = ((125, 1, 4375), (250, 0, 8750), (500, 2, 17500), (1000, 4, 35000), (2000, 6, 70000))


class LSM6:
    """LSM6DSOX / LSM6DS3TR-C accel + gyro streamed through the FIFO.

    Attributes: ``chip`` ('LSM6DSOX' or 'LSM6DS3TR-C'), ``addr``,
    ``rate_hz`` (actual ODR, Hz), ``accel_range_g`` (g), ``gyro_range_dps``
    (deg/s), ``accel_scale`` (mg = raw*num >> shift), ``gyro_scale``
    (0.1 deg/s = raw*num >> shift), ``fifo_samples`` (FIFO depth in samples),
    ``overflows`` (samples lost to FIFO overflow, a lower bound: +1 for every
    read that finds the overrun flag set or has to drop a partial sample).
    """

    def __init__(self, i2c, addr=None, rate_hz=208, accel_range_g=8, gyro_range_dps=2000, batch=32):
        if batch < 1:
            raise ValueError("LSM6: batch must be >= 1")
        addr, who = imu_common.probe(i2c, addr, _ADDRS, _WHO_AM_I, "LSM6")
        self.i2c = i2c
        self.addr = addr
        if who == _ID_DSOX:
            self.chip = "LSM6DSOX"
        elif who == _ID_DS3TRC:
            self.chip = "LSM6DS3TR-C"
        else:
            raise ValueError("LSM6: WHO_AM_I 0x%02X at 0x%02X on %s is not an LSM6DSOX/"
                             "LSM6DS3TR-C" % (who, addr, i2c))
        self._tagged = who == _ID_DSOX

        if rate_hz <= 0:
            raise ValueError("LSM6: rate_hz must be > 0")
        odr, code = imu_common.at_least(_ODR, rate_hz, "rate_hz", "LSM6")
        xl = imu_common.at_least(_XL_FS, accel_range_g, "accel_range_g", "LSM6")
        g = imu_common.at_least(_G_FS, gyro_range_dps, "gyro_range_dps", "LSM6")
        self.rate_hz = odr
        self.accel_range_g = xl[0]
        self.gyro_range_dps = g[0]
        self.accel_scale = imu_common.fixed_ratio(xl[2], 1000)  # ug/LSB -> mg
        self.gyro_scale = imu_common.fixed_ratio(g[2], 100000)  # udps/LSB -> 0.1 dps
        self.overflows = 0
        self.batch = batch

        self._b1 = bytearray(1)
        self._wr(_CTRL3_C, 0x44)  # BDU = 1, IF_INC = 1 (BLE = 0: little endian)
        if self._tagged:
            self._wr(_OX_FIFO_CTRL4, 0x00)  # bypass: empties the FIFO
            self._wr(_CTRL8_XL, 0x00)  # XL_FS_MODE = 0 so FS_XL coding above holds
            self._wr(_CTRL1_XL, (code << 4) | (xl[1] << 2))
            self._wr(_CTRL2_G, (code << 4) | (g[1] << 1))
            wtm = min(2 * batch, 511)  # words (one word = tag + 6 bytes)
            self._wr(_OX_FIFO_CTRL1, wtm & 0xFF)
            self._wr(_OX_FIFO_CTRL2, wtm >> 8)  # WTM8; STOP_ON_WTM = 0, no compression
            self._wr(_OX_FIFO_CTRL3, (code << 4) | code)  # BDR_GY, BDR_XL = ODR
            self._wr(_OX_FIFO_CTRL4, 0x06)  # continuous; no temperature/timestamp batching
            self.fifo_samples = 512 // 2  # 512 words without compression (3 kbyte)
            self._st = bytearray(2)
            self._maxw = 2 * batch
            self._buf = bytearray(7 * self._maxw)
            mv = memoryview(self._buf)
            # One view per power of two words (1, 2, 4, ... words): a read of w words takes
            # the largest that fits, then the next, so 7 views serve any w up to 64 (a view
            # per count would be 65 objects: ~1.3 KB of a board's heap).
            c = 1
            views = []
            while c <= self._maxw:
                views.append(mv[: 7 * c])
                c *= 2
            self._views = tuple(views)
            self._pend = array("h", (0, 0, 0, 0, 0, 0))  # half sample carried over
            self._have = 0  # bit 0: gyro pending, bit 1: accel pending
            self._cnt = 0  # TAG_CNT of the pending half
            self._kst = array("i", (0, 0, 0, 0))  # fastpath.fifo_tagged: n, have, cnt, lost
        else:
            self._wr(_TR_FIFO_CTRL5, 0x00)  # bypass: empties the FIFO
            self._wr(_CTRL1_XL, (code << 4) | (xl[1] << 2))
            self._wr(_CTRL2_G, (code << 4) | (g[1] << 1))
            fth = min(6 * batch, 2047)  # 16-bit words
            self._wr(_TR_FIFO_CTRL1, fth & 0xFF)
            self._wr(_TR_FIFO_CTRL2, fth >> 8)  # no temperature / step / timer in FIFO
            self._wr(_TR_FIFO_CTRL3, 0x09)  # gyro and accel, no decimation
            self._wr(_TR_FIFO_CTRL4, 0x00)
            self._wr(_TR_FIFO_CTRL5, (code << 3) | 0x06)  # ODR_FIFO = ODR, continuous
            self.fifo_samples = 682 // 2  # 4 kbyte = 682 six-byte data sets
            self._st = bytearray(4)
            self._w2 = bytearray(2)
            self._buf = bytearray(12 * batch)
            mv = memoryview(self._buf)
            self._views = tuple(mv[: 12 * m] for m in range(batch + 1))
        self.i2c.readfrom_mem_into(self.addr, _FIFO_STATUS1, self._st)  # clear latched flags

    def _wr(self, reg, val):
        self._b1[0] = val
        self.i2c.writeto_mem(self.addr, reg, self._b1)

    def read_into(self, samples):
        """Fill ``samples`` (array('h'), length 6*K) with interleaved raw
        ax, ay, az, gx, gy, gz counts from the FIFO, oldest first; return the
        number of complete samples written (<= K).  Does not allocate."""
        if self._tagged:
            return self._read_tagged(samples)
        return self._read_pattern(samples)

    def _read_tagged(self, samples):
        # LSM6DSOX: words are tagged, so gyro and accel halves are paired by
        # TAG_CNT; a half without its partner (overwritten in continuous mode)
        # is dropped.  A half read before its partner is kept for the next call.
        i2c = self.i2c
        addr = self.addr
        st = self._st
        i2c.readfrom_mem_into(addr, _FIFO_STATUS1, st)
        words = st[0] | ((st[1] & 0x03) << 8)
        ovf = st[1] & _OX_OVR_LATCHED
        if ovf:
            # Continuous mode overwrote the oldest words: what we hold is not
            # contiguous with the FIFO head any more.
            self.overflows += 1
            self._have = 0
        k = len(samples) // 6
        n = 0
        b = self._buf
        p = self._pend
        have = self._have
        cnt = self._cnt
        kernel = fastpath.fifo_tagged
        kst = self._kst
        while n < k and words > 0:
            w = 2 * (k - n)  # enough words for the samples still wanted
            if w > words:
                w = words
            v = 0  # the largest power of two words <= w: 2 ** v
            while (2 << v) <= w and v + 1 < len(self._views):
                v += 1
            w = 1 << v
            i2c.readfrom_mem_into(addr, _OX_FIFO_DATA_OUT_TAG, self._views[v])
            words -= w
            end = 7 * w
            if kernel is not None:  # the loop below as machine code
                kst[0] = n
                kst[1] = have
                kst[2] = cnt
                kst[3] = 0
                n = kernel(b, end, p, samples, kst)
                have = kst[1]
                cnt = kst[2]
                if kst[3] and not ovf:
                    self.overflows += kst[3]
                continue
            o = 0
            while o < end:
                t = b[o]
                s = t >> 3  # TAG_SENSOR: 1 gyro, 2 accel; others are skipped
                if s == 1 or s == 2:
                    c = (t >> 1) & 3
                    if have and (c != cnt or have & s):
                        have = 0  # partner of the pending half was lost
                        if not ovf:
                            self.overflows += 1
                    cnt = c
                    j = 3 if s == 1 else 0
                    p[j] = ((b[o + 2] << 8 | b[o + 1]) ^ 0x8000) - 0x8000
                    p[j + 1] = ((b[o + 4] << 8 | b[o + 3]) ^ 0x8000) - 0x8000
                    p[j + 2] = ((b[o + 6] << 8 | b[o + 5]) ^ 0x8000) - 0x8000
                    have |= s
                    if have == 3:
                        q = 6 * n
                        samples[q] = p[0]
                        samples[q + 1] = p[1]
                        samples[q + 2] = p[2]
                        samples[q + 3] = p[3]
                        samples[q + 4] = p[4]
                        samples[q + 5] = p[5]
                        n += 1
                        have = 0
                o += 7
        self._have = have
        self._cnt = cnt
        return n

    def _read_pattern(self, samples):
        # LSM6DS3TR-C: untagged words; FIFO_PATTERN says where in
        # Gx Gy Gz Ax Ay Az the next word sits.  After an overrun the head can
        # be mid-pattern: skip to the next Gx, dropping that partial sample.
        i2c = self.i2c
        addr = self.addr
        st = self._st
        i2c.readfrom_mem_into(addr, _FIFO_STATUS1, st)
        words = st[0] | ((st[1] & 0x07) << 8)
        ovf = st[1] & _TR_OVER_RUN
        if ovf:
            self.overflows += 1
        skip = (6 - (st[2] | ((st[3] & 0x03) << 8)) % 6) % 6
        if skip and words:
            if skip > words:
                skip = words
            words -= skip
            while skip:
                i2c.readfrom_mem_into(addr, _TR_FIFO_DATA_OUT_L, self._w2)
                skip -= 1
            if not ovf:
                self.overflows += 1
        k = len(samples) // 6
        total = words // 6
        if total > k:
            total = k
        b = self._buf
        n = 0
        while n < total:
            m = total - n
            if m > self.batch:
                m = self.batch
            i2c.readfrom_mem_into(addr, _TR_FIFO_DATA_OUT_L, self._views[m])
            o = 0
            end = 12 * m
            while o < end:
                q = 6 * n
                samples[q + 3] = ((b[o + 1] << 8 | b[o]) ^ 0x8000) - 0x8000
                samples[q + 4] = ((b[o + 3] << 8 | b[o + 2]) ^ 0x8000) - 0x8000
                samples[q + 5] = ((b[o + 5] << 8 | b[o + 4]) ^ 0x8000) - 0x8000
                samples[q] = ((b[o + 7] << 8 | b[o + 6]) ^ 0x8000) - 0x8000
                samples[q + 1] = ((b[o + 9] << 8 | b[o + 8]) ^ 0x8000) - 0x8000
                samples[q + 2] = ((b[o + 11] << 8 | b[o + 10]) ^ 0x8000) - 0x8000
                n += 1
                o += 12
        return n
