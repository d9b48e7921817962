"""`jerklog import`: a logger's file becomes a device recording in the store, as if a board
worn with it had sent it.

The file's samples go, on the board's integer grid, to the firmware's own loop running on the
MicroPython unix port (import_board.py), as fast as it goes with a virtual clock; its frames
come back through the host's decoder and Ingest, exactly as a board's do. The device identity
comes from the logger (model and serial, or --device), the boot identity from the recording
(session, start, firmware version, region): importing a file again stores nothing new.
"""
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

from jerklog import JerklogError, StorageError
from jerklog.boards.decoder import FrameDecoder
from jerklog.boards.ingest import Ingest
from jerklog.firmware import FIRMWARE_DIR, detector
from jerklog.recordings import batches
from jerklog.recordings.formats import open_logger
from jerklog.recordings.recording import file_error
from jerklog_firmware.version import VERSION

BOARD_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "import_board.py")
HEAP = "192k"             # a board-sized heap, as the sim board
READ_BYTES = 1 << 16      # frames read from the loop at once
COMMIT_RECORDS = 20000    # records stored per transaction
MAX_RATE_HZ = 1000        # the loop's evidence ring fails to allocate at 1100 Hz in 192 KB
#                           (measured for simulate: cli/record.py SIM_MAX_RATE_HZ)
ID_MASK = (1 << 30) - 1   # device and boot ids are 30 bits (small ints on 31-bit boards)


def _id30(*parts) -> int:
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return (int.from_bytes(h[:4], "little") & ID_MASK) or 1


def device_identity(lf, name=None):
    """(device_id, board, sensor) for a logger: from --device NAME if given, else from the
    logger's model and serial (a raw CSV, which has neither: its file name)."""
    if name:
        return _id30("device", name), name[:31], lf.model[:31]
    if lf.format == "csv":
        stem = os.path.splitext(os.path.basename(lf.path))[0]
        return _id30("csv", stem), ("csv " + stem)[:31], "raw CSV"
    who = "%s %s" % (lf.model, lf.serial)
    return _id30(lf.format, lf.model, lf.serial), who[:31], lf.format


def boot_identity(device_id, lf, region, settings, rate_hz, epoch_ms) -> int:
    """The same recording imported again is the same boot, so its events (same seq) dedup; a
    new firmware, region or detector setting makes other events, so another boot."""
    return _id30(device_id, lf.format, lf.session, epoch_ms, rate_hz, region, VERSION,
                 json.dumps(settings or {}, sort_keys=True))


def utc_ms(wall_ms, offset_ms=None, zone=None) -> int:
    """The logger's wall-clock ms -> Unix ms: with the file's own UTC offset where it states
    one, else in `zone` (None: this computer's), at that date (DST as the zone had it)."""
    if offset_ms is not None:
        return wall_ms - offset_ms
    naive = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=wall_ms)
    aware = naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()
    return int(round(aware.timestamp() * 1000))


def find_runner(python=False):
    """The interpreter command that runs the board's loop: the MicroPython unix port (fast,
    the board's own interpreter) or, with python=True, this CPython (the tests' reference)."""
    if python:
        return [sys.executable, BOARD_SCRIPT]
    from jerklog.sim.device import find_micropython
    # emit=native: the unix port compiles the firmware to machine code instead of bytecode,
    # the same Python semantics ~1.5x faster (the frames are byte for byte the same: tests)
    return [find_micropython(), "-X", "heapsize=" + HEAP, "-X", "emit=native", BOARD_SCRIPT]


class ImportResult(dict):
    """What one import did: path, device_id, boot_id, samples, seconds of recording,
    events (all sent), new_events, duplicate_events, records, checks, wall_s."""


def import_file(path, store, region, device=None, zone=None, start_ms=None, settings=None,
                progress=None, python=False, units="g") -> ImportResult:
    """Import one file into the open store; progress(done_samples, total_samples, result) is
    called now and then. Raises a JerklogError (the file's path first) on a bad file."""
    t_wall = time.monotonic()
    lf = open_logger(path, units)
    chunks = lf.chunks()
    try:
        first = next(chunks)
    except StopIteration:
        raise file_error(path, "no samples") from None
    rate = batches.rate_of(first.t_us)
    if not 25 <= rate <= MAX_RATE_HZ:
        raise file_error(path, "sample rate %d Hz is outside the 25..%d Hz the board's loop "
                         "runs at in a board's 192 KB heap" % (rate, MAX_RATE_HZ))
    if lf.format == "csv":
        if start_ms is None:
            raise file_error(path, "a raw CSV has no clock: give --start (its first sample's "
                             "time)")
        epoch_ms = start_ms
    else:
        epoch_ms = start_ms if start_ms is not None else utc_ms(lf.start_ms, lf.utc_offset_ms,
                                                                 zone)
    device_id, board, sensor = device_identity(lf, device)
    boot_id = boot_identity(device_id, lf, region, settings, rate, epoch_ms)
    cfg = batches.config_line(rate_hz=rate, has_gyro=lf.has_gyro, region=region,
                              device_id=device_id, boot_id=boot_id, epoch_ms=epoch_ms,
                              board=board, sensor=sensor, settings=settings)
    detector.Detector(rate, detector.for_region(settings, region))  # bad settings fail here
    result = ImportResult(path=path, format=lf.format, model=lf.model, serial=lf.serial,
                          device_id=device_id, boot_id=boot_id, region=region, rate_hz=rate,
                          epoch_ms=epoch_ms, samples=0, events=0, new_events=0,
                          duplicate_events=0, records=0, checks=lf.checks)
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(find_runner(python), cwd=FIRMWARE_DIR,
                                env=dict(os.environ, MICROPYPATH=FIRMWARE_DIR),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        feed = _Feeder(proc.stdin, cfg, first, chunks, path)
        feed.start()
        try:
            _receive(proc, store, feed, lf, result, progress)
        finally:
            if result.get("goodbye"):
                # its last frame is out, it exits now: its CPU time is the board's cost
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                result["board_cpu_s"] = usage.ru_utime + usage.ru_stime
            else:
                proc.kill()
                proc.wait()
            feed.join()
        if feed.error is not None:
            raise feed.error
        if proc.returncode != 0 or not result.get("goodbye"):
            err.seek(0)
            text = err.read().decode("utf-8", "replace").strip().splitlines()
            said = text[-1] if text else result.get("loop_said", "")
            raise JerklogError("%s: the board's loop failed (exit %s)%s" % (
                path, proc.returncode, ": " + said if said else ""))
    result["samples"] = feed.writer.samples
    result["dropped"] = feed.writer.dropped
    result["seconds"] = result.get("uptime_ms", 0) / 1000.0
    result["wall_s"] = time.monotonic() - t_wall
    return result


class _Feeder(threading.Thread):
    """Reads the file and encodes its batches while a second thread writes them into the
    loop's stdin (then closes it): the loop never waits for the next chunk's decoding.
    AHEAD chunks of bytes at most are held (a few MB)."""

    AHEAD = 3

    def __init__(self, pipe, cfg, first, chunks, path):
        super().__init__(daemon=True)
        import queue
        self.pipe = pipe
        self.first = first
        self.chunks = chunks
        self.queue = queue.Queue(self.AHEAD)
        self.queue.put(cfg)
        self.writer = batches.BatchWriter(self.queue.put, path)
        self.error = None
        self._out = threading.Thread(target=self._write, daemon=True)

    def run(self):
        self._out.start()
        try:
            self.writer.add(self.first)
            for chunk in self.chunks:
                self.writer.add(chunk)
            self.writer.close()
        except Exception as e:  # a bad file found mid-way: reported by import_file
            self.error = e
        finally:
            self.queue.put(None)
            self._out.join()

    def _write(self):
        broken = False
        while True:
            data = self.queue.get()
            if data is None:
                break
            if broken:
                continue  # drain, so the reader thread never blocks on a full queue
            try:
                self.pipe.write(data)
            except BrokenPipeError:
                broken = True  # the loop ended early: its exit code and stderr say why
        try:
            self.pipe.close()
        except BrokenPipeError:
            pass


def _receive(proc, store, feed, lf, result, progress):
    """Decode the loop's frames and store them, COMMIT_RECORDS per transaction."""
    decoder = FrameDecoder()
    ingest = Ingest(store)
    pending = []
    fd = proc.stdout.fileno()
    while True:
        data = os.read(fd, READ_BYTES)
        if data:
            for rec in decoder.feed(data):
                pending.append(rec)
                kind = rec["type"]
                if kind == "event":
                    result["events"] += 1
                elif kind == "goodbye":
                    result["goodbye"] = True
                    result["uptime_ms"] = rec["uptime_ms"]
                elif kind == "heartbeat":
                    result["uptime_ms"] = rec["uptime_ms"]
        if len(pending) >= COMMIT_RECORDS or (not data and pending):
            _store(store, ingest, pending)
            result["records"] += len(pending)
            pending = []
        result["new_events"] = ingest.new_events
        result["duplicate_events"] = ingest.duplicate_events
        if progress is not None:  # how far the loop is (the file is read ahead of it)
            progress(int(result.get("uptime_ms", 0) * result["rate_hz"] / 1000), lf.samples,
                     result)
        if not data:
            # MicroPython prints an uncaught error on stdout, among the frames: its last line
            # says why the loop failed
            tail = (decoder._pending or decoder.last_rejected).decode("utf-8", "replace")
            result["loop_said"] = next((ln.strip() for ln in reversed(tail.splitlines())
                                        if ln.strip()), "")
            return


def _store(store, ingest, records, wait_s=30.0):
    """One transaction; another process holding the store waits up to wait_s."""
    deadline = time.monotonic() + wait_s
    while not store.begin(1.0):
        if time.monotonic() > deadline:
            raise StorageError("the store %s is locked by another process: stop it, then "
                               "import again" % store.path)
    with store.writing():
        for rec in records:
            ingest.handle(rec)
    store.commit()
