"""Grouping and extent: events of several sensors within group_window_ms are one jerk;
a jerk is generalised, multifocal, focal or unclassified (docs/diary.md)."""
import numpy as np
import pandas as pd

from jerklog.diary.config import _CTX_CODE, EXTENTS, JERK_KINDS
from jerklog.diary.load import _popcount


def _jerks(diary):
    cfg = diary.config
    ev = diary._all
    # Button presses and tremor episodes are listed but are never jerks (docs/diary.md).
    is_jerk = ev["kind"].isin(JERK_KINDS).to_numpy()
    ev["is_jerk"] = is_jerk
    jv = ev[is_jerk]
    t = jv["time_ms"].to_numpy()
    n = len(t)
    gid = np.zeros(n, dtype=np.int64)
    g, start, window = -1, None, cfg.group_window_ms
    for i, ti in enumerate(t.tolist()):
        if g < 0 or ti - start > window:
            g += 1
            start = ti
        gid[i] = g
    ng = g + 1
    starts = np.flatnonzero(np.diff(np.concatenate([[-1], gid]))) if n else np.zeros(0,
                                                                                 int)
    bits = (np.int64(1) << jv["site_code"].to_numpy().astype(np.int64)) if n else \
        np.zeros(0, np.int64)
    ctx = jv["context"].map(_CTX_CODE).fillna(0).to_numpy().astype(np.int64)
    G = pd.DataFrame({"time_ms": t[starts] if n else np.zeros(0, np.int64)})
    if n:
        G["n_events"] = np.diff(np.concatenate([starts, [n]]))
        G["site_mask"] = np.bitwise_or.reduceat(bits, starts)
        G["ctx"] = np.maximum.reduceat(ctx, starts)
        for col in ("peak_g", "peak_dps", "duration_ms", "confidence"):
            v = jv[col].to_numpy(dtype=float)
            G[col] = pd.Series(v).groupby(gid).max().to_numpy()
        G["kind"] = jv["kind"].to_numpy()[starts]
    else:
        for col in ("n_events", "site_mask", "ctx"):
            G[col] = np.zeros(0, np.int64)
        for col in ("peak_g", "peak_dps", "duration_ms", "confidence"):
            G[col] = np.zeros(0)
        G["kind"] = np.zeros(0, dtype=object)
    ev["gid"] = -1
    ev.loc[is_jerk, "gid"] = gid
    G["n_regions"] = _popcount(G["site_mask"].to_numpy())
    # Regions recording at that minute (a region that saw the jerk was recording).
    m = diary._minute(G["time_ms"].to_numpy())
    worn = np.zeros(ng, dtype=np.int64)
    for s in range(len(diary.sites)):
        worn |= np.where(diary.cov[s][m] > 0, np.int64(1) << s, 0)
    worn |= G["site_mask"].to_numpy()
    G["n_worn"] = _popcount(worn)
    diary._classify(G)
    um, inv = np.unique(G["site_mask"].to_numpy(), return_inverse=True)
    G["site_text"] = np.array([diary._mask_text(m_) for m_ in um.tolist()] + [""],
                              dtype=object)[inv.reshape(-1)] if ng else \
        np.zeros(0, dtype=object)
    # Series: runs of jerks closer than series_gap_ms.
    tg = G["time_ms"].to_numpy()
    gaps = np.diff(tg)
    run = np.concatenate([[0], np.cumsum(gaps > cfg.series_gap_ms)]) if ng else \
        np.zeros(0, np.int64)
    size = np.bincount(run)[run] if ng else np.zeros(0, np.int64)
    in_series = size >= cfg.series_min_jerks
    G["run"] = run
    G["series_raw"] = np.where(in_series, run, -1)
    G["iti_ms"] = np.concatenate([[np.nan], gaps.astype(float)]) if ng else np.zeros(0)
    G["in_range"] = (tg >= diary.from_ms) & (tg < diary.to_ms)
    G["minute"] = m
    diary._G = G


def _mask_text(diary, mask):
    return "+".join(s for i, s in enumerate(diary.sites) if (int(mask) >> i) & 1)


def _classify(diary, G):
    cfg = diary.config
    nr, nw = G["n_regions"].to_numpy(), G["n_worn"].to_numpy()
    gen = (nr >= cfg.generalised_min_regions) | ((nw >= 2) & (nr >= nw))
    uncl = ~gen & (nw <= 1)
    multi = ~gen & (nr >= 2)
    single = ~gen & ~uncl & (nr == 1)
    t = G["time_ms"].to_numpy()
    mask = G["site_mask"].to_numpy()
    ng = ~gen
    W = cfg.multifocal_window_ms
    per_site = [np.sort(t[ng & (((mask >> s) & 1) == 1)]) for s in range(len(diary.sites))]
    for s in range(len(diary.sites)):
        idx = np.flatnonzero(single & (mask == (np.int64(1) << s)))
        if not len(idx):
            continue
        ts = t[idx]
        hit = np.zeros(len(idx), dtype=bool)
        for o in range(len(diary.sites)):
            if o == s or not len(per_site[o]):
                continue
            cnt = (np.searchsorted(per_site[o], ts + W, side="right")
                   - np.searchsorted(per_site[o], ts - W, side="left"))
            hit |= cnt >= cfg.multifocal_min_jerks
        multi[idx[hit]] = True
    extent = np.full(len(t), "focal", dtype=object)
    extent[multi] = "multifocal"
    extent[uncl] = "unclassified"
    extent[gen] = "generalised"
    G["extent"] = extent


def extents(diary):
    J = diary.jerks
    return {ex: int((J["extent"] == ex).sum()) for ex in EXTENTS}


def regions(diary):
    """Per region: its events, how many of them were part of generalised, multifocal,
    focal or unclassified jerks, its recorded hours and rate."""
    ev = diary.events[diary.events["is_jerk"]]
    rows = []
    for site in diary.sites:
        g = ev[ev["site"] == site]
        h = diary.recorded_hours(site)
        devs = sorted({d for (d, b), s in diary._boot_site.items() if s == site})
        row = dict(region=site, devices=" ".join(str(d) for d in devs), events=len(g),
                   hours=h, per_hour=len(g) / h if h > 0 else None)
        for ex in EXTENTS:
            row[ex] = int((g["extent"] == ex).sum())
        if h > 0 or len(g):
            rows.append(row)
    return pd.DataFrame(rows, columns=["region", "devices", "events", "hours",
                                       "per_hour"] + list(EXTENTS))
