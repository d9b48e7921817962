"""A board's serial port: opened for reading frames, and held by one jerklog process at a time.

mpremote opens the port exclusively and stops main.py with Ctrl-C, so no recorder may hold the
port while `jerklog deploy` or `config` uses it: all of them take port_lock(port) first.
"""
import contextlib
import os
import re
import tempfile

import serial

from jerklog import JerklogError
from jerklog.files import private_dir

READ_TIMEOUT_S = 0.2   # a read returns at least this often, so a stop request is seen
BAUD = 115200          # ignored by USB CDC, used by a UART bridge


def open_port(port: str) -> serial.Serial:
    """Open a serial port (or pty) for reading frames; a clear error if it cannot be."""
    try:
        return serial.Serial(port, baudrate=BAUD, timeout=READ_TIMEOUT_S)
    except (serial.SerialException, OSError, ValueError) as e:
        raise JerklogError("cannot open port %s: %s" % (port, e))


def check_port(port: str, missing_ok: bool = False) -> None:
    """Refuse at once a port that cannot be a board (a file, a folder, a pipe, a device that
    is no terminal): a serial library would retry it for ever. A name that does not exist is
    refused too unless missing_ok (a recorder waits for a board that is not plugged in)."""
    if os.name == "nt":
        return  # COM3 is no path
    import stat
    try:
        mode = os.stat(port).st_mode
    except OSError as e:
        if missing_ok:
            return
        raise JerklogError("no port %s (%s): plug the board in, or name its port, e.g. "
                           "/dev/ttyACM0 (jerklog devices lists them)" % (port, e.strerror))
    if stat.S_ISCHR(mode):
        try:
            fd = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError:
            return  # busy or not ours: opening it says why
        try:
            if os.isatty(fd):
                return
        finally:
            os.close(fd)
    raise JerklogError("%s is not a serial port (it is a %s): name a board's port, e.g. "
                       "/dev/ttyACM0 (jerklog devices lists them)"
                       % (port, "folder" if stat.S_ISDIR(mode) else "regular file"
                          if stat.S_ISREG(mode) else "device that is no terminal"
                          if stat.S_ISCHR(mode) else "pipe, socket or device"))


def lock_path(port: str) -> str:
    """The lock file for a port: the same for every name of it (symlinks resolved)."""
    base = os.environ.get("JERKLOG_LOCK_DIR") or os.path.join(
        tempfile.gettempdir(), "jerklog-locks-%s" % _user())
    name = re.sub(r"[^A-Za-z0-9._-]", "_", os.path.realpath(port).strip("/\\")) or "port"
    if len(name) > 120:  # a file name has at most 255 bytes: keep it short, and unique
        import hashlib
        name = name[:80] + "-" + hashlib.sha256(name.encode()).hexdigest()[:16]
    return os.path.join(base, name + ".lock")


def _user():
    try:
        return str(os.getuid())
    except AttributeError:  # Windows
        import getpass
        return getpass.getuser()


def _try_lock(fd):
    try:
        import fcntl
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except ImportError:  # Windows
        import msvcrt
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)


def _holder_text(fd):
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        pid = os.read(fd, 32).decode("ascii", "replace").strip()
    except OSError:
        pid = ""
    return " (pid %s)" % pid if pid.isdigit() else ""


@contextlib.contextmanager
def port_lock(port: str, what: str = "jerklog"):
    """Hold the port for this process while the block runs; a JerklogError if another jerklog
    process (a recorder, a deploy) holds it. The OS drops the lock when a process dies."""
    path = lock_path(port)
    try:
        private_dir(os.path.dirname(path))
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        raise JerklogError("cannot take the lock for port %s: %s (%s)"
                           % (port, e.strerror or e, path))
    try:
        try:
            _try_lock(fd)
        except OSError:
            raise JerklogError("%s is in use by another jerklog process%s (jerklog record?): "
                               "stop it first" % (port, _holder_text(fd)))
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield path
    finally:
        os.close(fd)  # closing releases the lock


def port_in_use(port: str) -> str | None:
    """None if no jerklog process holds the port, else a short text naming the holder."""
    try:
        with port_lock(port):
            return None
    except JerklogError as e:
        return str(e)
