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


def lock_path(port: str) -> str:
    """The lock file for a port: the same for every name of it (symlinks resolved)."""
    base = os.environ.get("JERKLOG_LOCK_DIR") or os.path.join(
        tempfile.gettempdir(), "jerklog-locks-%s" % _user())
    name = re.sub(r"[^A-Za-z0-9._-]", "_", os.path.realpath(port).strip("/\\")) or "port"
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
    private_dir(os.path.dirname(path))
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
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
