"""The report's charts, and the few figures the report computes itself from the diary's
public frames (diary.jerks, diary.events, diary.sleep, diary.gaps(), diary.per_day(),
diary.hour_matrix(), ...): the day-by-day raster of page 1 and the nights side by side.

Every chart is drawn only when it carries information (the report decides, see
report._document); the colours are the Okabe-Ito palette, which colour-blind readers tell
apart, and no text is smaller than MIN_PT.
"""
import datetime as dt
import weakref

import numpy as np
import pandas as pd

from jerklog.diary.config import DAY_MS, EXTENTS, HOUR_MS, MINUTE_MS
from jerklog.exports.report_layout import MIN_PT

# Okabe & Ito (2008), in the order regions take them; yellow last (faint on white).
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000",
             "#F0E442")
SLEEP = "#bcd7ee"            # sleep shading behind the ticks
UNRECORDED = "#e2e2e2"       # nothing recorded (hatched)
HATCH = "#9a9a9a"
AWAKE, ASLEEP = "#E69F00", "#0072B2"
EXTENT_COLOUR = dict(generalised="#D55E00", multifocal="#E69F00", focal="#0072B2",
                     unclassified="#999999")
MARK = "#000000"


def region_colours(diary):
    return {s: OKABE_ITO[i % len(OKABE_ITO)] for i, s in enumerate(diary.active_sites)}


# -- local days -------------------------------------------------------------------------------
def local_ms(diary, ms):
    return diary.zones.local_ms(np.asarray(ms, dtype=np.int64))


_START = weakref.WeakKeyDictionary()


def row_start(diary):
    """The local hour the raster's rows start at: noon for a recording that is mostly
    night (so each night is one unbroken row, as a sleep laboratory shows it), else
    midnight (a row per calendar day)."""
    if diary not in _START:
        F = diary.frequency()
        night = F["hours"] > 0 and F["night_hours"] >= 0.6 * F["hours"]
        _START[diary] = 12 if night else 0
    return _START[diary]


def day_numbers(diary, start=0):
    """Row numbers of the period: local days since 1970-01-01, each row beginning at the
    local hour `start` (0: calendar days)."""
    a, b = local_ms(diary, [diary.from_ms, max(diary.to_ms - 1, diary.from_ms)]).tolist()
    sh = start * HOUR_MS
    return np.arange((a - sh) // DAY_MS, (b - sh) // DAY_MS + 1, dtype=np.int64)


def day_date(d):
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(d))


def day_label(d):
    return day_date(d).strftime("%a %d %b")


def offset_rows(diary, start=0):
    """Rows (as day_numbers gives them) in which the UTC offset changed (daylight saving,
    travel)."""
    t = np.arange(diary.from_ms, diary.to_ms + HOUR_MS, HOUR_MS, dtype=np.int64)
    if len(t) < 2:
        return set()
    off = diary.zones.offsets_ms(t)
    ch = np.flatnonzero(np.diff(off) != 0) + 1
    return {int(x) for x in np.floor_divide(t[ch] + off[ch] - start * HOUR_MS, DAY_MS)}


def _segments(la, lb, row0, nrows, start=0):
    """Split [la, lb) local ms at the rows' starts: (row, start hour, length in hours)."""
    out = []
    sh = start * HOUR_MS
    la, lb = la - sh, lb - sh
    if lb <= la:
        return out
    for d in range(max(la // DAY_MS, row0), min((lb - 1) // DAY_MS, row0 + nrows - 1) + 1):
        s_, e_ = max(la, d * DAY_MS), min(lb, (d + 1) * DAY_MS)
        out.append((d - row0, start + (s_ - d * DAY_MS) / HOUR_MS, (e_ - s_) / HOUR_MS))
    return out


# -- nights side by side ----------------------------------------------------------------------
NIGHT_COLUMNS = ["night", "onset_ms", "waking_ms", "onset_located", "waking_located",
                 "episodes", "hours", "awake_within_min", "jerks", "per_hour", "at_onset",
                 "after_waking"]


_NIGHTS = weakref.WeakKeyDictionary()


def nights(diary):
    """One row per night (local noon to noon) whose sleep the diary uses for night (at
    least min_sleep_ms of it): sleep from the first onset to the last waking, hours asleep
    and recorded (between onset and waking of each sleep, gaps taken out), time awake
    between sleeps, jerks the diary counts in that night's sleep, their rate per hour of
    sleep (a PLM-index-like figure), and the jerks at sleep onset and just after waking."""
    if diary not in _NIGHTS:
        _NIGHTS[diary] = _nights(diary)
    return _NIGHTS[diary]


def _count_in(t, flag_cum, windows):
    """Jerks flagged (cumulative counts flag_cum) inside the union of windows [a, b]."""
    total, last = 0, -1
    for a, b in sorted(windows):
        lo = max(int(np.searchsorted(t, a, side="left")), last)
        hi = int(np.searchsorted(t, b, side="right"))
        if hi > lo:
            total += int(flag_cum[hi] - flag_cum[lo])
            last = hi
    return total


def _nights(diary):
    S = diary.sleep
    if not len(S):
        return pd.DataFrame(columns=NIGHT_COLUMNS)
    cfg = diary.config
    J = diary.jerks
    t = J["time_ms"].to_numpy()
    key = np.floor_divide(local_ms(diary, t) - 12 * HOUR_MS, DAY_MS)
    night = J["night"].to_numpy().astype(bool)
    ks, kc = np.unique(key[night], return_counts=True)
    per_key = dict(zip(ks.tolist(), kc.tolist()))
    when = J["when"].to_numpy()
    on_cum = np.concatenate([[0], np.cumsum(when == "sleep onset")])
    after_cum = np.concatenate([[0], np.cumsum(when == "after waking")])
    G = np.array(diary.gaps(), dtype=np.int64).reshape(-1, 2)
    rows = []
    for name, g in S.groupby("night_of", sort=True):
        a = g["onset_ms"].to_numpy(dtype=np.int64)
        b = g["waking_ms"].to_numpy(dtype=np.int64)
        span = int(np.clip(b - a, 0, None).sum())
        if span < cfg.min_sleep_ms:
            continue
        lost = int(np.clip(np.minimum(b[:, None], G[None, :, 1]) -
                           np.maximum(a[:, None], G[None, :, 0]), 0, None).sum()) \
            if len(G) else 0
        hours = (span - lost) / HOUR_MS
        jerks = per_key.get(int(np.datetime64(name, "D").astype(np.int64)), 0)
        onset = [(e.first_asleep_ms - cfg.onset_before_ms, e.first_asleep_ms +
                  cfg.onset_after_ms) for e in g.itertuples() if e.onset_located]
        after = [(e.last_asleep_ms, e.first_awake_after_ms + cfg.waking_after_ms)
                 for e in g.itertuples() if e.waking_located]
        on, off = int(a.min()), int(b.max())
        rows.append(dict(
            night=name, onset_ms=on, waking_ms=off,
            onset_located=bool(g["onset_located"].iloc[0]),
            waking_located=bool(g["waking_located"].iloc[-1]), episodes=len(a),
            hours=hours, awake_within_min=max(0, off - on - span) / MINUTE_MS, jerks=jerks,
            per_hour=jerks / hours if hours > 0 else None,
            at_onset=_count_in(t, on_cum, onset), after_waking=_count_in(t, after_cum,
                                                                           after)))
    return pd.DataFrame(rows, columns=NIGHT_COLUMNS)


# -- page 1: the day-by-day raster ------------------------------------------------------------
LEGEND_COLS = 4


def _legend_items(diary):
    return len(diary.active_sites) + 2 + int(len(diary.medication_notes()) > 0) + \
        int(len(diary.trigger_marks()) > 0)


def raster_fixed_h(diary):
    """Inches of a raster's box that are not day rows: hour labels, legend, footnote."""
    rows = -(-_legend_items(diary) // LEGEND_COLS)
    return 0.28 + 0.22 + 0.1 + rows * 0.17 + (0.3 if offset_rows(diary, row_start(diary))
                                               else 0.0)


def raster_row_h(diary, ndays, avail):
    """Height of one row: as much as fits, but no more than reads well."""
    k = max(len(diary.active_sites), 1)
    cap = (0.6 if ndays == 1 else 0.5 if ndays <= 3 else 0.36) if k == 1 else \
        min(0.16 * k + 0.1, 0.8)
    return max(min(cap, (avail - raster_fixed_h(diary)) / max(ndays, 1)), 0.05)


def raster_rows(diary):
    return day_numbers(diary, row_start(diary))


def draw_raster(box, diary, days, row_h=None):
    """The actogram: one row per local day (from midnight, or from noon for a recording
    that is mostly night), so a daylight-saving day keeps the clock's hours with one hour
    empty or doubled; each jerk a tick coloured by body region (one lane per region where
    the rows are tall enough), sleep shaded, unrecorded time hatched, medication (triangle)
    and trigger (cross) marks. Draws at the top of the box; returns the height used."""
    import matplotlib.collections as mcoll
    import matplotlib.patches as mpatches
    from matplotlib.lines import Line2D
    sites = list(diary.active_sites)
    colour = region_colours(diary)
    start = row_start(diary)
    nd = len(days)
    day0 = int(days[0])
    if row_h is None:
        row_h = raster_row_h(diary, nd, box.h)
    K = max(len(sites), 1)
    lanes = K if K > 1 and row_h * 72 * 0.83 / K >= 1.2 else 1
    lane_h = 0.83 / lanes
    changed = offset_rows(diary, start)
    height = nd * row_h + raster_fixed_h(diary)
    top = box.h
    ax_h = nd * row_h
    sh = start * HOUR_MS

    def place(ms):
        loc = local_ms(diary, ms) - sh
        d = np.floor_divide(loc, DAY_MS)
        return d - day0, start + (loc - d * DAY_MS) / HOUR_MS, (d >= day0) & (d < day0 + nd)

    # One short recording in one row: the row shows its hours only, not 24.
    xlo, xhi = start, start + 24
    if nd == 1 and diary.to_ms - diary.from_ms < 16 * HOUR_MS:
        xa = float(place([diary.from_ms])[1][0])
        xb = float(place([max(diary.to_ms - 1, diary.from_ms)])[1][0])
        xlo, xhi = max(start, int(np.floor(xa))), min(start + 24, int(np.ceil(xb)))
        xhi = max(xhi, xlo + 1)
    span = xhi - xlo
    step = 0.25 if span <= 2 else 0.5 if span <= 4 else 1 if span <= 12 else \
        2 if span <= 16 else 3
    ax = box.axes(0.85, top - 0.28 - ax_h, box.w - 0.85 - 0.05, ax_h)
    ax.set_xlim(xlo, xhi)
    ax.set_ylim(nd, 0)
    first = xlo + (-xlo) % step
    major = np.arange(first, xhi + 1e-9, step)
    ax.set_xticks(major)
    ax.set_xticklabels(["%02d:%02d" % (int(h) % 24, round((h % 1) * 60)) for h in major])
    ax.set_xticks(np.arange(xlo, xhi + 1e-9, step / 3 if step < 1 else 1), minor=True)
    ax.tick_params(axis="x", labelsize=MIN_PT, top=True, labeltop=True, bottom=True,
                   labelbottom=True, length=2.5, pad=1.5)
    ax.tick_params(axis="x", which="minor", length=1.2, top=True)
    ax.tick_params(axis="y", length=0, labelsize=MIN_PT, pad=3)
    if nd <= 40:
        ticks = list(range(nd))
    else:                       # a long raster: the Mondays (and the first row)
        ticks = sorted({0} | {i for i in range(nd) if day_date(day0 + i).weekday() == 0})
    ax.set_yticks([i + 0.5 for i in ticks])
    ax.set_yticklabels([day_label(day0 + i) + (" *" if day0 + i in changed else "")
                        for i in ticks])
    for x in major:
        if xlo < x < xhi:
            ax.axvline(x, color="#b0b0b0", lw=0.35, ls=(0, (1, 2)), zorder=2)
    if nd > 1:
        ax.hlines(np.arange(1, nd), start, start + 24, color="#a0a0a0", lw=0.35, zorder=2)
    # Sleep, then unrecorded time on top of it (per lane: each region's own gaps).
    sleep_r, gap_r = [], []
    for a, b in zip(diary.sleep["onset_ms"].tolist(), diary.sleep["waking_ms"].tolist()):
        la, lb = local_ms(diary, [a, b]).tolist()
        for r, x, w in _segments(la, lb, day0, nd, start):
            sleep_r.append(mpatches.Rectangle((x, r + 0.06), w, 0.91))
    lo, hi = local_ms(diary, [diary.from_ms, diary.to_ms]).tolist()
    for la, lb in ((day0 * DAY_MS + sh, lo), (hi, (day0 + nd) * DAY_MS + sh)):
        for r, x, w in _segments(la, lb, day0, nd, start):
            gap_r.append(mpatches.Rectangle((x, r + 0.1), w, 0.87))
    lane_sites = sites if lanes > 1 else [None]
    for k, site in enumerate(lane_sites):
        for a, b in diary.gaps(site):
            la, lb = local_ms(diary, [a, b]).tolist()
            for r, x, w in _segments(la, lb, day0, nd, start):
                gap_r.append(mpatches.Rectangle((x, r + 0.12 + k * lane_h), w, lane_h))
    ax.add_collection(mcoll.PatchCollection(sleep_r, facecolor=SLEEP, edgecolor="none",
                                            zorder=0))
    ax.add_collection(mcoll.PatchCollection(gap_r, facecolor=UNRECORDED, edgecolor=HATCH,
                                            hatch="/////", linewidth=0, zorder=1))

    # The jerks: one tick per event, in its region's lane and colour.
    ev = diary.events[diary.events["is_jerk"]]
    r, x, inside = place(ev["time_ms"].to_numpy())
    site_of = ev["site"].to_numpy()
    counts = {s_: int((site_of == s_).sum()) for s_ in sites}
    many = int(inside.sum()) > 100000   # beyond this, ticks are drawn as an image
    # One lane for all: the most frequent region drawn last, so colour follows frequency.
    order = sorted(sites, key=lambda s_: counts[s_]) if lanes == 1 else sites
    for s_ in order:
        m = inside & (site_of == s_)
        if not m.any():
            continue
        k = sites.index(s_) if lanes > 1 else 0
        y0 = r[m] + 0.12 + k * lane_h + 0.04 * lane_h
        # One line broken by NaNs draws thousands of ticks as fast as one.
        n = int(m.sum())
        xs = np.full((n, 3), np.nan)
        ys = np.full((n, 3), np.nan)
        xs[:, 0] = xs[:, 1] = x[m]
        ys[:, 0], ys[:, 1] = y0, y0 + 0.92 * lane_h
        ax.plot(xs.ravel(), ys.ravel(), color=colour[s_], lw=0.7, zorder=3,
                solid_capstyle="butt", rasterized=many, gid="ticks:" + s_)
    # Marks above the ticks of their row.
    med = diary.medication_notes()
    trig = diary.trigger_marks()
    for frame, marker, size in ((med, "v", 5.0), (trig, "x", 4.0)):
        if not len(frame):
            continue
        rm, xm, ok = place(frame["time_ms"].to_numpy())
        ax.plot(xm[ok], rm[ok] + 0.08, ls="none", marker=marker, ms=size, mew=1.0,
                color=MARK, zorder=5, clip_on=False)
        if marker == "v" and ok.sum() <= 6:
            for xx, yy, lab in zip(xm[ok].tolist(), rm[ok].tolist(),
                                   med["label"].to_numpy()[ok].tolist()):
                right = xx < xlo + 0.8 * span
                ax.text(xx + (0.2 if right else -0.2), yy + 0.08, lab or "medication",
                        fontsize=MIN_PT, va="center", ha="left" if right else "right",
                        zorder=6, bbox=dict(boxstyle="square,pad=0.1", fc="white",
                                            ec="none", alpha=0.85))
    # Legend and footnote below the axes.
    handles = [Line2D([], [], color=colour[s_], lw=3,
                      label="%s (%s event%s)" % (s_, "{:,}".format(counts[s_]),
                                                 "" if counts[s_] == 1 else "s"))
               for s_ in sites]
    handles.append(mpatches.Patch(facecolor=SLEEP, edgecolor="#888888", lw=0.4,
                                  label="asleep (sleep runs)"))
    handles.append(mpatches.Patch(facecolor=UNRECORDED, edgecolor=HATCH, hatch="/////",
                                  lw=0.4, label="not recorded"))
    if len(med):
        handles.append(Line2D([], [], ls="none", marker="v", ms=5, color=MARK,
                              label="medication note"))
    if len(trig):
        handles.append(Line2D([], [], ls="none", marker="x", ms=4, mew=1, color=MARK,
                              label="trigger mark"))
    leg_top = top - 0.28 - ax_h - 0.22
    box.fig.legend(handles=handles, loc="upper left", ncol=LEGEND_COLS, fontsize=MIN_PT,
                   frameon=False, handlelength=1.6, columnspacing=1.4, borderaxespad=0,
                   bbox_to_anchor=((box.x0 + 0.85) / box.fw, (box.y0 + leg_top) / box.fh))
    if changed:
        rows = -(-len(handles) // LEGEND_COLS)
        box.text(0.85, leg_top - rows * 0.17 - 0.06,
                 "* the UTC offset changed in this row (daylight saving or travel): it holds "
                 "the clock's hours, one of them empty or doubled", va="top")
    return height


# -- later pages -------------------------------------------------------------------------------
def _style(ax, title=None, integer_y=False):
    if integer_y:
        from matplotlib.ticker import MaxNLocator
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        ax.set_title(title, fontsize=8, loc="left")
    ax.tick_params(labelsize=MIN_PT)
    ax.xaxis.label.set_size(MIN_PT + 0.5)
    ax.yaxis.label.set_size(MIN_PT + 0.5)
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)


def interval_data(diary):
    """Intervals between consecutive jerks (s), and whether the later jerk was at night."""
    J = diary.jerks
    t = J["time_ms"].to_numpy()
    if len(t) < 2:
        return np.zeros(0), np.zeros(0, dtype=bool)
    iti = np.diff(t) / 1000.0
    night = J["night"].to_numpy().astype(bool)[1:]
    keep = iti > 0
    return iti[keep], night[keep]


def draw_intervals(box, diary):
    """Histogram of intervals between consecutive jerks on a log axis, awake and asleep
    stacked: a peak below the series gap means series; a peak at a fixed interval, rhythm."""
    import matplotlib.ticker
    iti, night = interval_data(diary)
    (ax,) = box.row(1, left=0.6, bottom=0.45, top=0.35)
    lo, hi = max(iti.min(), 0.05), max(iti.max(), 1.0)
    bins = np.logspace(np.log10(lo), np.log10(hi) + 1e-3, 41)
    data, colours, labels = [], [], []
    if (~night).any():
        data.append(iti[~night]), colours.append(AWAKE), labels.append("awake")
    if night.any():
        data.append(iti[night]), colours.append(ASLEEP), labels.append("asleep (night)")
    ax.hist(data, bins=bins, stacked=True, color=colours, label=labels)
    ax.set_xscale("log")
    marks = [(v, t) for v, t in ((0.1, "0.1 s"), (1, "1 s"), (10, "10 s"), (60, "1 min"),
                                 (600, "10 min"), (3600, "1 h"), (36000, "10 h"))
             if lo / 1.5 <= v <= hi * 1.5]
    ax.set_xticks([v for v, _ in marks])
    ax.set_xticklabels([t for _, t in marks])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    gap = diary.config.series_gap_ms / 1000
    ax.axvline(gap, color="#000000", ls="--", lw=0.8)
    ax.text(gap, ax.get_ylim()[1], " series gap %g s" % gap, fontsize=MIN_PT, va="top")
    ax.set_xlabel("time from one jerk to the next (log scale)")
    ax.set_ylabel("intervals")
    ax.legend(fontsize=MIN_PT, frameon=False, loc="lower right", ncol=2,
              bbox_to_anchor=(1, 1.0), borderaxespad=0.2)
    _style(ax, "Intervals between consecutive jerks (%d)" % len(iti), integer_y=True)


def hour_profile(diary):
    """Per local clock hour over all days: recorded hours, jerks, jerks at night."""
    dates, counts, hours = diary.hour_matrix()
    J = diary.jerks
    night = np.bincount(J["hour"].to_numpy().astype(np.int64),
                        weights=J["night"].to_numpy().astype(float), minlength=24)[:24]
    return hours.sum(axis=0) if len(dates) else np.zeros(24), \
        counts.sum(axis=0) if len(dates) else np.zeros(24), night


def draw_hours(box, diary):
    """Jerks per recorded hour by local clock hour, all days together, the share at night
    stacked below."""
    h, c, n = hour_profile(diary)
    ok = h >= 0.25
    with np.errstate(divide="ignore", invalid="ignore"):
        night = np.where(ok, n / h, 0.0)
        day = np.where(ok, (c - n) / h, 0.0)
    (ax,) = box.row(1, left=0.6, bottom=0.45, top=0.35)
    start = row_start(diary)
    order = [(start + i) % 24 for i in range(24)]
    x = np.arange(24)
    ok, night, day = ok[order], night[order], day[order]
    ax.bar(x[ok], night[ok], width=0.8, color=ASLEEP, label="at night (asleep)")
    ax.bar(x[ok], day[ok], width=0.8, bottom=night[ok], color=AWAKE, label="by day (awake)")
    ax.set_xticks(x[::2])
    ax.set_xticklabels(["%02d" % order[i] for i in range(0, 24, 2)])
    ax.set_xlim(-0.6, 23.6)
    ax.set_xlabel("hour of the day (local clock); no bar: under 15 min recorded in that hour")
    ax.set_ylabel("jerks per recorded hour")
    ax.legend(fontsize=MIN_PT, frameon=False, loc="lower right", ncol=2,
              bbox_to_anchor=(1, 1.0), borderaxespad=0.2)
    _style(ax, "By hour of the day, all days together")


def daily_ok(diary):
    D = diary.per_day()
    cfg = diary.config
    return len(D) > 0 and int((D["hours"] >= cfg.trend_min_day_hours).sum()) >= \
        cfg.trend_min_days


def draw_daily(box, diary):
    """Jerks per recorded hour each day (bars), awake and asleep (dots, where each had at
    least an hour), the trend line, medication and trigger marks at their time of day."""
    D = diary.per_day()
    cfg = diary.config
    nd = len(D)
    x = np.arange(nd)
    with np.errstate(divide="ignore", invalid="ignore"):
        allr = np.where(D["hours"] >= 1, D["jerks"] / D["hours"], np.nan)
        day = np.where(D["day_hours"] >= 1, D["day_jerks"] / D["day_hours"], np.nan)
        night = np.where(D["night_hours"] >= 1, D["night_jerks"] / D["night_hours"], np.nan)
    (ax,) = box.row(1, left=0.6, bottom=0.75, top=0.35)
    ax.bar(x, allr, width=0.75, color="#c8c8c8", label="all (per recorded hour)")
    if np.isfinite(day).any():
        ax.plot(x, day, "o", ms=2.5, color=AWAKE, label="awake")
    if np.isfinite(night).any():
        ax.plot(x, night, "s", ms=2.5, color=ASLEEP, label="asleep (night)")
    ok = (D["hours"] >= cfg.trend_min_day_hours).to_numpy()
    if ok.sum() >= 2:
        k, c0 = np.polyfit(x[ok].astype(float), allr[ok], 1)
        ax.plot(x[ok], k * x[ok] + c0, "--", color="#000000", lw=0.9, label="trend")
    days = day_numbers(diary)
    day0 = int(days[0])
    vals = np.concatenate([allr, day, night])
    top = float(np.nanmax(vals)) if np.isfinite(vals).any() else 1.0
    meds = diary.medication_notes()
    for m in meds.itertuples():
        lm = int(local_ms(diary, [m.time_ms])[0])
        pos = lm // DAY_MS - day0 - 0.5 + (lm % DAY_MS) / DAY_MS
        ax.axvline(pos, color="#CC79A7", lw=1.2, zorder=1)
        ax.text(pos - 0.1, top * 1.1, m.label or "medication", fontsize=MIN_PT,
                color="#000000", va="top", ha="right", rotation=90, zorder=4,
                bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none", alpha=0.8))
    T = diary.trigger_marks()
    if len(T):
        lm = local_ms(diary, T["time_ms"].to_numpy())
        pos = lm // DAY_MS - day0 - 0.5 + (lm % DAY_MS) / DAY_MS
        ax.plot(pos, np.zeros(len(pos)), "x", color=MARK, ms=4, clip_on=False,
                label="trigger mark")
    ax.set_ylim(0, top * 1.12)
    if len(meds):
        ax.plot([], [], color="#CC79A7", lw=1.2, label="medication note")
    ax.set_xlim(-0.6, nd - 0.4)
    step = max(1, -(-nd // 16))
    ax.set_xticks(x[::step])
    ax.set_xticklabels([day_date(day0 + i).strftime("%d %b") for i in x[::step]])
    ax.set_ylabel("jerks per recorded hour")
    ax.legend(fontsize=MIN_PT, frameon=False, loc="upper left", ncol=6,
              bbox_to_anchor=(0, -0.16), borderaxespad=0)
    _style(ax, "Day by day (local dates; a day's bar covers that date only)")


def draw_regions(box, diary):
    """Each region's events, by the extent of the jerk they belonged to."""
    Rg = diary.regions()
    (ax,) = box.row(1, left=1.2, bottom=0.75, top=0.3)
    left = np.zeros(len(Rg))
    y = np.arange(len(Rg))
    for ex in EXTENTS:
        v = Rg[ex].to_numpy(dtype=float)
        if v.sum() == 0:
            continue
        ax.barh(y, v, left=left, color=EXTENT_COLOUR[ex], label=ex, height=0.6)
        left += v
    ax.set_yticks(y)
    ax.set_yticklabels(Rg["region"].tolist())
    ax.invert_yaxis()
    ax.set_xlabel("events (one region's view of a jerk)")
    ax.legend(fontsize=MIN_PT, frameon=False, loc="upper left", ncol=4, borderaxespad=0,
              bbox_to_anchor=(0, -0.5 / (box.h - 1.05)))
    _style(ax, "Where: events per region by the extent of their jerk")


def pattern_panels(diary):
    """Which series panels carry information: (name, minimum met)."""
    S = diary.series
    judged = S[S["rhythm"] != "too short"] if len(S) else S
    return [p for p, ok in (("length", len(S) >= 3), ("cv", len(judged) >= 3),
                            ("rate", len(judged) >= 5)) if ok]


def draw_pattern(box, diary):
    from matplotlib.ticker import MaxNLocator
    S = diary.series
    cfg = diary.config
    panels = pattern_panels(diary)
    axes = box.row(len(panels), left=0.55, bottom=0.5, top=0.35, gap=0.55)
    for ax, p in zip(axes, panels):
        if p == "length":
            lens = S["jerks"].to_numpy()
            ax.hist(lens, bins=np.arange(cfg.series_min_jerks, max(lens.max(), 8) + 2) - 0.5,
                    color="#0072B2")
            ax.set_xlabel("jerks in the series")
            ax.set_ylabel("series")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            _style(ax, "Series length", integer_y=True)
        elif p == "cv":
            cv = S["cv"].dropna().to_numpy()
            ax.hist(cv, bins=np.linspace(0, max(1.2, cv.max() + 0.05), 25), color="#CC79A7")
            ax.axvline(cfg.rhythmic_cv, color="#000000", ls="--", lw=0.8)
            ax.axvline(cfg.irregular_cv, color="#000000", ls=":", lw=0.8)
            ax.set_xlabel("CV of intervals (-- rhythmic below, : irregular above)")
            ax.set_ylabel("series")
            _style(ax, "Rhythm of each series", integer_y=True)
        else:
            j = S[S["rhythm"] != "too short"]
            ax.scatter(j["rate_hz"], j["cv"], s=5, color="#009E73", alpha=0.7)
            ax.axhline(cfg.rhythmic_cv, color="#000000", ls="--", lw=0.8)
            ax.set_xlabel("rate in the series (Hz)")
            ax.set_ylabel("CV of intervals")
            _style(ax, "Rate and regularity")


def quality_panels(diary):
    """The data-quality charts that show a problem: hours per region and day (when the
    regions' recorded hours differ), dropped samples, events missing (when the diary counts
    any)."""
    P = diary.per_day_region()
    D = diary.per_day()
    Q = diary.quality()
    out = []
    if not len(P) or not len(D):
        return out
    # Hours per region and day add to the raster only where the regions differ (a sensor
    # off while another records): gaps of every sensor at once are hatched there already.
    any_h = dict(zip(D["date"], D["hours"]))
    grid = {(r.date, r.region): r.hours for r in P.itertuples()}
    differ = any(abs(grid.get((d, s), 0.0) - any_h[d]) > 0.25 for d in any_h
                 for s in diary.active_sites)
    if len(D) >= 2 and len(diary.active_sites) >= 2 and differ:
        out.append("hours")
    if Q["dropped"] > 0:
        out.append("dropped")
    if Q["events_missing"] > 0:
        out.append("missing")
    return out


def draw_quality(box, diary):
    import matplotlib
    P = diary.per_day_region()
    D = diary.per_day()
    panels = quality_panels(diary)
    dates = list(D["date"])
    idx = {d: i for i, d in enumerate(dates)}
    nd = len(dates)
    day0 = int(day_numbers(diary)[0])
    step = max(1, -(-nd // 16))
    n = len(panels)
    gap = 0.35
    ph = (box.h - gap * (n - 1)) / n
    for k, p in enumerate(panels):
        b = box.h - (k + 1) * ph - k * gap
        if p == "hours":
            sites = list(diary.active_sites)
            ax = box.axes(1.2, b + 0.45, box.w - 1.2 - 0.9, ph - 0.8)
            grid = np.zeros((len(sites), nd))
            period = D["period_hours"].to_numpy()
            for r in P.itertuples():
                k = idx[r.date]
                grid[sites.index(r.region), k] = 100.0 * r.hours / period[k] if \
                    period[k] > 0 else 0.0
            cmap = matplotlib.colormaps["cividis"].with_extremes(bad="#ffffff")
            im = ax.imshow(np.ma.masked_where(grid <= 0, grid), aspect="auto", cmap=cmap,
                           vmin=0, vmax=100, interpolation="nearest")
            if grid.size <= 60:
                for (i, j), v in np.ndenumerate(grid):
                    ax.text(j, i, "%.0f%%" % v, ha="center", va="center", fontsize=MIN_PT,
                            color="#000000" if v >= 60 else "#ffffff")
            ax.set_yticks(range(len(sites)))
            ax.set_yticklabels(sites)
            ax.set_xticks(range(0, nd, step))
            ax.set_xticklabels([day_date(day0 + i).strftime("%d %b") for i in
                                range(0, nd, step)])
            cax = box.axes(box.w - 0.8, b + 0.45, 0.12, ph - 0.8)
            cb = box.fig.colorbar(im, cax=cax)
            cb.set_label("% of the day's period recorded (white: none)", fontsize=MIN_PT)
            cb.ax.tick_params(labelsize=MIN_PT)
            _style(ax, "Recorded per region and day")
            for s in ("top", "right"):
                ax.spines[s].set_visible(True)
        else:
            ax = box.axes(0.6, b + 0.45, box.w - 0.7, ph - 0.8)
            for i, s in enumerate(diary.active_sites):
                q = P[P["region"] == s]
                xs = np.array([idx[d] for d in q["date"]]) + (i - len(diary.active_sites) / 2
                                                             + 0.5) * 0.8 / max(
                    len(diary.active_sites), 1)
                v = q["dropped_pct"].fillna(0).to_numpy() if p == "dropped" else \
                    q["events_missing"].to_numpy()
                ax.bar(xs, v, width=0.8 / max(len(diary.active_sites), 1),
                       color=region_colours(diary)[s], label=s)
            ax.set_xticks(range(0, nd, step))
            ax.set_xticklabels([day_date(day0 + i).strftime("%d %b") for i in
                                range(0, nd, step)])
            ax.set_xlim(-0.6, nd - 0.4)
            ax.set_ylabel("% of samples" if p == "dropped" else "events")
            ax.legend(fontsize=MIN_PT, frameon=False, ncol=4, loc="upper left")
            _style(ax, "Dropped samples per region and day" if p == "dropped" else
                   "Events the boards counted that are not in the store, per region and day")
