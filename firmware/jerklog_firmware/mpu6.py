"""FIFO driver for InvenSense MPU-6050 (WHO_AM_I 68h) and MPU6886 (WHO_AM_I 19h).

MicroPython (also runs on CPython for tests).  Same interface as ``lsm6.LSM6``:
accel + gyro are written to the 1 kbyte on-chip FIFO at the sample rate and
``read_into`` drains it into a caller-owned ``array('h')`` without allocating.

Units: rates in Hz; raw accel counts -> milli-g with ``accel_scale``; raw
gyro counts -> tenths of deg/s with ``gyro_scale``; both ``(num, shift)`` with
``value = (raw * num) >> shift`` and ``num < 2**15``.

Register facts (MPU-6000/6050 Register Map rev 4.2; MPU-6886 datasheet):
  SMPLRT_DIV 19h: sample rate = gyro output rate / (1 + SMPLRT_DIV), the
  gyro output rate being 1 kHz when CONFIG DLPF_CFG is 1..6.  CONFIG 1Ah
  DLPF_CFG[2:0] (MPU6886: bit 6 FIFO_MODE, 0 = overwrite oldest when full).
  GYRO_CONFIG 1Bh FS_SEL[4:3] 250/500/1000/2000 dps = 131/65.5/32.8/16.4
  LSB/(deg/s); ACCEL_CONFIG 1Ch AFS_SEL[4:3] 2/4/8/16 g = 16384/8192/4096/2048
  LSB/g; MPU6886 ACCEL_CONFIG2 1Dh A_DLPF_CFG[2:0].
  FIFO_EN 23h: MPU-6050 TEMP(7) XG(6) YG(5) ZG(4) ACCEL(3) -> we use 78h, a
  12-byte record ACCEL_XOUT_H..ACCEL_ZOUT_L, GYRO_XOUT_H..GYRO_ZOUT_L (data
  goes in register order, big endian).  MPU6886 GYRO_FIFO_EN(4)
  ACCEL_FIFO_EN(3) -> 18h, a 14-byte record ACCEL(6) TEMP(2) GYRO(6).
  INT_ENABLE 38h FIFO_OFLOW_EN bit 4; INT_STATUS 3Ah FIFO_OFLOW_INT bit 4,
  cleared by reading INT_STATUS.  USER_CTRL 6Ah FIFO_EN bit 6, FIFO_RESET
  bit 2.  PWR_MGMT_1 6Bh (wakes up asleep, 40h).  FIFO_COUNT_H/L 72h/73h
  (bytes; reading the high byte latches both).  FIFO_R_W 74h.
  Overflow (Register Map 4.31, FIFO_R_W): "the oldest data will be lost and
  new data will be written to the FIFO" - byte-wise, so after an overflow
  the FIFO (1024 bytes, not a multiple of the record) starts with the tail
  of a record: the first ``count % record`` bytes are dropped to realign.
"""


from . import imu_common

try:
    from micropython import const
except ImportError:
    const = lambda x: x  # noqa: E731

_SMPLRT_DIV = const(0x19)
_CONFIG = const(0x1A)
_GYRO_CONFIG = const(0x1B)
_ACCEL_CONFIG = const(0x1C)
_ACCEL_CONFIG2 = const(0x1D)
_FIFO_EN = const(0x23)
_INT_ENABLE = const(0x38)
_INT_STATUS = const(0x3A)
_USER_CTRL = const(0x6A)
_PWR_MGMT_1 = const(0x6B)
_PWR_MGMT_2 = const(0x6C)
_FIFO_COUNTH = const(0x72)
_FIFO_R_W = const(0x74)
_WHO_AM_I = const(0x75)

_FIFO_OFLOW = const(0x10)  # INT_STATUS / INT_ENABLE bit 4
_FIFO_SIZE = const(1024)  # bytes, both parts
_ID_6050 = const(0x68)
_ID_6886 = const(0x19)
_ADDRS = (0x68, 0x69)  # AD0 low / high

# (sample rate Hz, SMPLRT_DIV, DLPF_CFG): 1 kHz / (1 + div); DLPF bandwidth
# (MPU-6050 gyro 188/98/42/20/10/5 Hz for cfg 1..6) kept at or below rate/2.
_RATES = (
    (10, 99, 6),
    (20, 49, 5),
    (25, 39, 5),
    (50, 19, 4),
    (100, 9, 3),
    (125, 7, 3),
    (200, 4, 2),
    (250, 3, 2),
    (500, 1, 1),
    (1000, 0, 1),
)
# (full scale g, AFS_SEL, LSB per g)
_XL_FS = ((2, 0, 16384), (4, 1, 8192), (8, 2, 4096), (16, 3, 2048))
# (full scale dps, FS_SEL, 10 * LSB per deg/s)
_G_FS = ((250, 0, 1310), (500, 1, 655), (1000, 2, 328), (2000, 3, 164))


class MPU6:
    """MPU-6050 / MPU6886 accel + gyro streamed through the FIFO.

    Attributes: ``chip`` ('MPU-6050' or 'MPU6886'), ``addr``, ``rate_hz``
    (sample rate, Hz), ``accel_range_g`` (g), ``gyro_range_dps`` (deg/s),
    ``accel_scale`` (mg = raw*num >> shift), ``gyro_scale`` (0.1 deg/s =
    raw*num >> shift), ``fifo_samples`` (FIFO depth in samples),
    ``overflows`` (samples lost to FIFO overflow, a lower bound: +1 for every
    read that finds FIFO_OFLOW_INT set or a full FIFO).
    Note: ``read_into`` reads INT_STATUS, which clears all its flags.
    """

    def __init__(self, i2c, addr=None, rate_hz=208, accel_range_g=8, gyro_range_dps=2000, batch=32):
        if batch < 1:
            raise ValueError("MPU6: batch must be >= 1")
        addr, who = imu_common.probe(i2c, addr, _ADDRS, _WHO_AM_I, "MPU6")
        self.i2c = i2c
        self.addr = addr
        if who == _ID_6050:
            self.chip = "MPU-6050"
            fifo_en, self._frame, self._goff = 0x78, 12, 6
        elif who == _ID_6886:
            self.chip = "MPU6886"
            fifo_en, self._frame, self._goff = 0x18, 14, 8
        else:
            raise ValueError("MPU6: WHO_AM_I 0x%02X at 0x%02X on %s is not an MPU-6050/MPU6886"
                             % (who, addr, i2c))

        if rate_hz <= 0:
            raise ValueError("MPU6: rate_hz must be > 0")
        rate, div, dlpf = imu_common.at_least(_RATES, rate_hz, "rate_hz", "MPU6")
        xl = imu_common.at_least(_XL_FS, accel_range_g, "accel_range_g", "MPU6")
        g = imu_common.at_least(_G_FS, gyro_range_dps, "gyro_range_dps", "MPU6")
        self.rate_hz = rate
        self.accel_range_g = xl[0]
        self.gyro_range_dps = g[0]
        self.accel_scale = imu_common.fixed_ratio(1000, xl[2])  # mg per LSB
        self.gyro_scale = imu_common.fixed_ratio(100, g[2])  # 0.1 dps per LSB
        self.overflows = 0
        self.batch = batch
        self.fifo_samples = _FIFO_SIZE // self._frame

        self._b1 = bytearray(1)
        self._b2 = bytearray(2)
        self._wr(_PWR_MGMT_1, 0x01)  # awake, PLL clock
        self._wr(_PWR_MGMT_2, 0x00)  # all axes on
        self._wr(_USER_CTRL, 0x00)  # FIFO off while configuring
        self._wr(_FIFO_EN, 0x00)
        self._wr(_SMPLRT_DIV, div)
        self._wr(_CONFIG, dlpf)  # MPU6886: FIFO_MODE = 0 (overwrite oldest)
        self._wr(_GYRO_CONFIG, g[1] << 3)  # FCHOICE_B = 00
        self._wr(_ACCEL_CONFIG, xl[1] << 3)
        if who == _ID_6886:
            self._wr(_ACCEL_CONFIG2, dlpf)  # ACCEL_FCHOICE_B = 0, A_DLPF_CFG
        self._wr(_INT_ENABLE, _FIFO_OFLOW)
        self._wr(_USER_CTRL, 0x04)  # FIFO_RESET (while FIFO_EN = 0)
        self._wr(_FIFO_EN, fifo_en)
        self._wr(_USER_CTRL, 0x40)  # FIFO_EN
        self.i2c.readfrom_mem_into(self.addr, _INT_STATUS, self._b1)  # clear flags

        self._buf = bytearray(self._frame * batch)
        mv = memoryview(self._buf)
        self._views = tuple(mv[: self._frame * m] for m in range(batch + 1))
        self._skip = tuple(mv[:s] for s in range(self._frame))

    def _wr(self, reg, val):
        self._b1[0] = val
        self.i2c.writeto_mem(self.addr, reg, self._b1)

    def read_into(self, samples):
        """Fill ``samples`` (array('h'), length 6*K) with interleaved raw
        ax, ay, az, gx, gy, gz counts from the FIFO, oldest first; return the
        number of complete samples written (<= K).  Does not allocate."""
        i2c = self.i2c
        addr = self.addr
        fs = self._frame
        b = self._b2
        i2c.readfrom_mem_into(addr, _INT_STATUS, self._b1)
        ovf = self._b1[0] & _FIFO_OFLOW
        i2c.readfrom_mem_into(addr, _FIFO_COUNTH, b)
        count = (b[0] << 8) | b[1]
        if ovf or count >= _FIFO_SIZE:
            # Oldest bytes were overwritten: the FIFO now starts with the tail
            # of a record and ends on a record boundary.
            self.overflows += 1
            skip = count % fs
            if skip:
                i2c.readfrom_mem_into(addr, _FIFO_R_W, self._skip[skip])
                count -= skip
        total = count // fs
        k = len(samples) // 6
        if total > k:
            total = k
        b = self._buf
        g = self._goff
        n = 0
        while n < total:
            m = total - n
            if m > self.batch:
                m = self.batch
            i2c.readfrom_mem_into(addr, _FIFO_R_W, self._views[m])
            o = 0
            end = fs * m
            while o < end:
                q = 6 * n
                samples[q] = ((b[o] << 8 | b[o + 1]) ^ 0x8000) - 0x8000
                samples[q + 1] = ((b[o + 2] << 8 | b[o + 3]) ^ 0x8000) - 0x8000
                samples[q + 2] = ((b[o + 4] << 8 | b[o + 5]) ^ 0x8000) - 0x8000
                r = o + g
                samples[q + 3] = ((b[r] << 8 | b[r + 1]) ^ 0x8000) - 0x8000
                samples[q + 4] = ((b[r + 2] << 8 | b[r + 3]) ^ 0x8000) - 0x8000
                samples[q + 5] = ((b[r + 4] << 8 | b[r + 5]) ^ 0x8000) - 0x8000
                n += 1
                o += fs
        return n
