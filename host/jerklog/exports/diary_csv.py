"""The CSV diary (one row per event) and the daily summary CSV, both derived from a Diary."""
import math

import numpy as np
import pandas as pd

from jerklog.diary.config import DAY_MS, EXTRA_COLUMNS, WHEN, DiaryConfig
from jerklog.diary.core import Diary
from jerklog.diary.load import _day_text
from jerklog.events import format_value
from jerklog.files import atomic_output
from jerklog.localtime import iso_times, parse_time


def _fmt_col(values):
    """format_value over a column (a Series or list), computed once per distinct value."""
    if not isinstance(values, pd.Series):
        values = pd.Series(values, dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = np.array([format_value(v.item() if hasattr(v, "item") else v)
                     for v in uniques] + [""], dtype=object)
    return text[codes].tolist()


def review_column(diary: Diary, marks: dict | None) -> list:
    """Each event's review mark (confirmed, rejected, unsure; jerklog review) or ''; marks:
    {(device_id, boot_id, seq): mark} as Store.review_marks() gives them."""
    ev = diary.events
    if not marks:
        return [""] * len(ev)
    keys = zip(ev["device_id"].tolist(), ev["boot_id"].tolist(), ev["seq"].tolist())
    return [marks.get(k, "") for k in keys]


def event_table(diary: Diary, marks: dict | None = None) -> dict:
    """The event diary as text columns: the export columns, then series, group, extent and
    when (empty where they do not apply), then review (the event's mark, or empty). Rows in
    store order."""
    from jerklog.events import DIARY_COLUMNS
    ev = diary.events
    cols = {}
    for c in DIARY_COLUMNS + EXTRA_COLUMNS:
        if c == "time":
            cols[c] = iso_times(ev["time_ms"].to_numpy(), diary.zones).tolist()
        elif c == "device":
            cols[c] = _fmt_col(ev["device_id"])
        elif c == "boot":
            cols[c] = _fmt_col(ev["boot_id"])
        elif c == "region":
            cols[c] = [r if isinstance(r, str) and r else "unknown"
                       for r in ev["region"].tolist()]
        elif c in ("series", "group"):
            cols[c] = ["" if v == 0 else str(v) for v in ev[c].tolist()]
        elif c in ("extent", "when"):
            cols[c] = ev[c].tolist()
        else:
            cols[c] = _fmt_col(ev[c])
    cols["review"] = review_column(diary, marks)
    return cols


def _csv_field(v):
    if any(ch in v for ch in ',"\r\n'):
        return '"%s"' % v.replace('"', '""')
    return v


def _write_columns(f, cols):
    """Write text columns as CSV (RFC 4180 quoting, as the csv module's minimal quoting)."""
    names = list(cols)
    for c in names:
        vals = cols[c]
        uniq = set(vals) if c not in ("time",) else ()
        if any(_csv_field(v) != v for v in uniq):
            q = {v: _csv_field(v) for v in uniq}
            cols[c] = [q[v] for v in vals]
    f.write(",".join(_csv_field(c) for c in names) + "\n")
    rows = zip(*(cols[c] for c in names))
    chunk = []
    for row in rows:
        chunk.append(",".join(row))
        if len(chunk) == 50000:
            f.write("\n".join(chunk) + "\n")
            chunk = []
    if chunk:
        f.write("\n".join(chunk) + "\n")


def write_events_csv(store, out_path: str, from_ms: int | None = None,
                     to_ms: int | None = None, tz=None,
                     config: DiaryConfig | None = None, diary: Diary | None = None) -> int:
    """Write the event diary (events.DIARY_COLUMNS + series, group, extent, when, review)
    atomically; return the number of rows."""
    d = diary or Diary(store, from_ms, to_ms, tz, config)
    cols = event_table(d, store.review_marks() if store is not None else None)
    with atomic_output(out_path, newline="") as f:
        _write_columns(f, cols)
    return len(d.events)


SUMMARY_COLUMNS = (
    "date", "day_start", "utc_offset", "time_zone", "region", "devices", "hours", "events",
    "sure", "per_hour", "generalised", "multifocal", "focal", "unclassified", "in_series", "series",
    "day", "night", "rest", "active", "asleep", "sleep_onset", "after_waking",
    "unknown_context", "negative", "triggers", "peak_g_median", "peak_g_max",
    "peak_dps_median", "duration_ms_median", "samples", "dropped_samples", "dropped_pct",
    "events_missing", "medication")


def summary_table(diary: Diary) -> list:
    """Rows of the summary CSV: per local date an 'all' row (jerks, each counted once), then
    one row per region (that region's events)."""
    D = diary.per_day()
    if D.empty:
        return []
    R = diary.per_day_region()
    J = diary.jerks
    by_day = {k: g for k, g in J.groupby("day")} if len(J) else {}
    series_by_day = {}
    for s in diary.series.itertuples():
        off = diary.zones.offsets_ms(np.array([s.start_ms]))[0]
        series_by_day.setdefault(_day_text((s.start_ms + off) // DAY_MS), 0)
        series_by_day[_day_text((s.start_ms + off) // DAY_MS)] += 1
    rows = []
    regions = {k: g for k, g in R.groupby("date")} if len(R) else {}
    zone_names = {}
    for i, day in enumerate(D["date"]):
        start = D["day_start"].iloc[i]
        if start:
            zone_names[day] = diary.zones.name_at(parse_time(start))
    for r in D.itertuples():
        day_num = np.datetime64(r.date, "D").astype(np.int64)
        g = by_day.get(day_num, J.iloc[0:0])
        ctx = {w: int((g["when"] == w).sum()) for w in WHEN}
        row = dict(date=r.date, day_start=r.day_start, utc_offset=r.utc_offset,
                   time_zone=zone_names.get(r.date, ""), region="all", hours=r.hours,
                   events=r.jerks, sure=int((g["confidence"] >= diary.config.sure_confidence)
                                            .sum()), per_hour=r.per_hour, generalised=r.generalised,
                   multifocal=r.multifocal, focal=r.focal, unclassified=r.unclassified,
                   in_series=r.in_series, series=series_by_day.get(r.date, 0),
                   day=r.day_jerks, night=r.night_jerks, rest=ctx["rest"],
                   active=ctx["active"], asleep=ctx["asleep"], sleep_onset=ctx["sleep onset"],
                   after_waking=ctx["after waking"], unknown_context=ctx["unknown"],
                   negative=r.negative, triggers=r.triggers,
                   peak_g_median=g["peak_g"].median() if len(g) else None,
                   peak_g_max=g["peak_g"].max() if len(g) else None,
                   peak_dps_median=g["peak_dps"].median() if len(g) else None,
                   duration_ms_median=g["duration_ms"].median() if len(g) else None,
                   medication=r.medication)
        reg = regions.get(r.date)
        if reg is not None:
            row["samples"] = int(reg["samples"].sum())
            row["dropped_samples"] = int(reg["dropped_samples"].sum())
            tot = row["samples"] + row["dropped_samples"]
            row["dropped_pct"] = 100.0 * row["dropped_samples"] / tot if tot else None
            row["events_missing"] = int(reg["events_missing"].sum())
        rows.append(row)
        if reg is not None:
            for x in reg.to_dict("records"):
                x = dict(x, day_start=r.day_start, utc_offset=r.utc_offset,
                         time_zone=row["time_zone"], sleep_onset=x.pop("sleep onset"),
                         after_waking=x.pop("after waking"), unknown_context=x.pop("unknown"),
                         series="", triggers="", medication="")
                rows.append(x)
    return rows


def _fmt_summary(v, col):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (float, np.floating)):
        digits = 3 if col in ("hours", "per_hour", "dropped_pct") else 4
        return format_value(round(float(v), digits))
    if isinstance(v, (np.integer,)):
        return str(int(v))
    return format_value(v)


def write_summary_csv(store, out_path: str, from_ms: int | None = None,
                      to_ms: int | None = None, tz=None,
                      config: DiaryConfig | None = None, diary: Diary | None = None) -> int:
    """Write the per-day, per-region summary CSV atomically; return the number of rows."""
    import csv
    d = diary or Diary(store, from_ms, to_ms, tz, config)
    rows = summary_table(d)
    with atomic_output(out_path, newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(SUMMARY_COLUMNS)
        for r in rows:
            w.writerow([_fmt_summary(r.get(c), c) for c in SUMMARY_COLUMNS])
    return len(rows)
