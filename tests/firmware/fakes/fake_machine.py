"""A fake `machine` module, to run the firmware's main_board() under the unix port (whose
`machine` has no Pin, I2C or WDT):

    import sys, fake_machine
    sys.modules["machine"] = fake_machine

I2C is fake_imu's bus with an LSM6DSOX (a pico_lsm6dsox), every Pin read (the button) is down
(0, pull-up) during watchdog feeds 30-34, and each watchdog feed lets 16 samples arrive (the
board's loop feeds once a loop); the 100th feed, or machine.reset(), raises Stop.
"""
import fake_imu

STOP_AFTER = 100
bus = fake_imu.FakeI2C(0)
chip = bus.attach(fake_imu.FakeLSM6DSOX())
feeds = 0


class Stop(BaseException):  # not caught by the loop's except Exception, as a real reset
    pass


class Pin:
    OUT = 1
    IN = 0
    PULL_UP = 2

    def __init__(self, pin, mode=0, pull=None, value=None):
        self.pin = pin
        self._v = 0 if value is None else value

    def value(self, v=None):
        if v is None:
            return 0 if 30 <= feeds < 35 else 1
        self._v = v


def I2C(bus_id, scl=None, sda=None, freq=None):
    return bus


class WDT:
    def __init__(self, timeout=0):
        pass

    def feed(self):
        global feeds
        feeds += 1
        k = 0
        while k < 16:  # the sensor keeps producing: 16 samples (1 g on +x) per loop
            chip.push(2049, 0, 0, 0, 0, 0)
            k += 1
        if feeds >= STOP_AFTER:
            raise Stop()


def unique_id():
    return b"\x01\x02\x03\x04\x05\x06\x07\x08"


resets = 0


def reset():
    global resets
    resets += 1
    raise Stop()
