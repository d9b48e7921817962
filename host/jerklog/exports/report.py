"""The doctor's report: page 1 is a clinical summary a neurologist takes in at a glance (a
short table in clinical words and one figure, the day-by-day raster of every jerk); the
pages behind it hold the full figures, the nights side by side, the charts that carry
information, data quality, the tables and the event list. PDF (matplotlib PdfPages) or one
self-contained HTML file (plots inline as base64 PNG) with the same content, chosen by the
output file's extension.

    write_report(store, out_path, from_ms, to_ms, tz=None, name=None, dob=None,
                 config=None, max_events=2000, diary=None) -> dict

first_page(diary, name=None, dob=None) gives page 1's header lines and its (label, text)
rows; detail_rows(diary) the full figures behind them (page 2). Both formats render those
rows, so a test can compare them with the diary's own figures.
"""
import datetime as dt

import numpy as np

from jerklog import JerklogError, __version__
from jerklog.diary import Diary
from jerklog.diary.config import DAY_MS, EXTENTS, HOUR_MS, MINUTE_MS, WHEN
from jerklog.exports import report_evidence
from jerklog.exports import report_figures as figs
from jerklog.exports import report_layout as lay
from jerklog.extras import require
from jerklog.files import atomic_output
from jerklog.localtime import format_iso
from jerklog.store.notes import describe

NOT_A_DIAGNOSIS = lay.NOT_A_DIAGNOSIS
__all__ = ["NOT_A_DIAGNOSIS", "first_page", "detail_rows", "event_rows", "write_report"]

WHEN_LABEL = {"rest": "at rest", "active": "during action", "asleep": "asleep",
              "sleep onset": "at sleep onset", "after waking": "just after waking",
              "unknown": "context unknown"}
FULL_DAY_HOURS = 20.0   # a day recorded this long counts for 'per day' (jerks that day)
PAGE1_DAYS = 62         # page 1's raster shows at most the last this many days
RASTER_PAGE_DAYS = 62   # the raster of every day, this many days a page


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


def count(n):
    return "{:,}".format(int(n))


def plural(n, word, many=None):
    return "%s %s" % (count(n), word if n == 1 else (many or word + "s"))


def duration(seconds):
    """12 s, 4.5 min, 2.1 h."""
    if seconds is None:
        return "n/a"
    if seconds < 90:
        return "%s s" % num(float(seconds))
    if seconds < 90 * 60:
        return "%s min" % num(seconds / 60.0, 1 if seconds < 600 else 0)
    return "%s h" % num(seconds / 3600.0, 1)


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


# -- page 1: the clinical summary ---------------------------------------------------------------
def first_page(diary: Diary, name: str | None = None, dob=None,
               summary: dict | None = None, marks: dict | None = None) -> tuple:
    """Header lines and page 1's (label, text) rows: where, how often, (with marks from
    jerklog review: how many were confirmed), pattern, when, triggers, strength,
    medication, notes and data quality, in clinical words."""
    S = summary or diary.summary()
    header = ["Myoclonus diary report"]
    who = []
    if name:
        who.append("Patient: %s" % name)
    if dob:
        who.append("date of birth: %s" % dob)
    if who:
        header.append(", ".join(who))
    hours = (diary.to_ms - diary.from_ms) / HOUR_MS
    span = "%s h" % num(hours, 1) if hours < 48 else "%s days" % num(hours / 24, 1)
    header.append("Period: %s to %s (%s); time zone %s" % (
        when_text(diary.from_ms, diary), when_text(diary.to_ms, diary), span, S["zones"]))
    sites = S["sites"]
    header.append("%s: %s" % (plural(len(sites), "sensor"), ", ".join(sites) or "none"))
    rows = [("Where", where_text(diary, S)), ("How often", often_text(diary, S))]
    R = review_counts(diary, marks)
    if R["reviewed"]:
        rows.append(("Reviewed", review_text(R)))
    rows += [("Pattern", pattern_text(diary, S)), ("When", when_row(S)),
            ("Triggers", trigger_text(diary, S)), ("Strength", strength_text(S)),
            ("Medication", medication_text(diary, S)), ("Notes", notes_text(diary)),
            ("Data quality", quality_text(diary, S))]
    return header, rows


MARK_RANK = {"unsure": 1, "rejected": 2, "confirmed": 3}  # a jerk takes its events' highest


def review_counts(diary, marks: dict | None) -> dict:
    """Jerks by their review mark: {confirmed, rejected, unsure, reviewed, jerks}. A jerk seen
    by several sensors is confirmed if any of its events was, else rejected, else unsure."""
    ev = diary.events[diary.events["is_jerk"]] if len(diary.events) else diary.events
    gids = ev["gid"].tolist() if len(ev) else []
    best = {}
    if marks:
        keys = zip(ev["device_id"].tolist(), ev["boot_id"].tolist(), ev["seq"].tolist())
        for g, k in zip(gids, keys):
            r = MARK_RANK.get(marks.get(k), 0)
            if r > best.get(g, 0):
                best[g] = r
    out = {m: sum(1 for r in best.values() if r == k) for m, k in MARK_RANK.items()}
    out.update(reviewed=len(best), jerks=len(set(gids)))
    return out


def review_text(R):
    """Page 1's review row: confirmed jerks apart from the rest."""
    return ("%s of %s confirmed by review (their waveforms seen on jerklog review); %s marked "
            "not a jerk, %s unsure, %s not reviewed. The counts above include them all." % (
                count(R["confirmed"]), plural(R["jerks"], "jerk"), count(R["rejected"]),
                count(R["unsure"]), count(R["jerks"] - R["reviewed"])))


def where_text(diary, S):
    """Focal / multifocal / generalised, each with the regions that saw its jerks."""
    F, E, sites = S["frequency"], S["extents"], S["sites"]
    n = F["jerks"]
    cfg = diary.config
    if not n:
        return "No jerks recorded."
    neg = (" Negative myoclonus (lapses): %s." % count(F["negative"])) if F["negative"] \
        else ""
    if len(sites) <= 1:
        return ("One sensor only (%s): %s. With one sensor, focal, multifocal and "
                "generalised cannot be told apart.%s" % (sites[0] if sites else "none",
                                                         plural(n, "jerk"), neg))
    parts, zero = [], []
    for ex in sorted(EXTENTS, key=lambda e: -E[e]):
        k = E[ex]
        if not k:
            if ex != "unclassified":
                zero.append(ex)
            continue
        seen = sorted(((r[ex], r["region"]) for r in S["regions"] if r[ex]),
                      key=lambda x: (-x[0], x[1]))
        txt = "%s %s (%s" % (ex, pct(k, n), count(k))
        if ex == "unclassified":
            txt += ", one sensor recording at the time"
        if seen:
            txt += ": " + ", ".join("%s %s" % (reg, count(c)) for c, reg in seen)
        parts.append(txt + ")")
    out = "; ".join(parts)
    if zero:
        out += "; no %s jerks" % " or ".join(zero)
    return "%s%s. Of %s; several sensors within %d ms count as one jerk.%s" % (
        out[0].upper(), out[1:], plural(n, "jerk"), cfg.group_window_ms, neg)


def often_text(diary, S):
    """Rates per recorded hour awake and asleep (per hour of sleep, like a PLM index), per
    night, per day, and the trend."""
    F, T = S["frequency"], S["trend"]
    cfg = diary.config
    n = F["jerks"]
    out = ["%s in %s h recorded: %s%s" % (
        plural(n, "jerk"), num(F["hours"], 1), per_h(F["per_hour"]),
        " (%s sure)" % count(F["sure"]) if n else "")]
    ns, nc = F["nights_from_sleep"], F["nights_from_clock"]
    def rate(r, k, h, note=""):
        if r is None:
            return "not recorded" + (" (%s)" % note if note else "")
        return "%s (%s in %s h%s)" % (per_h(r), count(k), num(h, 1),
                                      "; " + note if note else "")

    awake = rate(F["day_per_hour"], F["day_jerks"], F["day_hours"])
    night = (F["night_per_hour"], F["night_jerks"], F["night_hours"])
    if ns and not nc:
        out.append("Awake %s; per hour of sleep %s" % (awake, rate(*night)))
    elif ns:
        out.append("Awake %s; at night %s" % (awake, rate(*night, note=(
            "night = recorded sleep on %d nights, clock hours %02d:00-%02d:00 on %d" % (
                ns, cfg.night_start_hour, cfg.night_end_hour, nc)))))
    else:
        out.append("By day %s; at night %s" % (awake, rate(*night, note=(
            "%02d:00-%02d:00, no sleep recorded" % (cfg.night_start_hour,
                                                    cfg.night_end_hour)))))
    N = figs.nights(diary)
    if len(N) == 1:
        r = N.iloc[0]
        out.append("1 night: %s in %s h of sleep (one night is not representative)" % (
            plural(int(r["jerks"]), "jerk"), num(float(r["hours"]), 1)))
    elif len(N):
        j = N["jerks"].to_numpy()
        out.append("Per night: median %s jerks (%s-%s) over %d nights" % (
            num(float(np.median(j)), 0), count(j.min()), count(j.max()), len(N)))
    D = diary.per_day()
    full = D[D["hours"] >= FULL_DAY_HOURS] if len(D) else D
    if len(full):
        j = full["jerks"].to_numpy()
        out.append("Per day: median %s (%s-%s) over %s recorded ≥ %d h" % (
            num(float(np.median(j)), 0), count(j.min()), count(j.max()),
            plural(len(full), "day"), FULL_DAY_HOURS))
    else:
        out.append("Per day: no day recorded ≥ %d h" % FULL_DAY_HOURS)
    if T["slope_per_week"] is not None:
        out.append("Trend: %s, %s in the first %d days → %s in the last %d (fitted %+.0f%% "
                   "over the period)" % (T["direction"], per_h(T["first_rate"]),
                                         T["half_days"], per_h(T["last_rate"]),
                                         T["half_days"], T["change_pct"]))
    else:
        out.append("Trend: not assessable (%s recorded ≥ %s h; %d needed)" % (
            plural(T["days"], "day"), num(cfg.trend_min_day_hours, 0), cfg.trend_min_days))
    return ". ".join(out) + "."


def pattern_text(diary, S):
    """Single jerks or series; rhythmic (with the rate) or irregular."""
    R = S["rhythm"]
    n = S["frequency"]["jerks"]
    if not n:
        return "No jerks."
    gap = num(R["gap_s"])
    iti = R["interval_median_s"]
    if not R["series"]:
        return "Single jerks only: no series (%d or more jerks ≤ %s s apart). Median " \
            "interval between jerks %s." % (R["min_jerks"], gap, duration(iti))
    single = n - R["jerks_in_series"]
    out = ["Single jerks %s; in series %s: %s (%d or more jerks ≤ %s s apart), median %s "
           "jerks over %s at %s Hz" % (
               pct(single, n), pct(R["jerks_in_series"], n), plural(R["series"], "series",
                                                                    "series"),
               R["min_jerks"], gap, num(R["length_median"], 0),
               duration(R["duration_median_s"]), num(R["rate_median_hz"], 2))]
    Sr = diary.series
    rhythmic = Sr[Sr["rhythm"] == "rhythmic"] if len(Sr) else Sr
    if R["judged"]:
        txt = "Rhythm: %s (median CV %s of %d series judged: %d rhythmic, %d " \
            "semi-regular, %d irregular)" % (R["verdict"], num(R["cv_median"], 2),
                                             R["judged"], R["rhythmic"], R["semi_regular"],
                                             R["irregular"])
        if len(rhythmic):
            txt += "; the rhythmic ones at %s Hz" % num(float(rhythmic["rate_hz"].median()), 2)
        out.append(txt)
    else:
        out.append("Rhythm: no series long enough to judge (%d intervals)" %
                   diary.config.rhythm_min_intervals)
    return ". ".join(out) + "."


def when_row(S):
    """Rest, action, asleep, sleep onset, after waking: the share of jerks, most first."""
    C = S["contexts"]
    n = S["frequency"]["jerks"]
    if not n:
        return "No jerks."
    items = [(w, C[w]) for w in WHEN if w != "unknown" or C[w]]
    items.sort(key=lambda x: -x[1])
    out = "; ".join("%s %s (%s)" % (WHEN_LABEL[w], pct(k, n), count(k)) if k else
                    "%s 0" % WHEN_LABEL[w] for w, k in items) + "."
    return out[0].upper() + out[1:]


def trigger_text(diary, S):
    Tg = S["triggers"]
    if not Tg["marks"]:
        return "No trigger marks (button presses or trigger notes)."
    noted = [describe(t) for t in
             diary.notes[diary.notes["kind"] == "trigger"].to_dict("records")]
    what = ""
    if noted:
        what = ": " + "; ".join(noted[:2]) + ("; ..." if len(noted) > 2 else "")
    return "%s (%d button, %d noted%s). %s within %s s of a mark, %s expected by chance." % (
        plural(Tg["marks"], "mark"), Tg["button"], Tg["notes"], what,
        plural(Tg["jerks_near"], "jerk"), num(Tg["window_s"], 0),
        num(Tg["expected_near"]))


def strength_text(S):
    St = S["strength"]
    g, r, d = St["peak_g"], St["peak_dps"], St["duration_ms"]
    if not g["n"]:
        return "No jerks."
    out = ["Peak %s g (10-90%%: %s-%s g; largest %s g)" % (
        num(g["median"], 2), num(g["p10"], 2), num(g["p90"], 2), num(g["max"], 2))]
    out.append("rotation %s" % ("%s deg/s (10-90%%: %s-%s)" % (
        num(r["median"], 0), num(r["p10"], 0), num(r["p90"], 0)) if r["n"] else
        "not measured"))
    out.append("duration %s ms (10-90%%: %s-%s)" % (num(d["median"], 0), num(d["p10"], 0),
                                                    num(d["p90"], 0)))
    return "; ".join(out) + "."


def medication_text(diary, S):
    meds = S["medication"]
    if not meds:
        return "No medication notes in this period."
    days = num(diary.config.medication_window_ms / DAY_MS, 0)
    parts = []
    for m in meds[:3]:
        txt = "%s (%s): %s in the %s days before → %s after" % (
            m["label"] or "medication", when_text(m["time_ms"], diary)[:16], per_h(
                m["before_per_hour"]), days, per_h(m["after_per_hour"]))
        if m["change_pct"] is not None and m["change_pct"] == m["change_pct"]:
            txt += " (%+.0f%%)" % m["change_pct"]
        if m["few_data"]:
            txt += ", few data (%s h and %s h recorded)" % (num(m["before_hours"], 0),
                                                           num(m["after_hours"], 0))
        parts.append(txt)
    more = "; %d more in the medication table" % (len(meds) - 3) if len(meds) > 3 else ""
    return "; ".join(parts) + more + "."


def notes_text(diary):
    free = diary.notes[diary.notes["kind"] == "note"].to_dict("records")
    if not free:
        return "No free notes (alcohol, stress, caffeine, exercise)."
    txt = "; ".join("%s %s" % (when_text(x["time_ms"], diary)[:16], describe(x))
                    for x in free[:3])
    if len(free) > 3:
        txt += "; %d more in the notes table" % (len(free) - 3)
    return txt + "."


def quality_text(diary, S, pointer=True):
    """Data quality in one line: 'Complete ...' when nothing is missing, else the problems
    (and, with pointer, where the details are)."""
    Q = S["quality"]
    cfg = diary.config
    sites = S["sites"]
    probs = []
    # Sensors named apart only where one recorded less than the others together.
    incomplete = [r for r in Q["regions"] if r["hours"] < Q["hours"] - max(
        0.005 * Q["period_hours"], 0.1)]
    if Q["gaps"]:
        a, b = Q["longest_gap"]
        probs.append("%s ≥ %s min with no sensor recording (%s h; longest %s h from %s)" % (
            plural(Q["gaps"], "gap"), num(cfg.gap_min_ms / MINUTE_MS, 0),
            num(Q["gap_hours"], 1), num((b - a) / HOUR_MS, 1), when_text(a, diary)))
    if incomplete and len(sites) > 1:
        probs.append("per sensor: " + ", ".join("%s %s" % (r["region"], pct(
            r["hours"], Q["period_hours"])) for r in Q["regions"]))
    if Q["dropped"]:
        probs.append("dropped samples %s%%" % num(Q["dropped_pct"], 3 if (
            Q["dropped_pct"] or 0) < 0.1 else 2))
    if Q["events_missing"]:
        probs.append("%s counted by the boards but not in the store" % plural(
            Q["events_missing"], "event"))
    if Q["jerks_outside_recorded"]:
        probs.append("%s outside recorded time" % plural(Q["jerks_outside_recorded"], "jerk"))
    if Q.get("log_dropped"):
        probs.append("%s lost because a board's on-board log was full (devices %s)" % (
            plural(Q["log_dropped"], "event"),
            ", ".join(str(d) for d in Q["log_dropped_devices"])))
    for o in Q.get("not_worn", []):
        probs.append("device %d not worn for %s h" % (o["device_id"], num(o["hours"], 1)))
    for o in Q.get("recorded_twice", []):
        probs.append("device %d recorded the same %s h twice (boots %d and %d): counted once"
                     % (o["device_id"], num(o["hours"], 1), o["kept_boot"],
                        o["left_out_boot"]))
    if Q["estimated_boots"]:
        probs.append("%d boots without counters (recorded time estimated)" %
                     Q["estimated_boots"])
    if Q.get("clock_corrections"):
        probs.append("%d jumps of a board clock's estimate corrected" %
                     Q["clock_corrections"])
    if Q["events_shifted"]:
        probs.append("%s stored before a clock correction" % plural(Q["events_shifted"],
                                                                    "event"))
    if not Q["hours"]:
        return "Nothing recorded in this period%s." % ("; " + "; ".join(probs) if probs
                                                       else "")
    if not probs and Q["pct"] is not None and Q["pct"] >= 99.5:
        who = sites[0] if len(sites) == 1 else "all %d sensors" % len(sites)
        return ("Complete: %s recorded the whole period (%s h), with no gaps, no dropped "
                "samples and no missing events." % (who, num(Q["hours"], 1)))
    return "Recorded %s of the period (%s h of %s h) by at least one sensor%s.%s" % (
        pct(Q["hours"], Q["period_hours"]), num(Q["hours"], 1), num(Q["period_hours"], 1),
        "; " + "; ".join(probs) if probs else "",
        " Details on the data-quality page." if pointer else "")


# -- page 2: the full figures behind page 1 -----------------------------------------------------
def detail_rows(diary: Diary, summary: dict | None = None) -> list:
    """Every figure of the diary's summary as (label, text) rows: what page 1 condenses."""
    S = summary or diary.summary()
    F, T, R, C, Q = S["frequency"], S["trend"], S["rhythm"], S["contexts"], S["quality"]
    cfg = diary.config
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
        often.append("; sure %d of %d (%s; judged at least %s likely a jerk), the rest "
                     "less clearly told from what the wearer was doing" % (
                         F["sure"], n, pct(F["sure"], n), pct(cfg.sure_confidence, 1)))
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
    for o in Q.get("not_worn", []):
        dq.append("device %d lay still off the body for %s h (not worn; from its epochs)"
                  % (o["device_id"], num(o["hours"], 1)))
    for o in Q.get("recorded_twice", []):
        dq.append("device %d recorded the same %s h twice (boots %d and %d, from %s): counted "
                  "once, %d duplicate events left out" % (
                      o["device_id"], num(o["hours"], 1), o["kept_boot"], o["left_out_boot"],
                      when_text(o["from_ms"], diary), o["events_left_out"]))
    rows.append(("Data quality", "; ".join(dq) + "."))
    return rows


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


# -- the pages after the first ------------------------------------------------------------------
def raster_title(diary, shown, days):
    if len(days) == 1 and diary.to_ms - diary.from_ms < 16 * HOUR_MS:
        return "Every jerk over the recording (local time)"
    t = "Every jerk, day by day (local time; one row per %s)" % (
        "day, from midnight" if figs.row_start(diary) == 0 else
        "night, from noon to noon, named by its evening")
    if len(shown) < len(days):
        t += ": the last %d of %d days; every day is on the raster pages" % (len(shown),
                                                                           len(days))
    return t


def _nights_table(diary, N):
    head = ("night of", "asleep from", "to", "hours asleep", "awake between", "jerks",
            "per hour of sleep", "at sleep onset", "just after waking")
    rows = []
    for r in N.itertuples():
        on = when_text(r.onset_ms, diary)[11:16]
        off = when_text(r.waking_ms, diary)[11:16]
        rows.append((r.night, ("" if r.onset_located else "c. ") + on,
                     ("" if r.waking_located else "c. ") + off, num(r.hours, 1),
                     "%s min" % num(r.awake_within_min, 0) if r.episodes > 1 else "",
                     count(r.jerks), num(r.per_hour), count(r.at_onset),
                     count(r.after_waking)))
    return lay.Table(head, rows, widths=(0.95, 0.85, 0.75, 0.75, 0.75, 0.6, 0.9, 0.8, 0.8),
                 align=("l", "l", "l", "r", "r", "r", "r", "r", "r"))


def _quality_tables(diary, S):
    Q = S["quality"]
    cfg = diary.config
    blocks = [lay.Heading("Per sensor"), lay.Table(
        ("region", "hours recorded", "% of period", "gaps >= %d min" % (
            cfg.gap_min_ms // MINUTE_MS), "hours in gaps", "dropped samples",
         "events missing"),
        [(r["region"], num(r["hours"], 1), num(r["pct"], 1), count(r["gaps"]),
          num(r["gap_hours"], 1), "%s (%s%%)" % (count(r["dropped"]), num(
              r["dropped_pct"], 3)) if r["dropped"] else "0", count(r["events_missing"]))
         for r in Q["regions"]],
        widths=(1.4, 0.9, 0.8, 0.9, 0.9, 1.2, 0.9), align=("l",) + ("r",) * 6)]
    G = diary.gaps()
    if G:
        blocks.append(lay.Heading("Gaps with no sensor recording (%s%s)" % (
            plural(len(G), "gap"), ", the first 60" if len(G) > 60 else "")))
        blocks.append(lay.Table(("from", "to", "hours"), [
            (when_text(a, diary), when_text(b, diary), num((b - a) / HOUR_MS, 1))
            for a, b in G[:60]], widths=(2, 2, 1), align=("l", "l", "r")))
    clock = ("Clocks: the board's own clock on %d boots, estimated by the computer from "
             "arrival times on %d%s; %d events stored before a clock correction (largest "
             "shift %s ms)." % (Q["boots_device_clock"], Q["boots_host_clock"],
                                (", unknown on %d" % Q["boots_unknown_clock"]) if
                                Q["boots_unknown_clock"] else "", Q["events_shifted"],
                                num(Q["max_shift_ms"], 0)))
    blocks.append(lay.Para(clock))
    return blocks


def _document(diary, S, max_events, events=None, evidence=None):
    """The sections after page 1, in order; each chart only where it carries information.
    evidence: report_evidence.gather's picks (None: no waveform stored)."""
    cfg = diary.config
    F = S["frequency"]
    secs = [lay.Section("The figures behind page 1, in full", [
        lay.Table(None, detail_rows(diary, S), widths=(1.05, 6.1), label=True, size=7.5)],
        key="detail", new_page=True)]
    secs.append(lay.Section("What the jerks looked like", report_evidence.blocks(
        diary, evidence), key="evidence", new_page=bool(evidence)))
    # Sleep-medicine habits: nights side by side, the interval histogram, the clock.
    blocks = []
    N = figs.nights(diary)
    if len(N):
        blocks.append(lay.Heading("Nights side by side"))
        source = ("Sleep from the boards' 5 s activity epochs (sustained inactivity within "
                  "a sleep window, van Hees et al. 2015 and 2018)"
                  if diary.quality().get("sleep_from") == "epochs" else
                  "Sleep from the boards' asleep context (stillness)")
        blocks.append(lay.Para(
            "%s: from the first sleep onset to the last waking of each night, local noon to "
            "noon; c. marks an onset or waking the diary could not locate to within %d min. "
            "Hours asleep leave out time not recorded; per hour of sleep is jerks in sleep / "
            "hours asleep." % (source, cfg.transition_max_gap_ms // MINUTE_MS), size=7.5))
        blocks.append(_nights_table(diary, N))
    iti, _ = figs.interval_data(diary)
    if len(iti) >= 10:
        blocks.append(lay.Figure("intervals", "Intervals between consecutive jerks", 2.5,
                             lambda b: figs.draw_intervals(b, diary)))
    h, c, _ = figs.hour_profile(diary)
    if int((h >= 0.25).sum()) >= 4 and c.sum() > 0:
        blocks.append(lay.Figure("hours", "By hour of the day", 2.3,
                             lambda b: figs.draw_hours(b, diary)))
    if blocks:
        secs.append(lay.Section("Sleep, intervals and the 24-hour clock", blocks, key="sleep"))
    # Over the days, where, and the pattern of series.
    blocks = []
    if figs.daily_ok(diary):
        blocks.append(lay.Figure("daily", "Day by day", 2.8, lambda b: figs.draw_daily(b, diary)))
    if len(S["sites"]) >= 2 and F["jerks"]:
        blocks.append(lay.Figure("regions", "Where", 1.2 + 0.28 * len(S["regions"]),
                             lambda b: figs.draw_regions(b, diary)))
    if figs.pattern_panels(diary):
        blocks.append(lay.Figure("pattern", "Series and rhythm", 2.4,
                             lambda b: figs.draw_pattern(b, diary)))
    if blocks:
        names = [n for n, k in (("Day by day", "daily"), ("where", "regions"),
                                ("series and rhythm" if len(blocks) == 1 else "series",
                                 "pattern"))
                 if any(getattr(b, "key", None) == k for b in blocks)]
        title = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
        secs.append(lay.Section(title[0].upper() + title[1:], blocks, key="days"))
    # Data quality: the problems, when there are any.
    blocks = [lay.Para(quality_text(diary, S, pointer=False), size=8)]
    qp = figs.quality_panels(diary)
    if qp:
        blocks.append(lay.Figure("quality", "Data quality", 2.3 * len(qp),
                             lambda b: figs.draw_quality(b, diary)))
    blocks += _quality_tables(diary, S)
    secs.append(lay.Section("Data quality", blocks, key="quality"))
    # Tables: per day, medication, notes.
    blocks = []
    D = diary.per_day()
    if len(D):
        multi = len(S["sites"]) >= 2
        head = ["date", "UTC offset", "hours", "jerks", "per hour", "awake", "asleep"]
        widths = [0.85, 0.75, 0.5, 0.5, 0.55, 0.5, 0.55]
        if multi:
            head += ["general-\nised", "multi-\nfocal", "focal"]
            widths += [0.55, 0.5, 0.5]
        head += ["in series", "medication"]
        widths += [0.5, 1.4]
        rows = []
        for r in D.itertuples():
            row = [r.date, r.utc_offset, num(r.hours, 1), count(r.jerks), num(r.per_hour),
                   count(r.day_jerks), count(r.night_jerks)]
            if multi:
                row += [count(r.generalised), count(r.multifocal), count(r.focal)]
            rows.append(row + [count(r.in_series), r.medication or ""])
        blocks.append(lay.Heading("Per day (local dates; the UTC offsets in force that day)"))
        blocks.append(lay.Table(head, rows, widths=widths, size=7,
                                align=("l", "l") + ("r",) * (len(head) - 3) + ("l",)))
    M = diary.medication()
    if len(M):
        blocks.append(lay.Heading("Medication: jerk rate %s days before and after each note"
                              % num(cfg.medication_window_ms / DAY_MS, 0)))
        blocks.append(lay.Table(
            ("time", "medication", "before /h", "hours recorded", "after /h",
             "hours recorded", "change"),
            [(when_text(m.time_ms, diary), m.label or "", num(m.before_per_hour),
              num(m.before_hours, 0), num(m.after_per_hour), num(m.after_hours, 0),
              "" if m.change_pct is None or m.change_pct != m.change_pct else
              "%+.0f%%" % m.change_pct) for m in M.itertuples()],
            widths=(1.5, 2, 0.7, 0.8, 0.7, 0.8, 0.6), align=("l", "l") + ("r",) * 5))
    notes = diary.notes.to_dict("records")
    if notes:
        blocks.append(lay.Heading("Notes (%d)" % len(notes)))
        blocks.append(lay.Table(("time", "kind", "note"), [
            (when_text(n["time_ms"], diary), n["kind"], describe(n)) for n in notes],
            widths=(1.5, 0.9, 4.8)))
    if blocks:
        secs.append(lay.Section("Days, medication and notes", blocks, key="tables"))
    # The raster of every day, when page 1 could show only the last of them.
    days = figs.raster_rows(diary)
    if len(days) > PAGE1_DAYS:
        avail = lay.PAGE[1] - 0.5 - lay.BOTTOM - 0.5
        blocks = []
        for i in range(0, len(days), RASTER_PAGE_DAYS):
            chunk = days[i:i + RASTER_PAGE_DAYS]
            rh = figs.raster_row_h(diary, len(chunk), avail)
            blocks.append(lay.Figure("raster-%d" % (i // RASTER_PAGE_DAYS + 1),
                                 "Every jerk, days %d-%d" % (i + 1, i + len(chunk)),
                                 len(chunk) * rh + figs.raster_fixed_h(diary),
                                 lambda b, c=chunk, r=rh: figs.draw_raster(b, diary, c, r)))
        secs.append(lay.Section("Every jerk, day by day: all %d days" % len(days), blocks,
                                key="raster", new_page=True))
    # The event list.
    ev_rows, total = events if events is not None else event_rows(diary, max_events)
    title = "Event list: %d jerks and trigger presses" % total
    blocks = []
    if total > len(ev_rows):
        blocks.append(lay.Para("The first %d are shown; all are in the CSV diary (jerklog "
                           "export)." % len(ev_rows)))
    blocks.append(lay.Table(EVENT_HEAD, ev_rows, wrap=False, size=7, key="events", pad=0.012,
                            widths=(0.4, 1.8, 1.65, 0.8, 0.8, 0.6, 0.38, 0.42, 0.36, 0.42,
                                    0.42),
                            align=("r", "l", "l", "l", "l", "l", "r", "r", "r", "r", "r")))
    secs.append(lay.Section(title, blocks, key="events", new_page=True))
    return secs


# -- writers ----------------------------------------------------------------------------------
def _mpl():
    matplotlib = require("matplotlib", "report", "the report")
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    matplotlib.rcParams.update({
        "pdf.fonttype": 42, "ps.fonttype": 42, "font.size": 7.5, "axes.titlesize": 8,
        "axes.labelsize": 7.5, "xtick.labelsize": 7, "ytick.labelsize": 7,
        "legend.fontsize": 7, "hatch.linewidth": 0.5, "axes.linewidth": 0.6})
    return plt


def _page1_raster(diary, avail):
    days = figs.raster_rows(diary)
    shown = days[-PAGE1_DAYS:]
    rh = figs.raster_row_h(diary, len(shown), avail)
    height = len(shown) * rh + figs.raster_fixed_h(diary)
    return lay.Figure("raster", raster_title(diary, shown, days), height,
                  lambda b: figs.draw_raster(b, diary, shown, rh))


def _write_pdf(diary, out_path, header, rows, doc):
    plt = _mpl()
    from matplotlib.backends.backend_pdf import PdfPages
    with atomic_output(out_path, "wb") as f:
        with PdfPages(f) as pdf:
            d = pdf.infodict()
            d["Title"] = "jerklog myoclonus diary report"
            d["Creator"] = "jerklog %s" % __version__
            pages = lay._PdfPages(pdf, plt)
            pages.new_page()
            pages.core = False
            y = pages.y
            pages.text(lay.MARGIN, y, header[0], fontsize=15, weight="bold", va="top")
            y -= 0.32
            for line in header[1:]:
                pages.text(lay.MARGIN, y, line, fontsize=8.5, va="top")
                y -= 0.17
            pages.text(lay.MARGIN, y, NOT_A_DIAGNOSIS, fontsize=8.5, va="top", weight="bold",
                       color="#a50f15")
            pages.y = y - 0.24
            pages.table(lay.Table(None, rows, widths=(1.0, 6.17), label=True, size=8.2))
            raster = _page1_raster(diary, pages.y - 0.22 - lay.BOTTOM)
            pages.text(lay.MARGIN, pages.y, raster.title, fontsize=9, weight="bold", va="top")
            pages.y -= 0.2
            raster.draw(lay._Box(pages.fig, lay.MARGIN, pages.y - raster.height, lay.CONTENT_W,
                             raster.height))
            pages.y -= raster.height
            for s in doc:
                pages.section(s)
            pages.flush()
    return pages.page


def _write_html(diary, out_path, header, rows, doc):
    import html
    plt = _mpl()
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>%s</title>" % html.escape(header[0]),
             '<meta name="generator" content="jerklog %s">' % __version__,
             "<style>%s</style></head><body>" % lay.CSS]
    parts.append('<section id="summary"><h1>%s</h1>' % html.escape(header[0]))
    for line in header[1:]:
        parts.append("<p>%s</p>" % html.escape(line))
    parts.append('<p class="warn">%s</p>' % html.escape(NOT_A_DIAGNOSIS))
    parts.append(lay.html_table(lay.Table(None, rows, label=True), cls="summary"))
    raster = _page1_raster(diary, 6.5)
    parts.append("<h3>%s</h3>" % html.escape(raster.title))
    parts.append(lay.html_figure(raster, plt))
    parts.append("</section>")
    for s in doc:
        parts.append(lay.html_section(s, plt))
    parts.append('<p class="small">%s Definitions: docs/diary.md. jerklog %s.</p>'
                 % (html.escape(NOT_A_DIAGNOSIS), __version__))
    parts.append("</body></html>")
    with atomic_output(out_path) as f:
        f.write("\n".join(parts) + "\n")
    return 1


def write_report(store, out_path: str, from_ms: int | None = None,
                 to_ms: int | None = None, tz=None,
                 name: str | None = None, dob=None, config=None, max_events: int = 2000,
                 diary: Diary | None = None, progress=None) -> dict:
    """Write the report as PDF or HTML (by out_path's extension), atomically and private.

    name and dob appear only if given; progress(text) hears each stage (long reports).
    Returns a dict: format, pages (PDF), events listed and in total, and page 1's header and
    rows."""
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
    say = progress or (lambda text: None)
    say("reading the diary")
    d = diary or Diary(store, from_ms, to_ms, tz, config)
    S = d.summary()
    say("page 1 and the event list")
    marks = store.review_marks() if store is not None else None
    header, rows = first_page(d, name, dob, summary=S, marks=marks)
    events = event_rows(d, max_events)
    say("the waveforms of representative jerks")
    picks = report_evidence.gather(store, d) if store is not None else None
    doc = _document(d, S, max_events, events, picks)
    say("writing the %s" % ("PDF" if ext == "pdf" else "HTML"))
    if ext == "pdf":
        pages = _write_pdf(d, out_path, header, rows, doc)
    else:
        pages = _write_html(d, out_path, header, rows, doc)
    ev_rows, total = events
    return dict(format="pdf" if ext == "pdf" else "html", pages=pages, events_total=total,
                events_listed=len(ev_rows), header=header, rows=rows)
