"""Data quality: gaps in the recording, dropped samples, events the boards counted but
the store lacks, clock corrections, per day."""
import numpy as np

from jerklog.diary.config import HOUR_MS, MINUTE_MS


def gaps(diary, site=None):
    """Stretches of at least gap_min_ms inside the range with nothing recorded by a
    region (None: by no sensor at all), as (start_ms, end_ms) pairs."""
    cov = diary.cov_any if site is None else diary.cov[diary._site_code[site]]
    inside = diary._min_w > 0
    empty = (cov <= 0) & inside
    edges = np.diff(np.concatenate([[0], empty.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    out = []
    for a, b in zip(starts.tolist(), ends.tolist()):
        sa = max(int(diary._min_start[a]), diary.from_ms)
        sb = min(int(diary._g0 + b * MINUTE_MS), diary.to_ms)
        if sb - sa >= diary.config.gap_min_ms:
            out.append((sa, sb))
    return out


def quality(diary):
    """Recorded hours, gaps, dropped samples, missing events, clocks. (Battery is not here: no
    board reports it yet.)"""
    if ("quality",) not in diary._memo:
        diary._memo[("quality",)] = diary._quality()
    return dict(diary._memo[("quality",)])


def _quality(diary):
    w = diary._min_w
    out = dict(period_hours=diary.period_hours, hours=diary.recorded_hours(),
               regions=[])
    out["pct"] = 100.0 * out["hours"] / out["period_hours"] if out["period_hours"] else None
    g = diary.gaps()
    out["gaps"] = len(g)
    out["gap_hours"] = sum(b - a for a, b in g) / HOUR_MS
    out["longest_gap"] = max(g, key=lambda x: x[1] - x[0]) if g else None
    tot_d = tot_s = tot_m = 0
    for s, site in enumerate(diary.sites):
        d = round(max(float((diary._drop[s] * w).sum()), 0.0))
        sm = round(max(float((diary._samp[s] * w).sum()), 0.0))
        mi = round(max(float((diary._missing[s] * w).sum()), 0.0))
        tot_d, tot_s, tot_m = tot_d + d, tot_s + sm, tot_m + mi
        h = diary.recorded_hours(site)
        sg = diary.gaps(site)
        if site not in diary.active_sites:
            continue
        out["regions"].append(dict(
            region=site, hours=h,
            pct=100.0 * h / diary.period_hours if diary.period_hours else None,
            gaps=len(sg), gap_hours=sum(b - a for a, b in sg) / HOUR_MS,
            dropped=int(d), samples=int(sm),
            dropped_pct=100.0 * d / (d + sm) if d + sm else None,
            events_missing=int(mi)))
    out["dropped"] = int(tot_d)
    out["samples"] = int(tot_s)
    out["dropped_pct"] = 100.0 * tot_d / (tot_d + tot_s) if tot_d + tot_s else None
    out["events_missing"] = int(tot_m)
    J = diary.jerks
    out["jerks_outside_recorded"] = int((diary.cov_any[J["minute"].to_numpy()] <= 0).sum()) \
        if len(J) else 0
    out.update(diary.clocks())
    out["estimated_boots"] = len(diary._estimated_boots)
    # Boots of one device covering the same time: counted once (overlap.py).
    out["recorded_twice"] = [dict(o) for o in diary.recorded_twice]
    # Stretches of an hour or more in which a board did not move at all: lying off the body
    # (diary/epochs.py), per device, inside the diary's range.
    out["not_worn"] = []
    for device, spans in sorted(diary.non_wear.items()):
        ms = sum(max(0, min(b, diary.to_ms) - max(a, diary.from_ms)) for a, b in spans)
        if ms:
            out["not_worn"].append(dict(device_id=device, hours=ms / HOUR_MS))
    out["sleep_from"] = "epochs" if diary.epoch_sleep else "events"
    logs = diary.board_logs
    # Events a board's full on-board log dropped before a computer collected them.
    out["log_dropped"] = sum(r["dropped"] or 0 for r in logs)
    out["log_dropped_devices"] = [r["device_id"] for r in logs if r["dropped"]]
    return out


def clocks(diary):
    """How the boards' times were set, and events stored before a clock correction."""
    ev = diary.events
    B = diary.boots
    used = set(zip(ev["device_id"].tolist(), ev["boot_id"].tolist()))
    kinds = {"device": 0, "host": 0, "unknown": 0}
    for b in B.itertuples():
        if (int(b.device_id), int(b.boot_id)) in used:
            c = b.clock if isinstance(b.clock, str) else "unknown"
            kinds[c if c in kinds else "unknown"] += 1
    shift = (ev["time_ms"] - ev["t_ms"] - ev["boot_epoch_ms"]).to_numpy(dtype=float)
    shifted = np.isfinite(shift) & (shift != 0)
    return dict(clock_corrections=len(diary.clock_corrections),
                boots_device_clock=kinds["device"], boots_host_clock=kinds["host"],
                boots_unknown_clock=kinds["unknown"],
                events_shifted=int(shifted.sum()),
                max_shift_ms=float(np.abs(shift[shifted]).max()) if shifted.any() else 0.0)


def quality_by_day(diary):
    """Per region and local date: hours recorded, dropped samples, events missing."""
    P = diary.per_day_region()
    if P.empty:
        return P
    return P[["date", "region", "devices", "hours", "samples", "dropped_samples",
              "dropped_pct", "events_missing"]]
