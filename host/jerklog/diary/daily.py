"""Per-day and per-hour figures: counts and rates per local day, the hour matrix,
frequency per hour awake and asleep, and the trend over the period."""
import numpy as np
import pandas as pd

from jerklog.diary.config import DAY_MS, EXTENTS, HOUR_MS, MINUTE_MS, WHEN
from jerklog.diary.load import _day_text
from jerklog.localtime import format_iso, offset_text


def per_day(diary):
    """One row per local date: recorded hours, jerks, rates, extents, day and night."""
    if ("per_day",) in diary._memo:
        return diary._memo[("per_day",)]
    diary._memo[("per_day",)] = out = diary._per_day()
    return out


def _per_day(diary):
    days = diary._in_range_days()
    if not len(days):
        return pd.DataFrame()
    d0 = days[0]
    nd = int(days[-1] - d0 + 1)
    w = diary._min_w
    idx = diary._min_day - d0
    ok = (w > 0) & (idx >= 0) & (idx < nd)
    hours = np.bincount(idx[ok], weights=(diary.cov_any * w)[ok], minlength=nd) / 60
    period = np.bincount(idx[ok], weights=w[ok], minlength=nd) / 60
    night_h = np.bincount(idx[ok], weights=(diary.cov_any * w * diary.night)[ok],
                          minlength=nd) / 60
    J = diary.jerks
    jd = (J["day"].to_numpy() - d0).astype(np.int64)
    out = pd.DataFrame(index=pd.RangeIndex(nd))
    out["date"] = [_day_text(d0 + i) for i in range(nd)]
    first = np.full(nd, -1, dtype=np.int64)
    sel = np.flatnonzero(ok)
    first_pos = np.unique(idx[sel], return_index=True)
    first[first_pos[0]] = diary._min_start[sel[first_pos[1]]]
    out["day_start"] = [format_iso(max(int(v), diary.from_ms), diary.zones)
                        if v >= 0 else "" for v in first]
    offs = {}
    for i, o in zip(idx[ok].tolist(), (diary._min_local - diary._min_start)[ok].tolist()):
        offs.setdefault(i, set()).add(o)
    out["utc_offset"] = [" ".join(offset_text(o) for o in sorted(offs.get(i, ())))
                         for i in range(nd)]
    out["period_hours"] = period
    out["hours"] = hours
    out["jerks"] = np.bincount(jd, minlength=nd)
    out["per_hour"] = np.where(hours > 0, out["jerks"] / np.maximum(hours, 1e-9), np.nan)
    for ex in EXTENTS:
        out[ex] = np.bincount(jd, weights=(J["extent"] == ex).to_numpy(), minlength=nd)
    nightj = J["night"].to_numpy().astype(bool)
    out["day_jerks"] = np.bincount(jd[~nightj], minlength=nd)
    out["night_jerks"] = np.bincount(jd[nightj], minlength=nd)
    out["day_hours"] = hours - night_h
    out["night_hours"] = night_h
    out["in_series"] = np.bincount(jd, weights=(J["series"] > 0).to_numpy(), minlength=nd)
    out["negative"] = np.bincount(jd, weights=(J["kind"] == "negative").to_numpy(),
                                  minlength=nd)
    ev = diary.events
    trig = ev[ev["kind"] == "trigger"]
    out["triggers"] = np.bincount((trig["day"].to_numpy() - d0).astype(np.int64),
                                  minlength=nd)[:nd]
    meds = diary.medication_notes()
    mtext = {}
    for r in meds.itertuples():
        mtext.setdefault(int(r.day - d0), []).append(r.label)
    out["medication"] = ["; ".join(mtext.get(i, [])) for i in range(nd)]
    for c in ("jerks", "day_jerks", "night_jerks", "in_series", "negative", "triggers") + \
            EXTENTS:
        out[c] = out[c].astype(np.int64)
    return out


def _devices_by_day(diary, jerks):
    """(site code, local day) -> ids of the devices worn there that day: a boot counts on
    every local day its span (epoch_ms to epoch_ms + uptime_ms) touches, and a device on
    the days of its jerks. Not every device the region ever had, on every day."""
    worn = {}
    for b in diary.boots.itertuples():
        dev = int(b.device_id)
        site = diary._boot_site.get((dev, int(b.boot_id)))
        if site not in diary._site_code or pd.isna(b.epoch_ms):
            continue
        start = int(b.epoch_ms)
        end = start + (0 if pd.isna(b.uptime_ms) else int(b.uptime_ms))
        first, last = np.floor_divide(diary.zones.local_ms([start, end]), DAY_MS).tolist()
        for day in range(first, last + 1):
            worn.setdefault((diary._site_code[site], day), set()).add(dev)
    for dev, code, day in zip(jerks["device_id"].tolist(), jerks["site_code"].tolist(),
                              jerks["day"].tolist()):
        worn.setdefault((int(code), int(day)), set()).add(int(dev))
    return worn


def per_day_region(diary):
    """One row per local date and region (with anything recorded or seen): hours,
    the region's events by extent, day/night and context, strength, dropped samples,
    events missing. The summary CSV's region rows."""
    key = ("per_day_region",)
    if key in diary._memo:
        return diary._memo[key]
    days = diary._in_range_days()
    if not len(days):
        return pd.DataFrame()
    d0 = days[0]
    nd = int(days[-1] - d0 + 1)
    ns = len(diary.sites)
    w = diary._min_w
    idx = diary._min_day - d0
    ok = (w > 0) & (idx >= 0) & (idx < nd)
    inside = w

    def per_site(values):
        out = np.stack([np.bincount(idx[ok], weights=values[s][ok], minlength=nd)[:nd]
                        for s in range(ns)]) if ns else np.zeros((0, nd))
        return np.clip(out, 0, None)

    hours = per_site(diary.cov * w) / 60
    dropped = per_site(diary._drop * inside)
    samples = per_site(diary._samp * inside)
    missing = per_site(diary._missing * inside)
    ev = diary.events
    E = ev[ev["is_jerk"]]
    cell = E["site_code"].to_numpy() * nd + (E["day"].to_numpy() - d0).astype(np.int64)
    size = ns * nd

    def count(mask=None):
        wts = None if mask is None else np.asarray(mask, dtype=float)
        return np.bincount(cell, weights=wts, minlength=size)[:size].reshape(ns, nd)

    cols = dict(events=count())
    for ex in EXTENTS:
        cols[ex] = count(E["extent"] == ex)
    cols["in_series"] = count(E["series"] > 0)
    cols["night"] = count(E["night"])
    cols["day"] = cols["events"] - cols["night"]
    for wname in WHEN:
        cols[wname] = count(E["when"] == wname)
    cols["negative"] = count(E["kind"] == "negative")
    cols["sure"] = count(E["confidence"] >= diary.config.sure_confidence)
    stats = E.assign(cell=cell).groupby("cell").agg(
        peak_g_median=("peak_g", "median"), peak_g_max=("peak_g", "max"),
        peak_dps_median=("peak_dps", "median"),
        duration_ms_median=("duration_ms", "median"))
    sc, di = np.meshgrid(np.arange(ns), np.arange(nd), indexing="ij")
    keep = (hours > 0) | (cols["events"] > 0) | (samples > 0)
    sc, di = sc[keep], di[keep]
    worn = _devices_by_day(diary, E)
    out = pd.DataFrame({"date": [_day_text(d0 + i) for i in di.tolist()],
                        "region": [diary.sites[i] for i in sc.tolist()],
                        "devices": [" ".join(str(d) for d in sorted(worn.get((s, d0 + i), ())))
                                    for s, i in zip(sc.tolist(), di.tolist())],
                        "hours": hours[keep]})
    out["events"] = cols["events"][keep].astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["per_hour"] = np.where(out["hours"] > 0, out["events"] / out["hours"], np.nan)
    for c in list(EXTENTS) + ["in_series", "day", "night"] + list(WHEN) + ["negative",
                                                                            "sure"]:
        out[c] = cols[c][keep].astype(np.int64)
    st = stats.reindex(sc * nd + di)
    for c in stats.columns:
        out[c] = st[c].to_numpy()
    out["samples"] = np.rint(samples[keep]).astype(np.int64)
    out["dropped_samples"] = np.rint(dropped[keep]).astype(np.int64)
    tot = out["samples"] + out["dropped_samples"]
    out["dropped_pct"] = np.where(tot > 0, 100.0 * out["dropped_samples"] /
                                  tot.where(tot > 0, 1), np.nan)
    out["events_missing"] = np.rint(missing[keep]).astype(np.int64)
    out = out.sort_values(["date", "region"], kind="stable").reset_index(drop=True)
    diary._memo[key] = out
    return out


def per_minute(diary):
    """Jerks per clock minute (Unix minute start -> count), minutes with any jerk."""
    m = (diary.jerks["time_ms"].to_numpy() // MINUTE_MS) * MINUTE_MS
    return pd.Series(m).value_counts().sort_index()


def hour_matrix(diary, site=None):
    """(dates, counts[day, hour], recorded_hours[day, hour]) for a region's events
    (site=None: all jerks)."""
    days = diary._in_range_days()
    if not len(days):
        return [], np.zeros((0, 24)), np.zeros((0, 24))
    d0 = days[0]
    nd = int(days[-1] - d0 + 1)
    w = diary._min_w
    ok = w > 0
    hour = (diary._min_local % DAY_MS) // HOUR_MS
    cell = (diary._min_day - d0) * 24 + hour
    cov = diary.cov_any if site is None else diary.cov[diary._site_code[site]]
    hours = np.bincount(cell[ok], weights=(cov * w)[ok], minlength=nd * 24)[:nd * 24] / 60
    if site is None:
        J = diary.jerks
    else:
        J = diary.events[(diary.events["site"] == site) & diary.events["is_jerk"]]
    c = (J["day"].to_numpy() - d0) * 24 + J["hour"].to_numpy()
    counts = np.bincount(c.astype(np.int64), minlength=nd * 24)[:nd * 24]
    dates = [_day_text(d0 + i) for i in range(nd)]
    return dates, counts.reshape(nd, 24), hours.reshape(nd, 24)


def frequency(diary):
    cfg = diary.config
    J = diary.jerks
    n = len(J)
    hours = diary.recorded_hours()
    night_h = diary.recorded_hours(mask=diary.night)
    day_h = hours - night_h
    nj = int(J["night"].sum()) if n else 0
    pm = diary.per_minute()
    ph = J.groupby(["day", "hour"]).size() if n else pd.Series(dtype=int)
    days = diary.per_day()
    full = days[days["hours"] >= cfg.trend_min_day_hours] if len(days) else days
    per_day_rates = (full["jerks"] / full["hours"] * 24) if len(full) else pd.Series([])
    k0 = diary._k0
    keys = diary._night_key
    wmask = (diary._min_w > 0) & (diary.cov_any > 0)
    nights = np.unique(keys[wmask]) if wmask.any() else np.zeros(0, np.int64)
    from_sleep = int(diary._use_sleep[nights - k0].sum()) if len(nights) else 0
    out = dict(
        jerks=n, events=int(diary.events["is_jerk"].sum()),
        sure=int((J["confidence"] >= cfg.sure_confidence).sum()) if n else 0,
        negative=int((J["kind"] == "negative").sum()) if n else 0,
        hours=hours, per_hour=n / hours if hours > 0 else None,
        per_24h=n / hours * 24 if hours > 0 else None,
        max_per_minute=int(pm.max()) if len(pm) else 0,
        max_minute_ms=int(pm.idxmax()) if len(pm) else None,
        minutes_5_or_more=int((pm >= 5).sum()) if len(pm) else 0,
        max_per_hour=int(ph.max()) if len(ph) else 0,
        day_jerks=n - nj, night_jerks=nj, day_hours=day_h, night_hours=night_h,
        day_per_hour=(n - nj) / day_h if day_h > 0 else None,
        night_per_hour=nj / night_h if night_h > 0 else None,
        nights=len(nights), nights_from_sleep=from_sleep,
        nights_from_clock=len(nights) - from_sleep,
        per_day_median=float(per_day_rates.median()) if len(per_day_rates) else None,
        per_day_min=float(per_day_rates.min()) if len(per_day_rates) else None,
        per_day_max=float(per_day_rates.max()) if len(per_day_rates) else None,
        full_days=len(full))
    if len(ph):
        (d, h) = ph.idxmax()
        t = int(J["time_ms"][(J["day"] == d) & (J["hour"] == h)].iloc[0])
        off = int(diary.zones.offsets_ms(np.array([t]))[0])
        out["max_hour"] = "%s %02d:00 %s" % (_day_text(d), h, offset_text(off))
    else:
        out["max_hour"] = None
    return out


def trend(diary):
    """Daily rate (jerks per recorded hour) across days recorded long enough."""
    cfg = diary.config
    days = diary.per_day()
    out = dict(days=0, slope_per_week=None, change_pct_per_week=None, first_rate=None,
               last_rate=None, direction="not enough days")
    if not len(days):
        return out
    ok = days[days["hours"] >= cfg.trend_min_day_hours]
    out["days"] = len(ok)
    if len(ok) < cfg.trend_min_days:
        return out
    x = ok.index.to_numpy(dtype=float)
    y = (ok["jerks"] / ok["hours"]).to_numpy()
    slope = float(np.polyfit(x, y, 1)[0]) if np.ptp(x) > 0 else 0.0
    half = len(ok) // 2
    first, last = float(y[:half].mean()), float(y[len(ok) - half:].mean())
    mean = float(y.mean())
    pct = 100.0 * slope * 7 / mean if mean > 0 else 0.0
    span = float(np.ptp(x))
    over = 100.0 * slope * span / mean if mean > 0 else 0.0
    cut = cfg.trend_change_pct
    out.update(slope_per_week=slope * 7, change_pct_per_week=pct, change_pct=over,
               first_rate=first, last_rate=last, half_days=half,
               direction=("rising" if over >= cut else "falling" if over <= -cut else
                          "stable"))
    return out
