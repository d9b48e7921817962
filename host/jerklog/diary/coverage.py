"""Recorded time: how much of each minute each body region was recorded, from the
boards' cumulative counters (docs/diary.md, 'recorded time')."""
import numpy as np
import pandas as pd

from jerklog.diary.config import MINUTE_MS
from jerklog.diary.load import _read_heartbeats


def _spread(acc, diff, a, b, f, g0, n):
    """Add f * (overlap in ms) of intervals [a, b) to the per-minute totals of a grid."""
    a = np.clip(a - g0, 0, n * MINUTE_MS)
    b = np.clip(b - g0, 0, n * MINUTE_MS)
    keep = b > a
    a, b, f = a[keep], b[keep], f[keep]
    ma, mb = a // MINUTE_MS, b // MINUTE_MS
    same = ma == mb
    np.add.at(acc, ma[same], f[same] * (b[same] - a[same]))
    o = ~same
    ma, mb, a, b, f = ma[o], mb[o], a[o], b[o], f[o]
    np.add.at(acc, ma, f * ((ma + 1) * MINUTE_MS - a))
    tail = mb < n
    np.add.at(acc, mb[tail], f[tail] * (b[tail] - mb[tail] * MINUTE_MS))
    np.add.at(diff, ma + 1, f * MINUTE_MS)
    np.add.at(diff, mb, -f * MINUTE_MS)


def _unwrap(col):
    """Undo u32 wrap-around of a counter that only grows (uptime, samples, ...)."""
    d = np.diff(col)
    if not (d < 0).any():
        return col
    wraps = np.concatenate([[0], np.cumsum(d < -(1 << 31))])
    return col + wraps * (1 << 32)


def _coverage(diary, store):
    """Recorded time per region and minute, from the boards' cumulative counters.

    A boot runs from uptime 0 (counters 0) through its heartbeats to its latest
    counters; between two points the fraction recorded is the samples counted over the
    samples its rate should have given (docs/diary.md, 'recorded time')."""
    n, g0 = diary._n, diary._g0
    ns = len(diary.sites)
    diary._estimated_boots = []
    ev = diary._all
    step = diary.config.coverage_step_ms
    heartbeats = _read_heartbeats(store, step)
    has_events = set(zip(ev["device_id"].tolist(), ev["boot_id"].tolist()))
    points, boot_index, spans = [], {}, []
    for b in diary.boots.itertuples():
        dev, boot = int(b.device_id), int(b.boot_id)
        site = diary._boot_site.get((dev, boot))
        if site not in diary._site_code:
            continue
        epoch = None if pd.isna(b.epoch_ms) else int(b.epoch_ms)
        up = None if pd.isna(b.uptime_ms) else int(b.uptime_ms)
        if epoch is not None and (epoch >= diary._hi or (up is not None and
                                                         epoch + up < diary._lo)):
            continue
        rows = heartbeats.get((dev, boot), np.zeros((0, 5), dtype=np.int64))
        if up is not None and (not len(rows) or up > rows[-1, 0]):
            # The boot's latest counters (updated by every heartbeat, kept or not).
            last = [up] + [0 if pd.isna(v) else int(v)
                           for v in (b.samples, b.dropped, b.events)]
            last.append(int(rows[-1, 4]) + up - int(rows[-1, 0]) if len(rows) else
                        int(b.first_seen_ms))
            rows = np.vstack([rows, np.array([last], dtype=np.int64)])
        if not len(rows):
            if (dev, boot) in has_events:
                spans.append((dev, boot))
            continue
        cols = [_unwrap(rows[:, i]) for i in range(4)]
        t = epoch + cols[0] if epoch is not None else rows[:, 4]
        t0 = epoch if epoch is not None else int(rows[0, 4] - cols[0][0])
        # The boot started at uptime 0 with its counters at 0.
        rate = 0.0 if pd.isna(b.rate_hz) else float(b.rate_hz)
        boot_index[(dev, boot)] = len(points)
        points.append((diary._site_code[site], rate, np.concatenate([[t0], t]),
                       *[np.concatenate([[0], c]) for c in cols]))
    acc = np.zeros((ns, n))
    diff = np.zeros((ns, n + 1))
    # Counters spread evenly over their interval: [sum, its difference array] per region.
    drop = [np.zeros((ns, n)), np.zeros((ns, n + 1))]
    samp = [np.zeros((ns, n)), np.zeros((ns, n + 1))]
    missing = [np.zeros((ns, n)), np.zeros((ns, n + 1))]
    if points:
        lens = [len(p[2]) for p in points]
        bidx = np.repeat(np.arange(len(points)), lens)
        T, U, S, DR, E = [np.concatenate([p[i] for p in points]) for i in range(2, 7)]
        site_of = np.array([p[0] for p in points], dtype=np.int64)[bidx[1:]]
        rate = np.array([p[1] for p in points])[bidx[1:]]
        same = bidx[1:] == bidx[:-1]
        a, bb = T[:-1], T[1:]
        dup = np.diff(U).astype(float)
        dsamp = np.diff(S).astype(float)
        expected = dup * rate / 1000.0
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(rate > 0,
                         np.where(expected > 0, np.clip(dsamp / expected, 0, 1), 0.0),
                         (dsamp > 0).astype(float))
        f = np.where(same, f, 0.0)
        # Events the board counted but the store lacks (not yet collected from its log).
        stored = np.zeros(len(a))
        if len(ev) and boot_index:
            keys = pd.MultiIndex.from_arrays([ev["device_id"], ev["boot_id"]])
            lookup = pd.Series(list(boot_index.values()),
                               index=pd.MultiIndex.from_tuples(list(boot_index)))
            k = lookup.reindex(keys).to_numpy()
            ok = ~np.isnan(k)
            ek = k[ok].astype(np.int64) * (1 << 44) + ev["t_ms"].to_numpy()[ok]
            pk = bidx * (1 << 44) + U
            pos = np.searchsorted(pk, ek, side="left") - 1
            good = (pos >= 0) & (pos < len(a))
            good[good] &= same[pos[good]]
            stored = np.bincount(pos[good], minlength=len(a)).astype(float)
        lack = np.where(same, np.maximum(np.diff(E) - stored, 0), 0)
        inside = same & (a >= diary._lo) & (bb < diary._hi)
        span = np.maximum(bb - a, 1).astype(float)
        ddrop = np.diff(DR)
        for s in range(ns):
            sel = same & (site_of == s)
            if not sel.any():
                continue
            A, B = a[sel], bb[sel]
            _spread(acc[s], diff[s], A, B, f[sel], g0, n)
            _spread(drop[0][s], drop[1][s], A, B, ddrop[sel] / span[sel], g0, n)
            _spread(samp[0][s], samp[1][s], A, B, dsamp[sel] / span[sel], g0, n)
            sel &= inside
            _spread(missing[0][s], missing[1][s], a[sel], bb[sel], lack[sel] / span[sel],
                    g0, n)
    for dev, boot in spans:
        # No counters at all: the span of its events, flagged as an estimate.
        t = ev.loc[(ev.device_id == dev) & (ev.boot_id == boot), "time_ms"].to_numpy()
        s = diary._site_code[diary._boot_site[(dev, boot)]]
        _spread(acc[s], diff[s], t[:1], t[-1:] + 1, np.ones(1), g0, n)
        diary._estimated_boots.append((dev, boot))
    cov = acc + np.cumsum(diff, axis=1)[:, :n]
    diary.cov = np.clip(cov / MINUTE_MS, 0.0, 1.0)    # fraction of each minute recorded
    diary.cov_any = diary.cov.max(axis=0) if ns else np.zeros(n)
    diary._drop, diary._samp, diary._missing = [
        x[0] + np.cumsum(x[1], axis=1)[:, :n] for x in (drop, samp, missing)]


def recorded_hours(diary, site=None, mask=None):
    """Hours recorded in the range by a region (None: by any sensor), optionally only
    minutes where mask is true."""
    cov = diary.cov_any if site is None else diary.cov[diary._site_code[site]]
    w = cov * diary._min_w
    if mask is not None:
        w = w * mask
    return float(w.sum() / 60.0)


def _in_range_days(diary):
    w = diary._min_w > 0
    return np.unique(diary._min_day[w])
