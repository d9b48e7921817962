"""The doctor's report: one page that answers the clinical questions (where, how often,
pattern, when, triggered, how strong, medication, data quality), plots, and the event list
behind them. PDF (matplotlib PdfPages) or self-contained HTML (plots inline as base64 PNG),
chosen by the output file's extension.

    write_report(store, out_path, from_ms, to_ms, tz=None, name=None, dob=None,
                 config=None, max_events=2000, diary=None) -> dict

first_page(diary, name=None, dob=None) gives the first page as (label, text) rows; both
formats render those rows, so a test can compare them with the diary's own figures.
"""
import base64
import datetime as dt
import html
import io
import textwrap

import numpy as np

from jerklog import JerklogError, __version__
from jerklog.diary import Diary
from jerklog.diary.config import DAY_MS, EXTENTS, HOUR_MS, MINUTE_MS, WHEN
from jerklog.extras import require
from jerklog.files import atomic_output
from jerklog.localtime import format_iso
from jerklog.store.notes import describe

NOT_A_DIAGNOSIS = ("This report summarises what wearable motion sensors recorded. It is not a "
                   "diagnosis: a doctor interprets it.")
PAGE = (8.27, 11.69)   # A4 portrait, inches
WRAP = 110             # characters per line of the first page's answers
WHEN_LABEL = {"rest": "at rest", "active": "during action", "asleep": "asleep",
              "sleep onset": "at sleep onset", "after waking": "just after waking",
              "unknown": "context unknown"}


# -- numbers as text --------------------------------------------------------------------------
def num(x, digits=None):
    """A figure for the page: None -> 'n/a'; rates to 1 decimal (2 below 1, 3 below 0.1)."""
    if x is None or (isinstance(x, float) and x != x):
        return "n/a"
    if isinstance(x, (int, np.integer)):
        return "%d" % x
    if digits is None:
        ax = abs(x)
        digits = 1 if ax >= 1 or ax == 0 else 2 if ax >= 0.1 else 3
    return "%.*f" % (digits, x)


def per_h(x):
    """A rate per hour: '3.5/h', or 'n/a' where nothing was recorded."""
    return "n/a" if x is None else num(x) + "/h"


def pct(part, whole):
    return "n/a" if not whole else "%.0f%%" % (100.0 * part / whole)


def when_text(ms, diary):
    """Local time to the minute with its UTC offset: 2026-03-02 14:05 +01:00."""
    s = format_iso(int(ms), diary.zones)
    return "%s %s %s" % (s[:10], s[11:16], s[23:])


def _rng(st, unit, digits=None):
    if not st["n"]:
        return "not measured"
    return "%s %s (range %s-%s; 10-90%%: %s-%s)" % (
        num(st["median"], digits), unit, num(st["min"], digits), num(st["max"], digits),
        num(st["p10"], digits), num(st["p90"], digits))


# -- the first page ---------------------------------------------------------------------------
def first_page(diary: Diary, name: str | None = None, dob=None,
               summary: dict | None = None) -> tuple:
    """Header lines and (label, text) rows answering the doctor's table."""
    S = summary or diary.summary()
    F, T, R, C, Q = S["frequency"], S["trend"], S["rhythm"], S["contexts"], S["quality"]
    cfg = diary.config
    days = (diary.to_ms - diary.from_ms) / DAY_MS
    header = ["Myoclonus diary report"]
    who = []
    if name:
        who.append("Patient: %s" % name)
    if dob:
        who.append("date of birth: %s" % dob)
    if who:
        header.append(", ".join(who))
    header.append("Period: %s to %s (%s days); time zone %s" % (
        when_text(diary.from_ms, diary), when_text(diary.to_ms, diary), num(days, 1),
        S["zones"]))
    rows = []
    sites = S["sites"]
    rows.append(("Recording", "%d sensor%s: %s. Recorded %s h of %s h (%s) by at least one "
                 "sensor." % (len(sites), "" if len(sites) == 1 else "s",
                              ", ".join(sites) or "none", num(Q["hours"], 1),
                              num(Q["period_hours"], 1), pct(Q["hours"], Q["period_hours"]))))
    n = F["jerks"]
    E = S["extents"]
    where = ["%d jerks (events of several sensors within %d ms count once): generalised %d "
             "(%s), multifocal %d (%s), focal %d (%s)" % (
                 n, cfg.group_window_ms, E["generalised"], pct(E["generalised"], n),
                 E["multifocal"], pct(E["multifocal"], n), E["focal"], pct(E["focal"], n))]
    if E["unclassified"]:
        where.append(", unclassified %d (only one sensor recording)" % E["unclassified"])
    where.append(". Seen per region: " + "; ".join(
        "%s %d (%s)" % (r["region"], r["events"], per_h(r["per_hour"])) for r in S["regions"]))
    if F["negative"]:
        where.append(". Negative (lapses): %d" % F["negative"])
    if len(sites) <= 1:
        where.append(". Only one region worn: where else jerks happen cannot be seen")
    rows.append(("Where", "".join(where) + "."))
    often = ["%s jerks per recorded hour, %s per 24 h" % (num(F["per_hour"]),
                                                           num(F["per_24h"], 0))]
    if n:
        often.append("; sure %d of %d (%s; confidence >= %s), the rest stood out less from "
                     "what the wearer was doing" % (F["sure"], n, pct(F["sure"], n),
                                                    num(cfg.sure_confidence, 1)))
    if F["full_days"]:
        often.append("; per day median %s (%s-%s) over %d days recorded >= %s h" % (
            num(F["per_day_median"], 0), num(F["per_day_min"], 0), num(F["per_day_max"], 0),
            F["full_days"], num(cfg.trend_min_day_hours, 0)))
    if F["max_minute_ms"] is not None:
        often.append(". Most in one minute: %d (%s); minutes with 5 or more: %d; most in one "
                     "hour: %d (%s)" % (F["max_per_minute"], when_text(F["max_minute_ms"],
                                                                      diary),
                                        F["minutes_5_or_more"], F["max_per_hour"],
                                        F["max_hour"]))
    often.append(". Day %s (%d in %s h) vs night %s (%d in %s h); night from recorded "
                 "sleep on %d nights, clock hours %02d:00-%02d:00 on %d" % (
                     per_h(F["day_per_hour"]), F["day_jerks"], num(F["day_hours"], 0),
                     per_h(F["night_per_hour"]), F["night_jerks"], num(F["night_hours"], 0),
                     F["nights_from_sleep"], cfg.night_start_hour, cfg.night_end_hour,
                     F["nights_from_clock"]))
    if T["slope_per_week"] is not None:
        often.append(". Trend: %s (fitted %+.0f%% over the period, %+.1f%% per week); "
                     "%s in the first %d days -> %s in the last %d" % (
                         T["direction"], T["change_pct"], T["change_pct_per_week"],
                         per_h(T["first_rate"]), T["half_days"], per_h(T["last_rate"]),
                         T["half_days"]))
    else:
        often.append(". Trend: not enough days (%d recorded >= %s h)" % (
            T["days"], num(cfg.trend_min_day_hours, 0)))
    rows.append(("How often", "".join(often) + "."))
    if R["series"]:
        pattern = ("%d series (>= %d jerks <= %s s apart) hold %d jerks (%s); length median "
                   "%s (%d-%d) jerks, %s s (%s-%s s); median rate %s Hz. Rhythm: median CV "
                   "of intervals in series %s -> %s (rhythmic %d, semi-regular %d, irregular "
                   "%d of %d series with >= %d intervals)" % (
                       R["series"], R["min_jerks"], num(R["gap_s"]), R["jerks_in_series"],
                       pct(R["jerks_in_series"], n), num(R["length_median"], 0),
                       R["length_min"], R["length_max"], num(R["duration_median_s"]),
                       num(R["duration_min_s"]), num(R["duration_max_s"]),
                       num(R["rate_median_hz"], 2), num(R["cv_median"], 2), R["verdict"],
                       R["rhythmic"], R["semi_regular"], R["irregular"], R["judged"],
                       cfg.rhythm_min_intervals))
    else:
        pattern = "No series (>= %d jerks <= %s s apart): single jerks" % (
            R["min_jerks"], num(R["gap_s"]))
    if R["interval_median_s"] is not None:
        pattern += ". Interval between consecutive jerks: median %s s (CV %s)" % (
            num(R["interval_median_s"]), num(R["interval_cv"], 2))
    rows.append(("Pattern", pattern + "."))
    ctx = ", ".join("%s %d (%s)" % (WHEN_LABEL[w], C[w], pct(C[w], n)) for w in WHEN
                    if C[w] or w != "unknown")
    rows.append(("When", "%s. Sleep onset located on %d of %d sleeps, waking on %d." % (
        ctx, C["onsets_located"], C["sleeps"], C["wakings_located"])))
    Tg = S["triggers"]
    trig = "%d trigger marks (%d button, %d noted)" % (Tg["marks"], Tg["button"], Tg["notes"])
    if Tg["marks"]:
        trig += "; %d jerks within %s s of a mark (%s expected by chance)" % (
            Tg["jerks_near"], num(Tg["window_s"], 0), num(Tg["expected_near"], 0))
    tnotes = diary.notes[diary.notes["kind"] == "trigger"].to_dict("records")
    if tnotes:
        trig += ". Noted: " + "; ".join(describe(t) for t in tnotes[:4])
        if len(tnotes) > 4:
            trig += "; ... (%d more)" % (len(tnotes) - 4)
    rows.append(("Triggered", trig + "."))
    St = S["strength"]
    rows.append(("How strong", "Peak acceleration %s; rotation %s; duration %s." % (
        _rng(St["peak_g"], "g", 2), _rng(St["peak_dps"], "deg/s", 0),
        _rng(St["duration_ms"], "ms", 0))))
    meds = S["medication"]
    if meds:
        parts = []
        for m in meds:
            parts.append("%s %s: %s in %s days before (%s h recorded) -> %s after (%s h)%s%s"
                         % (when_text(m["time_ms"], diary), m["label"],
                            per_h(m["before_per_hour"]),
                            num(cfg.medication_window_ms / DAY_MS, 0),
                            num(m["before_hours"], 0), per_h(m["after_per_hour"]),
                            num(m["after_hours"], 0),
                            "" if m["change_pct"] is None else ", %+.0f%%" % m["change_pct"],
                            " (few data)" if m["few_data"] else ""))
        rows.append(("Medication", "; ".join(parts) + "."))
    else:
        rows.append(("Medication", "No medication notes in this period."))
    free = diary.notes[diary.notes["kind"] == "note"].to_dict("records")
    if free:
        txt = "; ".join("%s %s" % (when_text(x["time_ms"], diary)[:16], describe(x))
                        for x in free[:4])
        if len(free) > 4:
            txt += "; ... (%d more, listed after the plots)" % (len(free) - 4)
        rows.append(("Notes", txt + "."))
    else:
        rows.append(("Notes", "No free notes (alcohol, stress, caffeine, exercise)."))
    dq = ["Recorded %s of the period (%s)" % (pct(Q["hours"], Q["period_hours"]), "; ".join(
        "%s %s" % (r["region"], pct(r["hours"], Q["period_hours"])) for r in Q["regions"]))]
    if Q["gaps"]:
        a, b = Q["longest_gap"]
        dq.append("%d gaps >= %s min with no sensor recording (%s h; longest %s h from %s)" % (
            Q["gaps"], num(cfg.gap_min_ms / MINUTE_MS, 0), num(Q["gap_hours"], 1),
            num((b - a) / HOUR_MS, 1), when_text(a, diary)))
    else:
        dq.append("no gaps >= %s min" % num(cfg.gap_min_ms / MINUTE_MS, 0))
    dq.append("dropped samples %s%%" % num(Q["dropped_pct"], 4 if (Q["dropped_pct"] or 0) < 0.1
                                           else 2))
    dq.append("events counted by the boards but not in the store: %d" % Q["events_missing"])
    if Q["jerks_outside_recorded"]:
        dq.append("%d jerks outside recorded time" % Q["jerks_outside_recorded"])
    dq.append("clocks: board clock on %d boots, estimated by the computer on %d%s; %d events "
              "stored before a clock correction" % (
                  Q["boots_device_clock"], Q["boots_host_clock"],
                  (", unknown on %d" % Q["boots_unknown_clock"]) if Q["boots_unknown_clock"]
                  else "", Q["events_shifted"]))
    if Q["estimated_boots"]:
        dq.append("%d boots without counters (recorded time estimated from their events)"
                  % Q["estimated_boots"])
    if Q.get("clock_corrections"):
        dq.append("%d jumps of a board clock's estimate corrected (host clock changed?)"
                  % Q["clock_corrections"])
    if Q.get("log_dropped"):
        dq.append("%d events lost because a board's on-board log was full (devices %s)" % (
            Q["log_dropped"], ", ".join(str(d) for d in Q["log_dropped_devices"])))
    for o in Q.get("recorded_twice", []):
        dq.append("device %d recorded the same %s h twice (boots %d and %d, from %s): counted "
                  "once, %d duplicate events left out" % (
                      o["device_id"], num(o["hours"], 1), o["kept_boot"], o["left_out_boot"],
                      when_text(o["from_ms"], diary), o["events_left_out"]))
    rows.append(("Data quality", "; ".join(dq) + "."))
    return header, rows


# -- plots ------------------------------------------------------------------------------------
def _mpl():
    matplotlib = require("matplotlib", "report", "the report")
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    matplotlib.rcParams.update({"pdf.fonttype": 42, "ps.fonttype": 42, "font.size": 7,
                                "axes.titlesize": 8, "axes.labelsize": 7})
    return plt


def _dates(diary, dates):
    return np.array(dates, dtype="datetime64[D]")


def fig_heatmaps(diary, plt):
    """Day-by-hour heat map of events per recorded hour, per region and for all jerks."""
    panels = [(None, "all jerks")] + [(s, s) for s in diary.active_sites]
    ncol = min(len(panels), 5)
    fig, axes = plt.subplots(1, ncol, figsize=PAGE, squeeze=False)
    fig.suptitle("When: events per recorded hour by day and hour of day "
                 "(grey: not recorded)", fontsize=9)
    import matplotlib
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="#d0d0d0")
    for ax, (site, title) in zip(axes[0], panels[:ncol]):
        dates, counts, hours = diary.hour_matrix(site)
        with np.errstate(divide="ignore", invalid="ignore"):
            # An hour recorded for less than a quarter gives a rate too noisy to colour.
            rate = np.where(hours >= 0.25, counts / hours, np.nan)
        img = np.ma.masked_invalid(rate)
        nd = max(len(dates), 1)
        vals = rate[np.isfinite(rate)]
        vmax = max(float(np.percentile(vals, 99)), 1.0) if len(vals) else 1.0
        im = ax.imshow(img, aspect="auto", cmap=cmap, interpolation="nearest",
                       extent=(0, 24, nd, 0), vmin=0, vmax=vmax)
        ax.set_title(title)
        ax.set_xticks([0, 6, 12, 18, 24])
        ax.set_xlabel("hour of day")
        step = max(1, nd // 25)
        ax.set_yticks(np.arange(0, nd, step) + 0.5)
        ax.set_yticklabels([dates[i] for i in range(0, nd, step)] if ax is axes[0][0] else [],
                           fontsize=5)
        fig.colorbar(im, ax=ax, orientation="horizontal", pad=0.06, fraction=0.03)
    fig.subplots_adjust(left=0.12, right=0.98, top=0.94, bottom=0.06, wspace=0.12)
    return fig


def fig_daily(diary, plt):
    """Daily rates (day and night) with medication and trigger marks; per-region bars."""
    D = diary.per_day()
    fig, (a1, a2, a3) = plt.subplots(3, 1, figsize=PAGE,
                                     gridspec_kw=dict(height_ratios=[3, 2, 2]))
    fig.suptitle("How often: jerks per recorded hour each day", fontsize=9)
    if len(D):
        x = _dates(diary, D["date"])
        with np.errstate(divide="ignore", invalid="ignore"):
            day = np.where(D["day_hours"] > 0.05, D["day_jerks"] / D["day_hours"], np.nan)
            night = np.where(D["night_hours"] > 0.05, D["night_jerks"] / D["night_hours"],
                             np.nan)
            allr = np.where(D["hours"] > 0.05, D["jerks"] / D["hours"], np.nan)
        a1.bar(x, allr, width=0.8, color="#9ecae1", label="all day (24 h)")
        a1.plot(x, day, ".-", color="#e6550d", lw=0.8, ms=2, label="day")
        a1.plot(x, night, ".-", color="#31a354", lw=0.8, ms=2, label="night")
        ok = D["hours"] >= diary.config.trend_min_day_hours
        if ok.sum() >= 2:
            xi = D.index[ok].to_numpy(dtype=float)
            k, c = np.polyfit(xi, allr[ok.to_numpy()], 1)
            a1.plot(x[ok.to_numpy()], k * xi + c, "--", color="k", lw=0.8, label="trend")
        for m in diary.medication().itertuples():
            md = np.datetime64(format_iso(m.time_ms, diary.zones)[:10], "D")
            a1.axvline(md, color="#756bb1", lw=1)
            a1.text(md, a1.get_ylim()[1], " " + (m.label or "medication"), rotation=90,
                    va="top", fontsize=6, color="#756bb1")
        M = diary.trigger_marks()
        if len(M):
            tm = np.array([format_iso(t, diary.zones)[:10] for t in M["time_ms"]],
                          dtype="datetime64[D]")
            a1.plot(tm, np.zeros(len(tm)), "|", color="#de2d26", ms=8, label="trigger mark")
        a1.set_ylabel("jerks per recorded hour")
        a1.legend(fontsize=6, loc="upper left")
        a2.bar(x, D["hours"], width=0.8, color="#bdbdbd")
        a2.set_ylabel("hours recorded")
        a2.set_ylim(0, 25)
        a2.set_title("Recorded hours per day (any sensor)")
    Rg = diary.regions()
    if len(Rg):
        bottom = np.zeros(len(Rg))
        colors = {"generalised": "#de2d26", "multifocal": "#fd8d3c", "focal": "#3182bd",
                  "unclassified": "#bdbdbd"}
        for ex in EXTENTS:
            a3.barh(Rg["region"], Rg[ex], left=bottom, color=colors[ex], label=ex)
            bottom += Rg[ex].to_numpy()
        a3.set_title("Where: events per region, by the extent of the jerk they belong to")
        a3.set_xlabel("events")
        a3.legend(fontsize=6)
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    return fig


def fig_pattern(diary, plt):
    """Series lengths, rhythm (CV) and inter-jerk intervals."""
    fig, axes = plt.subplots(2, 2, figsize=PAGE)
    fig.suptitle("Pattern: series and intervals between jerks", fontsize=9)
    S = diary.series
    cfg = diary.config
    a = axes[0][0]
    if len(S):
        lens = S["jerks"].to_numpy()
        a.hist(lens, bins=np.arange(cfg.series_min_jerks, max(lens.max(), 10) + 2) - 0.5,
               color="#3182bd")
    a.set_title("series length (jerks)")
    a.set_xlabel("jerks in series")
    a = axes[0][1]
    cv = S["cv"].dropna().to_numpy() if len(S) else np.zeros(0)
    if len(cv):
        a.hist(cv, bins=np.linspace(0, max(1.5, cv.max()), 31), color="#756bb1")
    a.axvline(cfg.rhythmic_cv, color="k", ls="--", lw=0.8)
    a.axvline(cfg.irregular_cv, color="k", ls=":", lw=0.8)
    a.set_title("rhythm: CV of intervals in each series\n(left of -- rhythmic, right of : "
                "irregular)")
    a.set_xlabel("coefficient of variation")
    a = axes[1][0]
    iti = diary.intervals() / 1000.0
    iti = iti[iti > 0]
    if len(iti):
        a.hist(iti, bins=np.logspace(np.log10(max(iti.min(), 0.05)),
                                     np.log10(max(iti.max(), 1.0)) + 0.01, 50),
               color="#636363")
        a.set_xscale("log")
    a.axvline(cfg.series_gap_ms / 1000, color="#de2d26", ls="--", lw=0.8)
    a.set_title("interval between consecutive jerks (s); -- series gap")
    a.set_xlabel("seconds")
    a = axes[1][1]
    if len(S):
        a.scatter(S["rate_hz"], S["cv"], s=4, alpha=0.5, color="#3182bd")
    a.set_xlabel("rate in series (Hz)")
    a.set_ylabel("CV of intervals")
    a.set_title("series: rate vs regularity")
    fig.tight_layout(rect=(0, 0.03, 1, 0.95))
    return fig


def fig_quality(diary, plt):
    """Data-quality strip: hours recorded per region and day; hours with no sensor at all;
    dropped samples and events missing per day."""
    P = diary.per_day_region()
    D = diary.per_day()
    fig, (a1, a2, a3) = plt.subplots(3, 1, figsize=PAGE,
                                     gridspec_kw=dict(height_ratios=[3, 2, 2]))
    fig.suptitle("Data quality: what was recorded, and what is missing", fontsize=9)
    if len(D) and len(diary.active_sites):
        dates = list(D["date"])
        idx = {d: i for i, d in enumerate(dates)}
        grid = np.full((len(diary.active_sites), len(dates)), np.nan)
        for r in P.itertuples():
            grid[diary.active_sites.index(r.region), idx[r.date]] = r.hours
        import matplotlib
        cmap = matplotlib.colormaps["RdYlGn"].with_extremes(bad="#bdbdbd")
        im = a1.imshow(np.ma.masked_invalid(np.where(grid > 0, grid, np.nan)), aspect="auto",
                       cmap=cmap, vmin=0, vmax=24, interpolation="nearest")
        a1.set_yticks(range(len(diary.active_sites)))
        a1.set_yticklabels(diary.active_sites)
        step = max(1, len(dates) // 12)
        a1.set_xticks(range(0, len(dates), step))
        a1.set_xticklabels(dates[::step], fontsize=5, rotation=30)
        a1.set_title("hours recorded per region and day (grey: nothing recorded)")
        fig.colorbar(im, ax=a1, fraction=0.03, label="hours")
        x = np.array(dates, dtype="datetime64[D]")
        missing_h = np.clip(D["period_hours"].to_numpy() - D["hours"].to_numpy(), 0, None)
        a2.bar(x, missing_h, width=0.8, color="#f4a582")
        a2.set_ylabel("hours")
        a2.set_title("hours of each day with no sensor recording")
        for site in diary.active_sites:
            p = P[P["region"] == site]
            a3.plot(np.array(list(p["date"]), dtype="datetime64[D]"),
                    p["dropped_pct"].fillna(0), ".", ms=2.5, label="%s dropped %%" % site)
        a3.set_ylabel("dropped samples %")
        miss = P.groupby("date")["events_missing"].sum() if len(P) else None
        if miss is not None and miss.sum() > 0:
            a4 = a3.twinx()
            a4.bar(np.array(list(miss.index), dtype="datetime64[D]"), miss.to_numpy(),
                   width=0.8, color="#762a83", alpha=0.4, label="events missing")
            a4.set_ylabel("events counted by boards, not stored")
        a3.legend(fontsize=6, loc="upper left")
        a3.set_title("dropped samples (points) and events the boards counted that are not in "
                     "the store (bars)")
    fig.tight_layout(rect=(0, 0.03, 1, 0.96))
    return fig


FIGURES = (("heatmap", "When: events per recorded hour by day and hour of day", fig_heatmaps),
           ("daily", "How often: daily rates, medication and trigger marks; where",
            fig_daily),
           ("pattern", "Pattern: series and intervals between jerks", fig_pattern),
           ("quality", "Data quality", fig_quality))


# -- the event list ---------------------------------------------------------------------------
EVENT_HEAD = ("#", "time (local)", "where", "extent", "when", "kind", "g", "deg/s", "ms",
              "series", "group")


def event_rows(diary, max_events):
    """The jerks (and trigger presses) behind the figures, first max_events of them."""
    J = diary.jerks
    ev = diary.events
    trig = ev[ev["kind"] == "trigger"]
    items = [(t, 0, i) for i, t in enumerate(J["time_ms"].tolist())]
    items += [(t, 1, i) for i, t in enumerate(trig["time_ms"].tolist())]
    items.sort()
    total = len(items)
    items = items[:max_events]
    times = np.array([t for t, _, _ in items], dtype=np.int64)
    from jerklog.localtime import iso_times
    iso = iso_times(times, diary.zones).tolist() if len(items) else []
    rows = []
    jt = J[["site_text", "extent", "when", "kind", "peak_g", "peak_dps", "duration_ms",
            "series", "group"]].to_numpy()
    tt = trig[["site", "peak_g", "peak_dps", "duration_ms"]].to_numpy()
    for k, ((t, src, i), s) in enumerate(zip(items, iso)):
        stamp = "%s %s" % (s[:10], s[11:23] + s[23:])
        if src == 0:
            site, ext, wh, kind, g, dps, dur, ser, grp = jt[i]
            rows.append((str(k + 1), stamp, site, ext, wh, kind, num(g, 2),
                         "" if dps != dps else num(dps, 0), num(dur, 0),
                         str(ser) if ser else "", str(grp) if grp else ""))
        else:
            site, g, dps, dur = tt[i]
            rows.append((str(k + 1), stamp, site, "", "", "trigger", "", "", "", "", ""))
    return rows, total


# -- PDF --------------------------------------------------------------------------------------
def _footer(fig, page, diary):
    fig.text(0.5, 0.012, "%s  |  jerklog %s  |  page %d" % (NOT_A_DIAGNOSIS, __version__,
                                                           page),
             ha="center", fontsize=5.5, color="#555555")


def _pdf_first_page(diary, header, rows, plt):
    fig = plt.figure(figsize=PAGE)
    y = 0.965
    fig.text(0.06, y, header[0], fontsize=14, weight="bold", va="top")
    y -= 0.03
    for line in header[1:]:
        fig.text(0.06, y, line, fontsize=8, va="top")
        y -= 0.017
    fig.text(0.06, y, NOT_A_DIAGNOSIS, fontsize=8, va="top", weight="bold", color="#a50f15")
    y -= 0.024
    line_h = 0.0133
    for label, text in rows:
        lines = textwrap.wrap(text, WRAP) or [""]
        fig.text(0.06, y, label, fontsize=8.2, weight="bold", va="top")
        fig.text(0.19, y, "\n".join(lines), fontsize=7.8, va="top", linespacing=1.25)
        y -= line_h * len(lines) + 0.008
    # A small at-a-glance plot of the daily rate below the text, if room is left.
    D = diary.per_day()
    if y > 0.16 and len(D):
        ax = fig.add_axes([0.1, 0.05, 0.85, min(0.2, y - 0.09)])
        x = np.array(list(D["date"]), dtype="datetime64[D]")
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(D["hours"] > 0.05, D["jerks"] / D["hours"], np.nan)
        ax.bar(x, r, width=0.8, color="#9ecae1")
        for m in diary.medication().itertuples():
            ax.axvline(np.datetime64(format_iso(m.time_ms, diary.zones)[:10], "D"),
                       color="#756bb1", lw=1)
        ax.set_ylabel("jerks/h", fontsize=6)
        ax.tick_params(labelsize=5.5)
        ax.set_title("jerks per recorded hour each day (purple: medication notes)", fontsize=6.5)
    _footer(fig, 1, diary)
    return fig


def _pdf_text_pages(title, lines, plt, diary, page0, per_page=78):
    """Pages of monospaced text, one at a time: (figure, whether the PDF core fonts can
    carry its text). Core fonts need no embedded glyphs, which makes long lists fast."""
    for k, i in enumerate(range(0, max(len(lines), 1), per_page)):
        fig = plt.figure(figsize=PAGE)
        head = title + ("" if i == 0 else " (continued)")
        body = "\n".join(lines[i:i + per_page])
        fig.text(0.05, 0.975, head, fontsize=10, weight="bold", va="top")
        fig.text(0.05, 0.95, body, fontsize=6.2, family="monospace", va="top",
                 linespacing=1.3)
        _footer(fig, page0 + k, diary)
        try:
            (head + body).encode("cp1252")
            core = True
        except UnicodeEncodeError:
            core = False
        yield fig, core


def _save(pdf, fig, plt, core=False):
    import logging

    import matplotlib
    if core:
        log = logging.getLogger("matplotlib.font_manager")
        level = log.level
        log.setLevel(logging.ERROR)
        try:
            with matplotlib.rc_context({"pdf.use14corefonts": True}):
                pdf.savefig(fig)
        finally:
            log.setLevel(level)
    else:
        pdf.savefig(fig)
    plt.close(fig)


def _table_lines(head, rows, widths=None):
    rows = [tuple(str(c) for c in r) for r in rows]
    if widths is None:
        widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(head)]
    fmt = "  ".join("%%-%ds" % w for w in widths)
    out = [fmt % tuple(head), "  ".join("-" * w for w in widths)]
    out += [fmt % tuple(c[:w] for c, w in zip(r, widths)) for r in rows]
    return out


def _notes_lines(diary):
    lines = []
    N = diary.notes.to_dict("records")
    lines.append("Notes (%d)" % len(N))
    lines += _table_lines(("time", "kind", "note"), [
        (when_text(n["time_ms"], diary), n["kind"], describe(n)[:90]) for n in N])
    M = diary.medication()
    lines += ["", "Medication: jerk rate %s days before and after each note" %
              num(diary.config.medication_window_ms / DAY_MS, 0)]
    lines += _table_lines(("time", "medication", "before /h", "h rec.", "after /h", "h rec.",
                           "change"), [
        (when_text(m.time_ms, diary), (m.label or "")[:40], num(m.before_per_hour),
         num(m.before_hours, 0), num(m.after_per_hour), num(m.after_hours, 0),
         "" if m.change_pct != m.change_pct or m.change_pct is None else
         "%+.0f%%" % m.change_pct) for m in M.itertuples()])
    Q = diary.quality()
    lines += ["", "Data quality per region"]
    lines += _table_lines(("region", "hours", "% of period", "gaps", "gap h", "dropped %",
                           "events missing"), [
        (r["region"], num(r["hours"], 1), num(r["pct"], 1), r["gaps"], num(r["gap_hours"], 1),
         num(r["dropped_pct"], 4), r["events_missing"]) for r in Q["regions"]])
    D = diary.per_day()
    lines += ["", "Per day (local dates; UTC offset of the day)"]
    lines += _table_lines(("date", "offset", "hours", "jerks", "/h", "day", "night", "gen",
                           "multi", "focal", "series", "medication"), [
        (r.date, r.utc_offset, num(r.hours, 1), r.jerks, num(r.per_hour), r.day_jerks,
         r.night_jerks, r.generalised, r.multifocal, r.focal, r.in_series,
         (r.medication or "")[:30]) for r in D.itertuples()]) if len(D) else []
    return lines


def _write_pdf(diary, out_path, header, rows, max_events):
    plt = _mpl()
    from matplotlib.backends.backend_pdf import PdfPages
    pages = 0
    with atomic_output(out_path, "wb") as f:
        with PdfPages(f) as pdf:
            d = pdf.infodict()
            d["Title"] = "jerklog myoclonus diary report"
            d["Creator"] = "jerklog %s" % __version__
            fig = _pdf_first_page(diary, header, rows, plt)
            pdf.savefig(fig)
            plt.close(fig)
            pages += 1
            for _, _, make in FIGURES:
                fig = make(diary, plt)
                _footer(fig, pages + 1, diary)
                pdf.savefig(fig)
                plt.close(fig)
                pages += 1
            for fig, core in _pdf_text_pages("Notes, medication, data quality, days",
                                             _notes_lines(diary), plt, diary, pages + 1):
                _save(pdf, fig, plt, core)
                pages += 1
            ev_rows, total = event_rows(diary, max_events)
            lines = _table_lines(EVENT_HEAD, ev_rows,
                                 widths=(6, 30, 30, 12, 12, 8, 5, 5, 4, 6, 6))
            title = "Event list: %d jerks and trigger presses" % total
            if total > len(ev_rows):
                title += " - the first %d shown; all are in the CSV diary (jerklog export)" \
                    % len(ev_rows)
            for fig, core in _pdf_text_pages(title, lines, plt, diary, pages + 1):
                _save(pdf, fig, plt, core)
                pages += 1
    return pages, total, len(ev_rows)


# -- HTML -------------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:62em;
margin:1.5em auto;padding:0 1em;color:#111;font-size:14px}
h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.2em;margin-top:2em;border-bottom:1px
solid #ccc} .warn{color:#a50f15;font-weight:bold} table{border-collapse:collapse;
font-size:12px} td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;
vertical-align:top} table.first th{width:8em;background:#f4f4f4} img{max-width:100%}
.small{color:#555;font-size:11px}
@media print{h2{page-break-before:always} table.first{page-break-after:always}}
"""


def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _html_table(head, rows, cls=""):
    out = ["<table%s><tr>%s</tr>" % (' class="%s"' % cls if cls else "",
                                     "".join("<th>%s</th>" % html.escape(h) for h in head))]
    for r in rows:
        out.append("<tr>%s</tr>" % "".join("<td>%s</td>" % html.escape(str(c)) for c in r))
    out.append("</table>")
    return "\n".join(out)


def _write_html(diary, out_path, header, rows, max_events):
    plt = _mpl()
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>%s</title>" % html.escape(header[0]),
             '<meta name="generator" content="jerklog %s">' % __version__,
             "<style>%s</style></head><body>" % _CSS]
    parts.append('<section id="summary"><h1>%s</h1>' % html.escape(header[0]))
    for line in header[1:]:
        parts.append("<p>%s</p>" % html.escape(line))
    parts.append('<p class="warn">%s</p>' % html.escape(NOT_A_DIAGNOSIS))
    parts.append('<table class="first">')
    for label, text in rows:
        parts.append("<tr><th>%s</th><td>%s</td></tr>" % (html.escape(label), html.escape(text)))
    parts.append("</table></section>")
    for key, title, make in FIGURES:
        fig = make(diary, plt)
        parts.append('<h2>%s</h2><img alt="%s" src="data:image/png;base64,%s">' % (
            html.escape(title), key, _png(fig)))
        plt.close(fig)
    N = diary.notes.to_dict("records")
    parts.append("<h2>Notes</h2>")
    parts.append(_html_table(("time", "kind", "note"), [
        (when_text(n["time_ms"], diary), n["kind"], describe(n)) for n in N]))
    M = diary.medication()
    parts.append("<h2>Medication: jerk rate %s days before and after each note</h2>"
                 % num(diary.config.medication_window_ms / DAY_MS, 0))
    parts.append(_html_table(("time", "medication", "before /h", "hours recorded",
                              "after /h", "hours recorded", "change"), [
        (when_text(m.time_ms, diary), m.label, num(m.before_per_hour), num(m.before_hours, 0),
         num(m.after_per_hour), num(m.after_hours, 0),
         "" if m.change_pct is None or m.change_pct != m.change_pct else
         "%+.0f%%" % m.change_pct) for m in M.itertuples()]))
    Q = diary.quality()
    parts.append("<h2>Data quality per region</h2>")
    parts.append(_html_table(("region", "hours", "% of period", "gaps", "gap hours",
                              "dropped %", "events missing"), [
        (r["region"], num(r["hours"], 1), num(r["pct"], 1), r["gaps"], num(r["gap_hours"], 1),
         num(r["dropped_pct"], 4), r["events_missing"]) for r in Q["regions"]]))
    D = diary.per_day()
    parts.append("<h2>Per day</h2>")
    if len(D):
        parts.append(_html_table(("date", "UTC offset", "hours", "jerks", "per hour", "day",
                                  "night", "generalised", "multifocal", "focal", "in series",
                                  "medication"), [
            (r.date, r.utc_offset, num(r.hours, 1), r.jerks, num(r.per_hour), r.day_jerks,
             r.night_jerks, r.generalised, r.multifocal, r.focal, r.in_series, r.medication)
            for r in D.itertuples()]))
    ev_rows, total = event_rows(diary, max_events)
    parts.append('<h2 id="events">Event list: %d jerks and trigger presses</h2>' % total)
    if total > len(ev_rows):
        parts.append("<p>The first %d are shown; all are in the CSV diary "
                     "(<code>jerklog export</code>).</p>" % len(ev_rows))
    parts.append(_html_table(EVENT_HEAD, ev_rows))
    parts.append('<p class="small">%s Definitions: docs/diary.md. jerklog %s.</p>'
                 % (html.escape(NOT_A_DIAGNOSIS), __version__))
    parts.append("</body></html>")
    with atomic_output(out_path) as f:
        f.write("\n".join(parts) + "\n")
    return 1, total, len(ev_rows)


def write_report(store, out_path: str, from_ms: int | None = None,
                 to_ms: int | None = None, tz=None,
                 name: str | None = None, dob=None, config=None, max_events: int = 2000,
                 diary: Diary | None = None) -> dict:
    """Write the report as PDF or HTML (by out_path's extension), atomically and private.

    name and dob appear only if given. Returns a dict: format, pages (PDF), events listed
    and in total, and the first page's rows."""
    ext = str(out_path).lower().rsplit(".", 1)[-1] if "." in str(out_path) else ""
    if ext not in ("pdf", "html", "htm"):
        raise JerklogError("report file %s: use a .pdf or .html name" % out_path)
    if dob is not None and not isinstance(dob, (dt.date, str)):
        raise JerklogError("date of birth must be a date")
    if isinstance(dob, str) and dob:
        try:
            dob = dt.date.fromisoformat(dob.strip()).isoformat()
        except ValueError:
            raise JerklogError("date of birth %r is not a date such as 1980-05-17" % dob)
    elif isinstance(dob, dt.date):
        dob = dob.isoformat()
    d = diary or Diary(store, from_ms, to_ms, tz, config)
    header, rows = first_page(d, name, dob)
    if ext == "pdf":
        pages, total, shown = _write_pdf(d, out_path, header, rows, max_events)
    else:
        pages, total, shown = _write_html(d, out_path, header, rows, max_events)
    return dict(format="pdf" if ext == "pdf" else "html", pages=pages, events_total=total,
                events_listed=shown, header=header, rows=rows)
