"""The supported boards as data, and ``make_board`` which builds an ImuBoard for one.

Each entry copies the configuration dict of hardware/boards/<board>.md (same keys; see
hardware/README.md "Board configuration dictionary") plus:
  ``driver``       'lsm6' (LSM6DSOX, LSM6DS3TR-C) or 'mpu6' (MPU-6050, MPU6886)
  ``chip``         the driver's chip name that must answer (bring-up check)
  ``button_pull``  'up' to switch on the internal pull-up, None if the board has its own
  ``machine``      substrings of sys.implementation._machine that identify the board
                   (for config board "auto"); the longest match wins
"""

from . import board_imu


def _board(name, port, imu, whoami, i2c_id, sda, scl, addr, rate_hz, led, led_on, button,
           button_pull, rtc, wdt_ms, usb, machine, imu_pwr=None, imu_int=None, hold=None):
    driver = "lsm6" if imu.startswith("lsm6") else "mpu6"
    chip = {"lsm6ds3trc": "LSM6DS3TR-C", "lsm6dsox": "LSM6DSOX", "mpu6050": "MPU-6050",
            "mpu6886": "MPU6886"}[imu]
    return {"name": name, "port": port, "imu": imu, "imu_whoami": whoami, "driver": driver,
            "chip": chip, "i2c_id": i2c_id, "sda": sda, "scl": scl, "i2c_hz": 400000,
            "imu_addr": addr, "imu_pwr": imu_pwr, "imu_pwr_on": 1, "imu_int": imu_int,
            "rate_hz": rate_hz, "accel_fs_g": 16, "gyro_fs_dps": 2000, "led": led,
            "led_on": led_on, "button": button, "button_down": 0, "button_pull": button_pull,
            "hold": hold, "rtc": rtc, "wdt_ms": wdt_ms, "usb": usb, "machine": machine}


# hardware/boards/*.md. Battery/charger pins are left out: the firmware does not read them yet.
BOARDS = {}
for _b in (
    # P1.08 powers the IMU and its pull-ups; the port's board code already drives it high:
    # do not re-create the pin (hardware/boards/xiao-nrf52840-sense.md, caveats).
    _board("xiao_nrf52840_sense", "nrf", "lsm6ds3trc", 0x6A, 1, 7, 27, 0x6A, 208, 26, 0,
           None, None, None, None, "cdc", ("XIAO nRF52840",), imu_pwr=40, imu_int=11),
    _board("pico_lsm6dsox", "rp2", "lsm6dsox", 0x6C, 0, 4, 5, 0x6A, 208, 25, 1, 15, "up",
           None, 8000, "cdc", ("Raspberry Pi Pico",), imu_int=6),
    _board("pico_mpu6050", "rp2", "mpu6050", 0x68, 0, 4, 5, 0x68, 200, 25, 1, 15, "up",
           None, 8000, "cdc", ()),
    # Button A on G37: input-only pin with an external pull-up. HOLD (G4) is set in boot.py.
    _board("m5stickc_plus2", "esp32", "mpu6886", 0x19, 0, 21, 22, 0x68, 200, 19, 1, 37, None,
           0x51, 8000, "uart", (), hold=4),
    _board("nano_rp2040_connect", "rp2", "lsm6dsox", 0x6C, 0, 12, 13, 0x6A, 208, 6, 1, None,
           None, None, 8000, "cdc", ("Nano RP2040 Connect",)),
):
    BOARDS[_b["name"]] = _b
del _b
# Pico W / Pico 2 W: the LED is the radio's "LED" pin, not GP25.
for _n in ("picow_lsm6dsox", "picow_mpu6050"):
    BOARDS[_n] = dict(BOARDS["pico_" + _n[6:]])
    BOARDS[_n]["name"] = _n
    BOARDS[_n]["led"] = "LED"
    BOARDS[_n]["machine"] = ("Raspberry Pi Pico W", "Raspberry Pi Pico 2 W") if _n[6] == "l" else ()
del _n

DRIVER_RATES = {"lsm6": (26, 52, 104, 208, 416, 833, 1666, 3333, 6666),
                "mpu6": (10, 20, 25, 50, 100, 125, 200, 250, 500, 1000)}
DRIVER_ACCEL_G = {"lsm6": (2, 4, 8, 16), "mpu6": (2, 4, 8, 16)}
DRIVER_GYRO_DPS = {"lsm6": (125, 250, 500, 1000, 2000), "mpu6": (250, 500, 1000, 2000)}


def guess_board(machine_name=None):
    """Board name for this MCU from sys.implementation._machine, or None if unknown.

    Only boards whose MicroPython build names them are recognised (a Pico cannot tell which
    IMU is wired; a Pico gets pico_lsm6dsox; the M5StickC runs the generic ESP32 build)."""
    if machine_name is None:
        import sys
        machine_name = getattr(sys.implementation, "_machine", "")
    best = None
    size = 0
    for name in BOARDS:
        for s in BOARDS[name]["machine"]:
            if len(s) > size and s in machine_name:
                best, size = name, len(s)
    return best


def get(name):
    """The board dict for ``name``; ValueError naming the known boards otherwise."""
    b = BOARDS.get(name)
    if b is None and name == "auto":
        raise ValueError("board 'auto': this MCU was not recognised; set config board to one "
                         "of: %s" % ", ".join(sorted(BOARDS)))
    if b is None:
        raise ValueError("unknown board %r (known: %s)" % (name, ", ".join(sorted(BOARDS))))
    return b


def make_i2c(b):
    """machine.I2C for board dict ``b`` (on the board only)."""
    from machine import I2C, Pin
    return I2C(b["i2c_id"], scl=Pin(b["scl"]), sda=Pin(b["sda"]), freq=b["i2c_hz"])


def make_board(cfg, i2c=None, clock=None, batch=32):
    """ImuBoard for cfg["board"] with cfg's rate and ranges (None: the board's own).

    ``i2c`` and ``clock`` are injectable (tests pass fake_imu.FakeI2C and fake_clock). Raises
    OSError if the IMU does not answer, ValueError if a different chip answers."""
    b = get(cfg["board"])
    if i2c is None:
        i2c = make_i2c(b)
    rate = cfg.get("rate_hz") or b["rate_hz"]
    accel = cfg.get("accel_range_g") or b["accel_fs_g"]
    gyro = cfg.get("gyro_range_dps") or b["gyro_fs_dps"]
    if b["driver"] == "lsm6":
        from . import lsm6 as drv
        imu = drv.LSM6(i2c, b["imu_addr"], rate, accel, gyro, batch)
    else:
        from . import mpu6 as drv
        imu = drv.MPU6(i2c, b["imu_addr"], rate, accel, gyro, batch)
    if imu.chip != b["chip"]:
        raise ValueError("board %s expects an %s but an %s answered at 0x%02X"
                         % (b["name"], b["chip"], imu.chip, imu.addr))
    return board_imu.ImuBoard(imu, b["name"], clock)


class Led:
    """The board's status LED (machine.Pin), honouring its active level; no-op if absent."""

    def __init__(self, b, pin_cls=None):
        self._pin = None
        self._on = b["led_on"]
        if b["led"] is not None:
            if pin_cls is None:
                from machine import Pin as pin_cls
            self._pin = pin_cls(b["led"], pin_cls.OUT, value=1 - self._on)

    def set(self, lit):
        if self._pin is not None:
            self._pin.value(self._on if lit else 1 - self._on)


class Button:
    """The user button; ``pressed()`` is False on boards without one."""

    def __init__(self, b, pin_cls=None):
        self._pin = None
        self._down = b["button_down"]
        if b["button"] is not None:
            if pin_cls is None:
                from machine import Pin as pin_cls
            if b["button_pull"] == "up":
                self._pin = pin_cls(b["button"], pin_cls.IN, pin_cls.PULL_UP)
            else:
                self._pin = pin_cls(b["button"], pin_cls.IN)

    def pressed(self):
        return self._pin is not None and self._pin.value() == self._down
