"""Each moment of each sensor counted once: boots of one device that cover the same time.

A device runs one boot at a time, so two boots of the same device id whose recorded spans
overlap are the same hours recorded twice: the same simulation run twice, two recorders of one
board, a log dump of a night already streamed live under a new boot id, or two boards given
the same id. The diary keeps the boot heard first and leaves out the events the others have
inside its span; data quality lists every such overlap (docs/diary.md, 'recorded twice').
"""
import numpy as np
import pandas as pd

from jerklog.diary.config import HOUR_MS

# Shorter overlaps are two clock estimates meeting at a reboot, not a recording made twice.
MIN_OVERLAP_MS = 60_000


def _spans(diary):
    """{(device_id, boot_id): (start_ms, end_ms)} of each boot: its board clock span, else
    the span of its events."""
    ev = diary._all
    spans = {}
    for b in diary.boots.itertuples():
        key = (int(b.device_id), int(b.boot_id))
        if pd.notna(b.epoch_ms) and pd.notna(b.uptime_ms):
            spans[key] = (int(b.epoch_ms), int(b.epoch_ms) + int(b.uptime_ms))
    if len(ev):
        for (dev, boot), g in ev.groupby(["device_id", "boot_id"], sort=False):
            key = (int(dev), int(boot))
            if key not in spans:
                t = g["time_ms"].to_numpy()
                spans[key] = (int(t.min()), int(t.max()) + 1)
    return spans


def count_once(diary):
    """(events with each moment of each device once, [overlap dicts]). An overlap names the
    device, the boot kept, the boot left out there, its span and the events left out."""
    ev = diary._all
    spans = _spans(diary)
    order = {(int(b.device_id), int(b.boot_id)): (b.first_seen_ms, b.boot_id)
             for b in diary.boots.itertuples()}
    by_device = {}
    for key in sorted(spans, key=lambda k: (k[0], order.get(k, (0, k[1])))):
        by_device.setdefault(key[0], []).append(key)
    drop = np.zeros(len(ev), dtype=bool)
    dev_col = ev["device_id"].to_numpy() if len(ev) else np.zeros(0, dtype=np.int64)
    boot_col = ev["boot_id"].to_numpy() if len(ev) else np.zeros(0, dtype=np.int64)
    t_col = ev["time_ms"].to_numpy() if len(ev) else np.zeros(0, dtype=np.int64)
    overlaps = []
    for dev, keys in by_device.items():
        first = []  # boots that copy no earlier one: the references a copy is compared with
        for later in keys:
            copied = False
            for kept in first:
                a = max(spans[kept][0], spans[later][0])
                z = min(spans[kept][1], spans[later][1])
                if z - a < MIN_OVERLAP_MS:
                    continue
                copied = True
                inside = ((dev_col == dev) & (boot_col == later[1]) & (t_col >= a) &
                          (t_col < z) & ~drop)
                drop |= inside
                if z <= diary.from_ms or a >= diary.to_ms:
                    continue  # outside the diary's range: left out, not listed
                overlaps.append(dict(device_id=dev, kept_boot=kept[1], left_out_boot=later[1],
                                     from_ms=a, to_ms=z, hours=(z - a) / HOUR_MS,
                                     events_left_out=int(inside.sum())))
            if not copied:
                first.append(later)
    if not drop.any():
        return ev, overlaps
    return ev[~drop].reset_index(drop=True), overlaps
