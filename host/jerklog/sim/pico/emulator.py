"""An emulated Raspberry Pi Pico: the official MicroPython rp2 image in rp2040js (Node), its
USB serial behind a pty, its flash in a file, an LSM6DSOX model on I2C0 serving a recording.

The host opens `EmulatedPico.port` (/dev/pts/N) exactly as it opens /dev/ttyACM0 for a real
board: `mpremote connect <port>`, `jerklog deploy --port <port>`, `jerklog record --port
<port>`. Nothing here is downloaded: the image, the bootrom and rp2040js are found on this
computer (docs/boards.md, "Emulated Pico", says how they are made) or the emulator is
`missing()`.

Where things are found:
  image      $JERKLOG_RP2_FIRMWARE, else ~/.cache/jerklog/rp2/firmware.uf2
  bootrom    $JERKLOG_RP2_BOOTROM, else bootrom.bin beside the image (the RP2040's 16 KB ROM)
  rp2040js   $JERKLOG_RP2040JS, else ~/.cache/jerklog/rp2040js (an npm prefix holding
             node_modules/rp2040js)
  node       on PATH
"""
import os
import pty
import shutil
import signal
import subprocess
import tempfile
import threading
import tty
import types

import numpy as np

from jerklog import JerklogError
from jerklog.sim.device import Cable

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "pico.mjs")
CACHE = os.path.expanduser("~/.cache/jerklog")
# A host sees a board's serial port some time after the board's USB is configured (the
# kernel enumerates it, udev names it): about half a second on Linux. Meanwhile the board
# has run its boot file, as on a real board.
ENUMERATION_S = 0.5
IMU_CHIPS = ("lsm6dsox", "mpu6050")  # the register models on I2C0 (GP4/GP5)
STARTUP_S = 60  # the image boots in ~1 s of emulated time; a loaded machine is slower


def firmware_path() -> str:
    return os.environ.get("JERKLOG_RP2_FIRMWARE") or os.path.join(CACHE, "rp2", "firmware.uf2")


def bootrom_path() -> str:
    return os.environ.get("JERKLOG_RP2_BOOTROM") or os.path.join(
        os.path.dirname(firmware_path()), "bootrom.bin")


def rp2040js_path() -> str:
    return os.environ.get("JERKLOG_RP2040JS") or os.path.join(CACHE, "rp2040js")


def missing() -> str | None:
    """Why the emulated Pico cannot run here (one line), or None when it can."""
    if not os.path.isfile(firmware_path()):
        return "no MicroPython rp2 image at %s (set JERKLOG_RP2_FIRMWARE)" % firmware_path()
    if not os.path.isfile(bootrom_path()):
        return "no RP2040 bootrom at %s (set JERKLOG_RP2_BOOTROM)" % bootrom_path()
    js = os.path.join(rp2040js_path(), "node_modules", "rp2040js", "package.json")
    if not os.path.isfile(js):
        return "no rp2040js under %s (set JERKLOG_RP2040JS)" % rp2040js_path()
    if not shutil.which("node"):
        return "node is not on PATH (the emulator is rp2040js)"
    return None


def imu_samples(raw) -> bytes:
    """A recording (RawSamples: mg, 0.1 deg/s) as the IMU model reads it: int16 little
    endian, ax ay az gx gy gz a sample. The model converts to counts at the full scale the
    firmware sets."""
    return np.clip(raw.values(), -32768, 32767).astype("<i2").tobytes()


class EmulatedPico:
    """One emulated Pico. flash: the file that holds its 2 MB flash (made from the image
    when absent, kept across runs and resets). recording: RawSamples the IMU serves from
    the moment the firmware starts its FIFO, at the rate it configures; imu: its chip,
    "lsm6dsox" (at 0x6A, the default) or "mpu6050" (0x68). cpu_every_s: report
    the CPU share every so many emulated seconds (cpu_shares()).

    Use as a context manager, or call close(). reset() resets the chip as its watchdog
    would (flash kept). The line stays up while the host reopens the port.
    """

    def __init__(self, flash, recording=None, button_pressed=False, cpu_every_s=None,
                 imu="lsm6dsox"):
        why = missing()
        if why:
            raise JerklogError("emulated Pico: " + why)
        self.flash = flash
        if imu not in IMU_CHIPS:
            raise JerklogError("emulated Pico: no model of %r (models: %s)"
                               % (imu, ", ".join(IMU_CHIPS)))
        self.imu_chip = imu
        self._tmp = tempfile.TemporaryDirectory(prefix="jerklog-pico-")
        cmd = ["node", SCRIPT, "--rp2040js", rp2040js_path(), "--bootrom", bootrom_path(),
               "--flash", os.path.abspath(flash), "--firmware", firmware_path()]
        if recording is not None:
            imu_path = os.path.join(self._tmp.name, "imu.bin")
            fd = os.open(imu_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(imu_samples(recording))
            cmd += ["--imu", imu_path, "--imu-chip", imu]
        if button_pressed:
            cmd.append("--button-pressed")
        if cpu_every_s:
            cmd += ["--cpu-every", str(cpu_every_s)]
        master, slave = pty.openpty()
        tty.setraw(slave)  # binary frames: no echo, no newline translation
        tty.setraw(master)
        self._slave = slave  # the emulator's end of the line, held open across resets
        self._inner = os.ttyname(slave)
        self._lines = []
        try:
            self.proc = subprocess.Popen(cmd + ["--serial-fd", str(master)], pass_fds=(master,),
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, start_new_session=True)
        finally:
            os.close(master)  # the emulator owns the master side now
        # The host's side: a name (as /dev/serial/by-id/...) for a pty that goes away while
        # the chip resets and comes back when its USB is up again, as a board's port does.
        self.usb = Cable(types.SimpleNamespace(port=self._inner),
                         os.path.join(self._tmp.name, "ttyACM"))
        self.usb.unplug()
        self.port = self.usb.path
        self._usb_up = threading.Event()
        self._watch = threading.Thread(target=self._follow, daemon=True)
        self._watch.start()
        if not self._usb_up.wait(STARTUP_S):
            self.close()
            raise JerklogError("emulated Pico: no USB within %d s:\n%s"
                               % (STARTUP_S, self.log_text()))

    @property
    def inner_port(self):
        """The emulator's own end of the serial line (what Cable reads)."""
        return self._inner

    def _follow(self):
        """The emulator's report, line by line: the USB port appears when the chip's USB is
        configured and goes when the chip resets."""
        plug = None
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self._lines.append(line)
            if line.startswith("pico: reset"):
                if plug is not None:
                    plug.cancel()
                self.usb.unplug()
            elif line == "pico: usb connected":
                plug = threading.Timer(ENUMERATION_S, self._plug)
                plug.start()

    def _plug(self):
        self.usb.plug()
        self._usb_up.set()

    def reset(self):
        """Reset the chip now, as its watchdog would: flash kept, RAM and peripherals not."""
        self.proc.send_signal(signal.SIGUSR1)

    def cpu_shares(self) -> list:
        """[(emulated s, % of the time the core was awake)] per cpu_every_s window so far:
        the CPU share of whatever runs (the firmware, USB interrupts, MicroPython)."""
        out = []
        for line in list(self._lines):
            if line.startswith("pico: cpu "):
                t, share = line.split()[2:4]
                out.append((float(t), float(share)))
        return out

    def log_text(self) -> str:
        """What the emulator reported (start, USB, resets, the IMU's recording running out)."""
        return "\n".join(self._lines)

    def close(self):
        if self._slave is None:
            return  # closed already
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._watch.join(5)
        self.usb.close()
        if self._slave is not None:
            os.close(self._slave)
            self._slave = None
        self.proc.stderr.close()
        self._tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
