"""Fake I2C bus and register-level models of the four IMUs jerklog supports.

Runs on CPython (pytest) and on MicroPython.  The read path
(``readfrom_mem_into``) does not allocate, so the drivers can be checked under
``micropython.heap_lock()`` with a fake chip behind them.

Bus:   ``FakeI2C`` has the ``machine.I2C`` methods the drivers use:
       ``readfrom_mem_into``, ``readfrom_mem``, ``writeto_mem``, ``scan``.
       An address with no chip raises ``OSError(19)`` (ENODEV), as
       ``machine.I2C`` does when nothing ACKs.
Chips: ``FakeLSM6DSOX``, ``FakeLSM6DS3TRC``, ``FakeMPU6050``, ``FakeMPU6886``.
       ``chip.push(ax, ay, az, gx, gy, gz)`` is one output-data-rate tick with
       raw int16 counts; the chip stores it in its FIFO the way its
       configuration registers (written by the driver) say.

What is modelled: register file with auto-increment, WHO_AM_I, the ODR /
full-scale / FIFO configuration registers (decoded by the ``*_hz``, ``*_fs_*``
and ``fifo_mode`` properties so tests can check what the driver programmed),
the FIFO with its status / count registers and the overflow behaviour the
datasheets describe.  What is not: sensor physics, filters, timing (one
``push`` is one sample period, whatever the ODR), decimation or batch rates
different from the ODR, interrupts pins, embedded functions, SPI.  See
docs/drivers.md.
"""

try:
    from micropython import const
except ImportError:
    const = lambda x: x  # noqa: E731

_ENODEV = const(19)

# Nominal ODR code -> Hz for the ST parts (CTRL1_XL ODR_XL, CTRL2_G ODR_G,
# LSM6DSOX FIFO_CTRL3 BDR_*, LSM6DS3TR-C FIFO_CTRL5 ODR_FIFO share the coding).
# 12.5 Hz is reported as 12.
_ST_ODR = (0, 12, 26, 52, 104, 208, 416, 833, 1666, 3333, 6666)
_ST_XL_FS = (2, 16, 4, 8)  # FS_XL[1:0] with XL_FS_MODE = 0
_ST_G_FS = (250, 500, 1000, 2000)  # FS_G[1:0] when FS_125 = 0
_MPU_FS_G = (2, 4, 8, 16)  # ACCEL_CONFIG AFS_SEL
_MPU_FS_DPS = (250, 500, 1000, 2000)  # GYRO_CONFIG FS_SEL


class FakeI2C:
    """Stand-in for ``machine.I2C`` holding fake chips by 7-bit address."""

    def __init__(self, bus_id=0):
        self.bus_id = bus_id
        self._devs = {}
        self.transfers = 0  # number of register read/write transactions

    def __repr__(self):
        return "FakeI2C(%d)" % self.bus_id

    def attach(self, chip, addr=None):
        """Put ``chip`` on the bus at ``addr`` (default: the chip's default address)."""
        if addr is None:
            addr = chip.DEFAULT_ADDR
        self._devs[addr] = chip
        return chip

    def detach(self, addr):
        del self._devs[addr]

    def scan(self):
        return sorted(self._devs)

    def _dev(self, addr):
        d = self._devs.get(addr)
        if d is None:
            raise OSError(_ENODEV)
        return d

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        self._dev(addr).read_into(memaddr, buf)
        self.transfers += 1

    def readfrom_mem(self, addr, memaddr, nbytes, addrsize=8):
        buf = bytearray(nbytes)
        self.readfrom_mem_into(addr, memaddr, buf)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        self._dev(addr).write_from(memaddr, buf)
        self.transfers += 1


class _Chip:
    """Register file + byte ring buffer shared by the chip models."""

    NAME = "?"
    DEFAULT_ADDR = 0
    WHO_AM_I_REG = 0
    WHO_AM_I = 0
    FIFO_BYTES = 0

    def __init__(self, who_am_i=None):
        self.who_am_i = self.WHO_AM_I if who_am_i is None else who_am_i
        self.regs = bytearray(256)
        self._ring = bytearray(self.FIFO_BYTES)
        self._head = 0
        self._count = 0  # bytes in the FIFO
        self._word = bytearray(16)  # scratch used by push()
        self.overwritten = 0  # FIFO units lost to overflow (ground truth)
        self.reset()

    # -- register access (called by FakeI2C; must not allocate) --
    def read_into(self, reg, buf):
        for i in range(len(buf)):
            buf[i] = self._rd(reg)
            reg = self._next(reg)

    def write_from(self, reg, buf):
        for i in range(len(buf)):
            self._wr(reg, buf[i])
            reg = self._next(reg)

    def _rd(self, reg):
        return self.regs[reg]

    def _wr(self, reg, val):
        if reg != self.WHO_AM_I_REG:
            self.regs[reg] = val

    def _next(self, reg):
        return (reg + 1) & 0xFF

    def reset(self):
        for i in range(256):
            self.regs[i] = 0
        self.regs[self.WHO_AM_I_REG] = self.who_am_i
        self._fifo_clear()

    # -- FIFO ring buffer --
    def _fifo_clear(self):
        self._head = 0
        self._count = 0

    def _fifo_peek(self, i):
        return self._ring[(self._head + i) % self.FIFO_BYTES]

    def _fifo_drop(self, n):
        self._head = (self._head + n) % self.FIFO_BYTES
        self._count -= n

    def _fifo_put(self, n, unit, overwrite):
        """Append ``self._word[:n]``.  When full, drop the oldest ``unit`` bytes
        (``overwrite``) or the new data.  Returns the number of units dropped
        from the head (overwrite) or -1 if the new data was discarded."""
        size = self.FIFO_BYTES
        dropped = 0
        if size - self._count < n:
            if not overwrite:
                return -1
            while size - self._count < n:
                self._fifo_drop(unit)
                dropped += 1
            self.overwritten += dropped
        tail = (self._head + self._count) % size
        for i in range(n):
            self._ring[tail] = self._word[i]
            tail = (tail + 1) % size
        self._count += n
        return dropped

    def push_many(self, samples):
        """Push an iterable of (ax, ay, az, gx, gy, gz) raw int16 tuples."""
        for s in samples:
            self.push(s[0], s[1], s[2], s[3], s[4], s[5])


def _le(buf, i, v):
    buf[i] = v & 0xFF
    buf[i + 1] = (v >> 8) & 0xFF


def _be(buf, i, v):
    buf[i] = (v >> 8) & 0xFF
    buf[i + 1] = v & 0xFF


class _FakeST(_Chip):
    """Common part of the ST models: WHO_AM_I at 0Fh, CTRL3_C IF_INC, ODR/FS decode."""

    DEFAULT_ADDR = 0x6A  # SA0 low; 0x6B with SA0 high
    WHO_AM_I_REG = 0x0F

    @property
    def fifo_mode(self):
        """FIFO_MODE bits of FIFO_CTRL (0Ah on both parts)."""
        return {0: "bypass", 1: "fifo", 6: "continuous"}.get(self.regs[0x0A] & 7, "other")

    def reset(self):
        _Chip.reset(self)
        self.regs[0x12] = 0x04  # CTRL3_C: IF_INC = 1 (datasheet default)

    def _wr(self, reg, val):
        if reg == 0x12 and val & 0x01:  # CTRL3_C SW_RESET
            self.reset()
            return
        _Chip._wr(self, reg, val)

    def _inc(self, reg):
        return reg if not (self.regs[0x12] & 0x04) else (reg + 1) & 0xFF

    def _out(self, ax, ay, az, gx, gy, gz):
        r = self.regs  # OUTX_L_G 22h .. OUTZ_H_A 2Dh, little endian
        for i, v in ((0x22, gx), (0x24, gy), (0x26, gz), (0x28, ax), (0x2A, ay), (0x2C, az)):
            _le(r, i, v)

    @property
    def accel_odr_hz(self):
        return _ST_ODR[self.regs[0x10] >> 4] if self.regs[0x10] >> 4 <= 10 else -1

    @property
    def gyro_odr_hz(self):
        return _ST_ODR[self.regs[0x11] >> 4] if self.regs[0x11] >> 4 <= 10 else -1

    @property
    def accel_fs_g(self):
        return _ST_XL_FS[(self.regs[0x10] >> 2) & 3]

    @property
    def gyro_fs_dps(self):
        g = self.regs[0x11]
        return 125 if g & 0x02 else _ST_G_FS[(g >> 2) & 3]


class FakeLSM6DSOX(_FakeST):
    """LSM6DSOX: tagged FIFO of 7-byte words (TAG + 6 data bytes), 512 words.

    FIFO_DATA_OUT_TAG 78h .. FIFO_DATA_OUT_Z_H 7Eh; a burst read rolls from 7Eh
    back to 78h and each completed 7-byte word is popped.  FIFO_STATUS1/2
    (3Ah/3Bh): DIFF_FIFO[9:0] unread words, FIFO_OVR_LATCHED (bit 3, cleared
    when FIFO_STATUS2 is read), FIFO_FULL_IA (5), FIFO_OVR_IA (6, FIFO
    completely filled), FIFO_WTM_IA (7).  Continuous mode (FIFO_CTRL4 mode
    110) overwrites the oldest word when full; FIFO mode (001) stops.
    Each push writes a gyro word (tag 01h) then an accel word (tag 02h) with
    the same 2-bit TAG_CNT (``gyro_first=False`` swaps the order).
    """

    NAME = "LSM6DSOX"
    WHO_AM_I = 0x6C
    WORDS = 512
    FIFO_BYTES = 512 * 7

    def __init__(self, who_am_i=None, gyro_first=True):
        self.gyro_first = gyro_first
        _FakeST.__init__(self, who_am_i)

    def reset(self):
        _FakeST.reset(self)
        self._ovr_latched = 0
        self._tag_cnt = 0

    @property
    def fifo_words(self):
        return self._count // 7

    @property
    def fifo_bdr_hz(self):
        """(accel BDR, gyro BDR) in Hz from FIFO_CTRL3."""
        c = self.regs[0x09]
        return (_ST_ODR[c & 0x0F] if c & 0x0F <= 10 else -1,
                _ST_ODR[c >> 4] if c >> 4 <= 10 else -1)

    def _next(self, reg):
        if reg == 0x7E and self.regs[0x12] & 0x04:
            return 0x78  # FIFO output address rolls back for burst reads
        return self._inc(reg)

    def _rd(self, reg):
        if reg == 0x3A:
            return (self._count // 7) & 0xFF
        if reg == 0x3B:
            words = self._count // 7
            wtm = self.regs[0x07] | ((self.regs[0x08] & 0x01) << 8)
            v = (words >> 8) & 0x03
            v |= self._ovr_latched << 3
            v |= 0x20 if words + 2 > self.WORDS else 0  # full at next ODR
            v |= 0x40 if words == self.WORDS else 0  # completely filled
            v |= 0x80 if wtm and words >= wtm else 0
            self._ovr_latched = 0
            return v
        if 0x78 <= reg <= 0x7E:
            if self._count < 7:
                return 0
            v = self._fifo_peek(reg - 0x78)
            if reg == 0x7E:
                self._fifo_drop(7)
            return v
        return self.regs[reg]

    def _wr(self, reg, val):
        if reg in (0x3A, 0x3B) or 0x78 <= reg <= 0x7E:
            return  # read-only
        _FakeST._wr(self, reg, val)
        if reg == 0x0A and (val & 7) == 0:
            self._fifo_clear()  # bypass mode empties the FIFO

    def _put(self, sensor, cnt, x, y, z, mode):
        w = self._word
        t = (sensor << 3) | (cnt << 1)
        p = t ^ (t >> 4)  # TAG_PARITY (bit 0): even parity over the byte
        p ^= p >> 2
        p ^= p >> 1
        w[0] = t | (p & 1)
        _le(w, 1, x)
        _le(w, 3, y)
        _le(w, 5, z)
        if self._fifo_put(7, 7, mode == 6) != 0:
            self._ovr_latched = 1

    def push(self, ax, ay, az, gx, gy, gz):
        """One ODR tick: raw int16 counts."""
        self._out(ax, ay, az, gx, gy, gz)
        mode = self.regs[0x0A] & 7
        if mode not in (1, 6):
            return  # bypass (or a trigger mode this fake does not model)
        cnt = self._tag_cnt
        self._tag_cnt = (cnt + 1) & 3
        bdr = self.regs[0x09]
        g_on = (bdr >> 4) and (self.regs[0x11] >> 4)
        a_on = (bdr & 0x0F) and (self.regs[0x10] >> 4)
        if self.gyro_first:
            if g_on:
                self._put(0x01, cnt, gx, gy, gz, mode)
            if a_on:
                self._put(0x02, cnt, ax, ay, az, mode)
        else:
            if a_on:
                self._put(0x02, cnt, ax, ay, az, mode)
            if g_on:
                self._put(0x01, cnt, gx, gy, gz, mode)


class FakeLSM6DS3TRC(_FakeST):
    """LSM6DS3TR-C: untagged FIFO of 16-bit words, 4 kbyte = 682 data sets.

    Per FIFO ODR tick the gyro data set (Gx, Gy, Gz) then the accel data set
    (Ax, Ay, Az) is stored; FIFO_STATUS3/4 (3Ch/3Dh) FIFO_PATTERN gives the
    pattern index of the next word read.  FIFO_DATA_OUT_L/H (3Eh/3Fh), burst
    reads roll from 3Fh back to 3Eh.  FIFO_STATUS1/2 (3Ah/3Bh): DIFF_FIFO[10:0]
    unread words, FIFO_EMPTY (bit 4), FIFO_FULL_SMART (5), OVER_RUN (6: FIFO
    completely filled and data overwritten), WaterM (7).  Continuous mode
    (FIFO_CTRL5 mode 110) overwrites the oldest data set (assumed
    granularity: one 6-byte data set); FIFO mode (001) stops when full.
    """

    NAME = "LSM6DS3TR-C"
    WHO_AM_I = 0x6A
    SETS = 682
    FIFO_BYTES = 682 * 6

    def reset(self):
        _FakeST.reset(self)
        self._pat = 0
        self._patlen = 6
        self._ovr = 0

    @property
    def fifo_words(self):
        return self._count // 2

    @property
    def fifo_odr_hz(self):
        c = (self.regs[0x0A] >> 3) & 0x0F
        return _ST_ODR[c] if c <= 10 else -1

    def _next(self, reg):
        if reg == 0x3F and self.regs[0x12] & 0x04:
            return 0x3E  # FIFO output address rolls back for burst reads
        return self._inc(reg)

    def _rd(self, reg):
        if reg == 0x3A:
            return (self._count >> 1) & 0xFF
        if reg == 0x3B:
            words = self._count >> 1
            fth = self.regs[0x06] | ((self.regs[0x07] & 0x07) << 8)
            v = (words >> 8) & 0x07
            v |= 0x10 if words == 0 else 0
            v |= 0x20 if self._count + 2 * 6 > self.FIFO_BYTES else 0
            v |= 0x40 if self._ovr and self._count == self.FIFO_BYTES else 0
            v |= 0x80 if fth and words >= fth else 0
            return v
        if reg == 0x3C:
            return self._pat & 0xFF
        if reg == 0x3D:
            return (self._pat >> 8) & 0x03
        if reg == 0x3E or reg == 0x3F:
            if self._count < 2:
                return 0
            v = self._fifo_peek(reg - 0x3E)
            if reg == 0x3F:
                self._fifo_drop(2)
                self._pat = (self._pat + 1) % self._patlen
                self._ovr = 0
            return v
        return self.regs[reg]

    def _wr(self, reg, val):
        if 0x3A <= reg <= 0x3F:
            return  # read-only
        _FakeST._wr(self, reg, val)
        if reg == 0x0A and (val & 7) == 0:
            self._fifo_clear()  # bypass mode empties the FIFO
            self._pat = 0
            self._ovr = 0

    def _put(self, x, y, z, mode):
        w = self._word
        _le(w, 0, x)
        _le(w, 2, y)
        _le(w, 4, z)
        d = self._fifo_put(6, 6, mode == 6)
        if d > 0:
            self._ovr = 1
            self._pat = (self._pat + 3 * d) % self._patlen

    def push(self, ax, ay, az, gx, gy, gz):
        """One FIFO ODR tick: raw int16 counts."""
        self._out(ax, ay, az, gx, gy, gz)
        mode = self.regs[0x0A] & 7
        if mode not in (1, 6) or not (self.regs[0x0A] >> 3) & 0x0F:
            return  # bypass / ODR_FIFO off (or a mode this fake does not model)
        dec = self.regs[0x08]
        dxl, dg = dec & 7, (dec >> 3) & 7
        if dxl > 1 or dg > 1:
            raise NotImplementedError("FIFO decimation is not modelled")
        g_on = dg and (self.regs[0x11] >> 4)
        a_on = dxl and (self.regs[0x10] >> 4)
        self._patlen = 3 * ((1 if g_on else 0) + (1 if a_on else 0)) or 6
        if g_on:
            self._put(gx, gy, gz, mode)
        if a_on:
            self._put(ax, ay, az, mode)


class FakeMPU6050(_Chip):
    """InvenSense MPU-6050: 1024-byte FIFO, big-endian data.

    FIFO_EN (23h) selects what each sample writes, in register order
    (ACCEL 3Bh-40h, TEMP 41h-42h, GYRO 43h-48h).  USER_CTRL (6Ah) FIFO_EN
    bit 6, FIFO_RESET bit 2 (only while FIFO_EN = 0, self-clearing).
    FIFO_COUNT_H/L (72h/73h) is latched when the high byte is read.
    FIFO_R_W (74h) burst reads stay on 74h; reading an empty FIFO returns
    the last byte read.  On overflow the oldest byte is lost and the new data
    written, and INT_STATUS (3Ah) FIFO_OFLOW_INT (bit 4) is set (modelled only
    when INT_ENABLE FIFO_OFLOW_EN is set); INT_STATUS clears on read.
    PWR_MGMT_1 resets to 40h (sleep): no samples until the driver wakes it.
    """

    NAME = "MPU-6050"
    DEFAULT_ADDR = 0x68  # AD0 low; 0x69 with AD0 high
    WHO_AM_I_REG = 0x75
    WHO_AM_I = 0x68
    FIFO_BYTES = 1024
    TEMP_RAW = -3920  # ~25 degC (T = raw / 340 + 36.53)

    def reset(self):
        _Chip.reset(self)
        self.regs[0x6B] = 0x40
        self._int_status = 0
        self._count_latch = 0
        self._last = 0

    @property
    def fifo_bytes(self):
        return self._count

    @property
    def odr_hz(self):
        """Sample rate in Hz: gyro output rate / (1 + SMPLRT_DIV)."""
        dlpf = self.regs[0x1A] & 7
        base = 1000 if 0 < dlpf < 7 else 8000
        return base // (1 + self.regs[0x19])

    @property
    def accel_fs_g(self):
        return _MPU_FS_G[(self.regs[0x1C] >> 3) & 3]

    @property
    def gyro_fs_dps(self):
        return _MPU_FS_DPS[(self.regs[0x1B] >> 3) & 3]

    @property
    def fifo_enabled(self):
        return bool(self.regs[0x6A] & 0x40)

    def _next(self, reg):
        return reg if reg == 0x74 else (reg + 1) & 0xFF

    def _rd(self, reg):
        if reg == 0x3A:
            v = self._int_status
            self._int_status = 0
            return v
        if reg == 0x72:
            self._count_latch = self._count
            return (self._count >> 8) & 0xFF
        if reg == 0x73:
            return self._count_latch & 0xFF
        if reg == 0x74:
            if self._count:
                self._last = self._fifo_peek(0)
                self._fifo_drop(1)
            return self._last
        return self.regs[reg]

    def _fifo_reset_ok(self, val):
        return not (val & 0x40)  # MPU-6050: FIFO_RESET acts while FIFO_EN = 0

    def _wr(self, reg, val):
        if reg in (0x3A, 0x72, 0x73, 0x74):
            return
        if reg == 0x6B and val & 0x80:  # DEVICE_RESET
            self.reset()
            return
        if reg == 0x6A:
            if val & 0x04 and self._fifo_reset_ok(val):
                self._fifo_clear()
            val &= ~0x04  # reset bit clears itself
        _Chip._wr(self, reg, val)

    def _frame(self, ax, ay, az, gx, gy, gz):
        """Fill self._word with the FIFO record; return its length."""
        en = self.regs[0x23]
        w = self._word
        n = 0
        if en & 0x08:
            _be(w, 0, ax)
            _be(w, 2, ay)
            _be(w, 4, az)
            n = 6
        if en & 0x80:
            _be(w, n, self.TEMP_RAW)
            n += 2
        for bit, v in ((0x40, gx), (0x20, gy), (0x10, gz)):
            if en & bit:
                _be(w, n, v)
                n += 2
        return n

    def _overwrite(self):
        return True  # MPU-6050 always keeps the newest data

    def push(self, ax, ay, az, gx, gy, gz):
        """One sample period: raw int16 counts."""
        r = self.regs
        for i, v in ((0x3B, ax), (0x3D, ay), (0x3F, az), (0x43, gx), (0x45, gy), (0x47, gz)):
            _be(r, i, v)
        _be(r, 0x41, self.TEMP_RAW)
        if r[0x6B] & 0x40 or not r[0x6A] & 0x40:
            return  # asleep, or FIFO disabled
        n = self._frame(ax, ay, az, gx, gy, gz)
        if not n:
            return
        if self._overwrite():
            if self._fifo_put(n, 1, True) > 0 and r[0x38] & 0x10:
                self._int_status |= 0x10
        elif self._fifo_put(n, 1, False) < 0:
            # MPU6886 FIFO_MODE = 1: a record that does not fit is not written
            # (assumed whole-record; the datasheet only says "not written").
            self.overwritten += n
            if r[0x38] & 0x10:
                self._int_status |= 0x10


class FakeMPU6886(FakeMPU6050):
    """InvenSense MPU6886 (WHO_AM_I 19h): like the MPU-6050 model, except

    * FIFO_EN (23h) has GYRO_FIFO_EN (bit 4) and ACCEL_FIFO_EN (bit 3); with
      either set the record also carries TEMP_OUT, so accel+gyro gives the
      14-byte record ACCEL(6) TEMP(2) GYRO(6) (as M5Stack's driver parses it);
    * CONFIG (1Ah) bit 6 FIFO_MODE: 1 = when full, further records are not
      written (modelled as whole records), 0 = the oldest data is replaced;
    * USER_CTRL FIFO_RST (bit 2) resets the FIFO regardless of FIFO_EN.
    """

    NAME = "MPU6886"
    WHO_AM_I = 0x19
    TEMP_RAW = 0  # 25 degC (T = raw / 326.8 + 25)

    def _fifo_reset_ok(self, val):
        return True

    def _frame(self, ax, ay, az, gx, gy, gz):
        en = self.regs[0x23]
        w = self._word
        n = 0
        if en & 0x08:
            _be(w, 0, ax)
            _be(w, 2, ay)
            _be(w, 4, az)
            n = 6
        if en & 0x18:
            _be(w, n, self.TEMP_RAW)
            n += 2
        if en & 0x10:
            _be(w, n, gx)
            _be(w, n + 2, gy)
            _be(w, n + 4, gz)
            n += 6
        return n

    def _overwrite(self):
        return not (self.regs[0x1A] & 0x40)


CHIPS = (FakeLSM6DSOX, FakeLSM6DS3TRC, FakeMPU6050, FakeMPU6886)
