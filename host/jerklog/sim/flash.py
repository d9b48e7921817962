"""The simulated boards' flash: where each simulated device keeps its on-board log.

A real board keeps every event in its on-board log until a host has stored and acknowledged
it, so a recording that stops (a full disk, a locked or damaged store) loses nothing: the
next connection collects the rest. `jerklog simulate` gives each simulated device the same
memory, a log directory per device id in the data directory, kept across runs. One simulate
at a time may use a device's log (its lock is held while the board runs).
"""
import contextlib
import os
import struct

from jerklog import JerklogError
from jerklog.files import data_dir, private_dir

# A sim board plays a whole night in seconds, faster than the host's periodic collection, so
# its log holds a whole simulation unacknowledged (segments are created as needed).
LOG_BYTES = 64 * 1024 * 1024


def log_dir(device_id):
    return os.path.join(data_dir(), "sim-boards", "device-%d" % device_id)


@contextlib.contextmanager
def board_log(device_id):
    """Hold simulated device device_id's log directory for this process; yield its path."""
    import fcntl
    path = log_dir(device_id)
    private_dir(path)
    fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise JerklogError("simulated device %d is in use by another jerklog simulate: "
                               "wait for it, or give another --device-id" % device_id)
        yield path
    finally:
        os.close(fd)


def events_kept(path):
    """(device_id, boot_id, seq) of every event a simulated board's log holds that no host
    has acknowledged. Read while the board is not running."""
    from jerklog.firmware import protocol
    from jerklog_firmware import eventlog
    if not os.path.isdir(path):
        return []
    log = eventlog.EventLog(path, max_bytes=LOG_BYTES)
    try:
        keys = []
        for payload in log.records():
            rtype, device_id, boot_id, seq = struct.unpack_from(protocol.HEADER_FMT, payload)
            if rtype == protocol.EVENT:
                keys.append((device_id, boot_id, seq))
        return keys
    finally:
        log.close()
