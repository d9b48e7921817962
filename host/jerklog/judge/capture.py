"""A board in memory: the firmware's own loop (app.BoardLoop) over samples already on the host,
its frames decoded as the host decodes a board's, without a port or a store.

`analyze`, the benchmark and the host's judgement all need what a board would send (events,
the evidence of every candidate, epochs); running the board's loop itself, not a copy of it,
keeps them identical to a recorded board by construction.
"""
from array import array

import numpy as np

from jerklog import evidence as ev
from jerklog.events import from_wire
from jerklog.firmware import app, detector, protocol


class _MemoryBoard:
    """What BoardLoop asks of a board, for samples handed over by the caller."""

    name = "memory"
    sensor = "recording"
    dropped = 0

    def __init__(self, rate_hz, has_gyro):
        self.rate_hz = rate_hz
        self.has_gyro = has_gyro


class Captured:
    """What a board sent: events (dicts of EVENT_COLUMNS plus t_ms, device ms), candidates
    (joined evidence rows, see evidence.join, plus cand), epochs (dicts of EPOCH_FIELDS);
    records: every decoded record in the order sent (hello and heartbeats too), kept only
    when asked for (the host's ingest takes those, as from a port)."""

    def __init__(self, keep_records=False):
        self.events = []
        self.candidates = []
        self.epochs = []
        self.records = [] if keep_records else None
        self._parts = {}
        self.rejected_frames = 0


def _collector(out, has_gyro):
    """write(buf, n) for FrameWriter: decode each frame at once into out."""
    def write(buf, n):
        rec = protocol.decode_frame(bytes(buf[1:n - 1]))  # strip the 0 delimiters
        if rec is None:
            out.rejected_frames += 1
            return
        if out.records is not None:
            out.records.append(rec)
        kind = rec["type"]
        if kind == "event":
            row = from_wire(rec, has_gyro)
            row["t_ms"] = rec["t_ms"]
            out.events.append(row)
        elif kind == "evidence":
            head = ev.head_of(rec, rec["t_ms"], rec["t_ms"], has_gyro) if rec["part"] == 0 \
                else None
            parts = out._parts.setdefault(rec["cand"], [])
            parts.append((rec["part"], rec["last"], head, rec["wave"]))
            if rec["last"]:
                row = ev.join(parts)
                del out._parts[rec["cand"]]
                if row is not None:
                    row["cand"] = rec["cand"]
                    row["seq"] = rec["seq"]
                    out.candidates.append(row)
        elif kind == "epoch":
            out.epochs.append({k: rec[k] for k in protocol.EPOCH_FIELDS})
    return write


class BoardInMemory:
    """The board's loop fed by the caller, chunk by chunk (memory stays flat over a long
    recording): feed() samples, then finish(); `captured` holds what it sent."""

    def __init__(self, rate_hz: int, has_gyro: bool, settings: dict | None = None,
                 region: str = "unknown", device_id: int = 1, boot_id: int = 1,
                 epoch_ms: int = 0, keep_records: bool = False):
        """device_id, boot_id and epoch_ms (Unix ms at uptime 0, 0 unknown) as a board's
        hello gives them; keep_records: also keep every record, a hello first."""
        self.captured = Captured(keep_records)
        det = detector.Detector(rate_hz, detector.for_region(settings, region))
        writer = protocol.FrameWriter(_collector(self.captured, has_gyro), device_id, boot_id)
        self.loop = app.BoardLoop(_MemoryBoard(rate_hz, has_gyro), det, writer, region,
                                  epoch_ms)
        if keep_records:
            self.loop.hello()
        self.detector = det
        self._rest_t = np.zeros(0, dtype=np.int64)  # samples short of a whole batch
        self._rest_v = np.zeros((0, 6), dtype=np.int64)
        self._n = 0

    def feed(self, t_ms, values) -> None:
        """t_ms: device ms (ints); values: rows of ax, ay, az (mg), gx, gy, gz (0.1 deg/s),
        lists or numpy arrays. Batches of app.BATCH samples go to the loop, as a board reads
        them; the chunk is handed over as whole arrays (no per-sample copy on the host)."""
        t = np.asarray(t_ms, dtype=np.int64)
        v = np.asarray(values, dtype=np.int64).reshape(-1, 6)
        if self._n:  # samples left from the last chunk go first
            t = np.concatenate([self._rest_t, t])
            v = np.concatenate([self._rest_v, v])
        n = len(t)
        whole = n - n % app.BATCH
        if whole:
            times = array("i", t[:whole].astype(np.int32).tobytes())
            flat = array("h", v[:whole].astype(np.int16).tobytes())
            process = self.loop.process
            for start in range(0, whole, app.BATCH):
                process(times, flat, start, start + app.BATCH)
        self._rest_t, self._rest_v = t[whole:], v[whole:]
        self._n = n - whole

    def finish(self) -> Captured:
        if self._n:
            times = array("i", self._rest_t.astype(np.int32).tobytes())
            flat = array("h", self._rest_v.astype(np.int16).tobytes())
            self.loop.process(times, flat, 0, self._n)
            self._n = 0
        self.loop.finish()
        return self.captured


def capture(t_ms, values, rate_hz: int, has_gyro: bool, settings: dict | None = None,
            region: str = "unknown", **board) -> Captured:
    """Run the board's loop over samples: t_ms (device ms, ints), values (rows of ax, ay, az
    in mg and gx, gy, gz in 0.1 deg/s, ints). settings as a board's config (the region's
    up axis added as on a board); board: BoardInMemory's identity and keep_records."""
    board = BoardInMemory(rate_hz, has_gyro, settings, region, **board)
    board.feed(t_ms, values)
    return board.finish()
