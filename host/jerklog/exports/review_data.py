"""What the review page shows and writes: the events the diary counts over a range, each with
its waveform as compact JSON, and the wearer's or doctor's marks kept in the store.

    r = Reviewing(store, from_ms, to_ms, zones)
    r.page(offset, limit)          -> {"total", "offset", "events": [...], "counts"}
    r.mark(device_id, boot_id, seq, mark)   -> the event's index (the mark is committed)
    r.undo()                        -> (index, mark now) of the mark taken back, or None

Not thread-safe: the server calls it under one lock.
"""
import time

import numpy as np

from jerklog import JerklogError
from jerklog.evidence import Wave
from jerklog.localtime import Zones, iso_times

MARKS = ("confirmed", "rejected", "unsure")
BASELINE_END = 5     # gravity: the median of the samples up to this many before the peak's


def wave_json(row: dict | None) -> dict | None:
    """An evidence row's waveform for the page: t0_ms (first sample relative to the peak),
    dt_ms (sample period), acc (3 lists of mg, gravity removed: the median before the peak
    subtracted) and gyro (|rotation| in 0.1 deg/s, or None); None without usable evidence."""
    if row is None:
        return None
    try:
        w = Wave(row)
    except (ValueError, TypeError, KeyError):
        return None  # damaged evidence: the event is still listed and markable
    end = max(1, w.pre - BASELINE_END)
    dyn = w.acc_g - np.median(w.acc_g[:end], axis=0)
    out = dict(t0_ms=float(w.t_ms[0]), dt_ms=float(w.period_ms),
               acc=np.rint(dyn.T * 1000).astype(int).tolist(), gyro=None)
    if w.gyro_dps is not None:
        out["gyro"] = np.rint(np.linalg.norm(w.gyro_dps, axis=1) * 10).astype(int).tolist()
    return out


def _num(v, digits):
    return None if v is None else round(float(v), digits)


class Reviewing:
    """The events of [from_ms, to_ms) (trigger presses left out: they are not jerks), their
    marks, and the marks given in this session (so they can be undone, newest first)."""

    def __init__(self, store, from_ms=None, to_ms=None, zones=None):
        self.store, self.from_ms, self.to_ms = store, from_ms, to_ms
        self.zones = zones if isinstance(zones, Zones) else Zones(zones)
        self.undo_stack = []     # (device_id, boot_id, seq) marked in this session
        self.given = 0
        self.refresh()

    def refresh(self) -> None:
        """Read the event list and the marks again (a reload sees what others stored)."""
        evs = [e for e in self.store.events(self.from_ms, self.to_ms)
               if e.get("kind") != "trigger"]
        self.events = evs
        self.keys = [(e["device_id"], e["boot_id"], e["seq"]) for e in evs]
        self.index = {k: i for i, k in enumerate(self.keys)}
        self.times = iso_times(np.array([e["time_ms"] for e in evs], dtype=np.int64),
                               self.zones).tolist() if evs else []
        self._read_marks()

    def _read_marks(self):
        marks = self.store.review_marks()
        self.marks = {k: m for k, m in marks.items() if k in self.index}

    def counts(self) -> dict:
        c = {m: 0 for m in MARKS}
        for m in self.marks.values():
            c[m] += 1
        c["unmarked"] = len(self.keys) - len(self.marks)
        c["total"] = len(self.keys)
        return c

    def page(self, offset: int, limit: int) -> dict:
        """Events [offset, offset + limit) with their waveforms; offset 0 re-reads the list."""
        if offset == 0:
            self.refresh()
        out = []
        for i in range(max(0, offset), min(len(self.keys), offset + max(0, limit))):
            e, k = self.events[i], self.keys[i]
            s = self.times[i]
            out.append(dict(
                i=i, device_id=k[0], boot_id=k[1], seq=k[2],
                time="%s %s %s" % (s[:10], s[11:23], s[23:]),
                region=e.get("region") or "device %d" % k[0], kind=e.get("kind"),
                peak_g=_num(e.get("peak_g"), 3), peak_dps=_num(e.get("peak_dps"), 1),
                duration_ms=e.get("duration_ms"), confidence=_num(e.get("confidence"), 2),
                context=e.get("context"), mark=self.marks.get(k),
                wave=wave_json(self.store.evidence_for_event(*k))))
        return dict(total=len(self.keys), offset=offset, events=out, counts=self.counts())

    def mark(self, device_id: int, boot_id: int, seq: int, mark: str | None) -> int:
        """Store a mark (None clears) at once, durably; return the event's index."""
        key = (int(device_id), int(boot_id), int(seq))
        if key not in self.index:
            raise JerklogError("no such event in this review: %s" % (key,))
        if mark is not None and mark not in MARKS:
            raise JerklogError("unknown mark %r" % (mark,))
        with self.store.transaction():
            self.store.add_review_mark(*key, mark, int(time.time() * 1000))
        self.undo_stack.append(key)
        self.given += 1
        self._set(key, mark)
        return self.index[key]

    def undo(self) -> tuple | None:
        """Take back the newest mark given in this session: (index, the event's mark now)."""
        while self.undo_stack:
            key = self.undo_stack.pop()
            with self.store.transaction():
                done = self.store.undo_review_mark(*key)
            if done:
                self.given -= 1
                now = self.store.review_marks().get(key)
                self._set(key, now)
                return self.index.get(key), now
        return None

    def _set(self, key, mark):
        if mark is None:
            self.marks.pop(key, None)
        else:
            self.marks[key] = mark
