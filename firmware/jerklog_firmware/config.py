"""The board's persisted configuration: a JSON file, "/config.json" by default.

    {"board": "xiao_nrf52840_sense", "region": "left_wrist", "name": "night-1",
     "device_id": 123456, "rate_hz": 208, "accel_range_g": 16, "gyro_range_dps": 2000,
     "detector": {"rest_mg": 40}, "log_max_bytes": 262144}

Every key is optional. ``load`` fills in defaults (a missing file gives all defaults) and
validates; ``validate`` raises ValueError naming the key and the allowed values; ``save``
writes atomically (temporary file, then os.rename). MicroPython and CPython.

Sample rates: the board runs 25..833 Hz (RATE_HZ), the rates of its driver in that range
(LSM6: 26, 52, 104, 208, 416, 833; MPU6: 25, 50, 100, 125, 200, 250, 500). Below 25 Hz the
detector refuses to start (a 60 ms jerk is then one sample). At 1000 Hz and above samples
are closer than the 1 ms the board's time stamps resolve: an IMU whose clock runs 1 % fast
pushed every later stamp on by a millisecond (6 s ahead after 10 min at 1000 Hz, a review's
probe), and the evidence ring (~1.84 s of samples) and CPU grow with the rate (on the
emulated Pico 833 Hz already takes most of the core: docs/benchmarks.md). The host accepts
25..4000 Hz from any source (recordings, simulator); this bound is the board's.
docs/protocol.md, "Sample rates", says the same.
"""
import json
import os

from . import detector, hardware

PATH = "/config.json"

# Body regions (hardware/wearing.md); limbs may carry a side.
_LIMBS = ("wrist", "upper_arm", "thigh", "ankle")
REGIONS = ("unknown", "trunk") + _LIMBS + tuple(
    side + "_" + limb for side in ("left", "right") for limb in _LIMBS)

RATE_HZ = (25, 833)  # the board's loop: detector minimum .. 1 ms time stamps, ring and CPU
NAME_MAX = 32
DEVICE_ID_MAX = 0x3FFFFFFF        # 30 bits: a small int on every board
LOG_BYTES = (8192, 16 * 1024 * 1024)

# key -> default. board "auto": recognise the board from sys.implementation._machine.
# rate_hz / accel_range_g / gyro_range_dps None: the board's own (hardware/boards/*.md).
# device_id None: derived from machine.unique_id() at load time.
DEFAULTS = {
    "board": "auto",
    "region": "unknown",
    "name": "",
    "device_id": None,
    "rate_hz": None,
    "accel_range_g": None,
    "gyro_range_dps": None,
    "detector": None,
    "log_max_bytes": 262144,
}


def _int(cfg, key):
    v = cfg[key]
    if not isinstance(v, int) or isinstance(v, bool):
        raise ValueError("config %s must be a whole number, got %r" % (key, v))
    return v


def _choice(cfg, key, allowed, why=""):
    v = cfg[key]
    if v not in allowed:
        raise ValueError("config %s=%r is not supported%s (allowed: %s)"
                         % (key, v, why, ", ".join([str(a) for a in allowed])))


def device_id_from(uid):
    """30-bit device id from machine.unique_id() bytes (all bytes folded in); never 0."""
    v = 0
    i = 0
    for b in uid:
        v ^= b << (8 * (i % 4))
        i += 1
    return (v & DEVICE_ID_MAX) or 1


def default_device_id():
    try:
        import machine
        return device_id_from(machine.unique_id())
    except (ImportError, AttributeError):
        return 1  # unix port / CPython: no unique id


def validate(cfg):
    """Return a full configuration (defaults + cfg); raise ValueError if anything is wrong."""
    if not isinstance(cfg, dict):
        raise ValueError("config must be a JSON object, got %r" % (cfg,))
    for key in cfg:
        if key not in DEFAULTS:
            raise ValueError("unknown config key %r (known: %s)"
                             % (key, ", ".join(sorted(DEFAULTS))))
    out = dict(DEFAULTS)
    out.update(cfg)

    board = out["board"]
    names = ["auto", "sim"] + sorted(hardware.BOARDS)
    _choice(out, "board", names)
    _choice(out, "region", REGIONS)
    name = out["name"]
    if not isinstance(name, str) or len(name) > NAME_MAX:
        raise ValueError("config name must be a string of at most %d characters, got %r"
                         % (NAME_MAX, name))
    if out["device_id"] is not None:
        v = _int(out, "device_id")
        if v < 1 or v > DEVICE_ID_MAX:
            raise ValueError("config device_id=%d is outside 1..%d" % (v, DEVICE_ID_MAX))

    kinds = ("lsm6", "mpu6")
    if board in hardware.BOARDS:
        kinds = (hardware.BOARDS[board]["driver"],)
    why = "" if len(kinds) > 1 else " by the %s on %s" % (hardware.BOARDS[board]["chip"], board)
    for key, table in (("rate_hz", hardware.DRIVER_RATES),
                       ("accel_range_g", hardware.DRIVER_ACCEL_G),
                       ("gyro_range_dps", hardware.DRIVER_GYRO_DPS)):
        if out[key] is not None:
            _int(out, key)
            allowed = []
            for k in kinds:
                for v in table[k]:
                    if v not in allowed:
                        allowed.append(v)
            allowed.sort()
            if key == "rate_hz":
                v = out[key]
                if v < RATE_HZ[0] or v > RATE_HZ[1]:
                    raise ValueError(
                        "config rate_hz=%d is outside the %d..%d Hz the board's loop runs (the "
                        "detector's minimum, the evidence ring and CPU at most; docs/protocol.md)"
                        % (v, RATE_HZ[0], RATE_HZ[1]))
                allowed = [r for r in allowed if RATE_HZ[0] <= r <= RATE_HZ[1]]
            _choice(out, key, allowed, why)

    det = out["detector"]
    if det is not None and not isinstance(det, dict):
        raise ValueError("config detector must be an object of detector settings, got %r"
                         % (det,))
    detector.validate(det)  # raises ValueError naming the setting and its range

    v = _int(out, "log_max_bytes")
    if v < LOG_BYTES[0] or v > LOG_BYTES[1]:
        raise ValueError("config log_max_bytes=%d is outside %d..%d"
                         % (v, LOG_BYTES[0], LOG_BYTES[1]))
    return out


def load(path=PATH):
    """The validated configuration in ``path``; defaults if the file does not exist.

    A file that exists but is not valid JSON or not a valid config raises ValueError:
    a board must not record with settings its wearer did not choose."""
    try:
        f = open(path)
    except OSError:
        try:
            f = open(path + ".tmp")  # a save interrupted between remove and rename (FAT)
        except OSError:
            f = None
    if f is None:
        cfg = {}
    else:
        try:
            cfg = json.load(f)
        except ValueError:
            raise ValueError("config %s is not valid JSON" % path)
        finally:
            f.close()
    out = validate(cfg)
    if out["board"] == "auto":
        out["board"] = hardware.guess_board() or "auto"
    if out["device_id"] is None:
        out["device_id"] = default_device_id()
    return out


def save(path, cfg):
    """Validate and write ``cfg`` to ``path`` atomically; return the validated dict.

    Only the keys given are stored (defaults stay defaults). On FAT, where os.rename does not
    replace an existing file, the old file is removed first (a crash in between leaves only
    ``path + ".tmp"``, which ``load`` then reads)."""
    out = validate(cfg)
    tmp = path + ".tmp"
    f = open(tmp, "w")
    try:
        f.write(json.dumps(cfg))
    finally:
        f.close()
    try:
        os.rename(tmp, path)
    except OSError:
        os.remove(path)
        os.rename(tmp, path)
    return out
