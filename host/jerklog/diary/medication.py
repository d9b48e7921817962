"""Medication and triggers: jerk rates before and after each medication change, and
jerks near the wearer's trigger marks."""
import numpy as np
import pandas as pd

from jerklog.diary.config import DAY_MS, HOUR_MS, MINUTE_MS


def medication_notes(diary):
    N = diary.notes[diary.notes["kind"] == "medication"].copy()
    t = N["time_ms"].to_numpy(dtype=np.int64)
    N["day"] = np.floor_divide(diary.zones.local_ms(t), DAY_MS)
    N["label"] = [" ".join(str(x) for x in (n, d) if isinstance(x, str) and x)
                  for n, d in zip(N["name"], N["dose"])]
    return N


def medication(diary):
    """Jerk rate in the window before and after each medication note."""
    cfg = diary.config
    W = cfg.medication_window_ms
    G = diary._G
    t_all = G["time_ms"].to_numpy()
    rows = []
    cum = np.concatenate([[0.0], np.cumsum(diary.cov_any)])

    def hours(a, b):
        ma = int(np.clip((a - diary._g0) // MINUTE_MS, 0, diary._n))
        mb = int(np.clip((b - diary._g0) // MINUTE_MS, 0, diary._n))
        return (cum[mb] - cum[ma]) / 60.0

    for r in diary.medication_notes().itertuples():
        t = int(r.time_ms)
        nb = int(np.searchsorted(t_all, t) - np.searchsorted(t_all, t - W))
        na = int(np.searchsorted(t_all, t + W) - np.searchsorted(t_all, t))
        hb, ha = hours(t - W, t), hours(t, t + W)
        rb = nb / hb if hb > 0 else None
        ra = na / ha if ha > 0 else None
        change = (100.0 * (ra - rb) / rb) if rb and ra is not None else None
        rows.append(dict(id=int(r.id), time_ms=t, name=r.name, dose=r.dose, label=r.label,
                         before_jerks=nb, before_hours=hb, before_per_hour=rb,
                         after_jerks=na, after_hours=ha, after_per_hour=ra,
                         change_pct=change,
                         few_data=(hb < cfg.medication_min_hours or
                                   ha < cfg.medication_min_hours)))
    return pd.DataFrame(rows, columns=[
        "id", "time_ms", "name", "dose", "label", "before_jerks", "before_hours",
        "before_per_hour", "after_jerks", "after_hours", "after_per_hour", "change_pct",
        "few_data"])


def trigger_marks(diary):
    """Trigger marks: the boards' trigger button and trigger notes, by time."""
    ev = diary.events[diary.events["kind"] == "trigger"]
    marks = [dict(time_ms=int(t), source="button", site=s, text="")
             for t, s in zip(ev["time_ms"], ev["site"])]
    N = diary.notes[diary.notes["kind"] == "trigger"]
    for t, name, text in zip(N["time_ms"], N["name"], N["text"]):
        words = [x for x in (name, text) if isinstance(x, str) and x]
        marks.append(dict(time_ms=int(t), source="note", site="", text=": ".join(words)))
    return pd.DataFrame(sorted(marks, key=lambda m: m["time_ms"]),
                        columns=["time_ms", "source", "site", "text"])


def triggers(diary):
    cfg = diary.config
    M = diary.trigger_marks()
    J = diary.jerks
    W = cfg.trigger_window_ms
    out = dict(marks=len(M), button=int((M["source"] == "button").sum()),
               notes=int((M["source"] == "note").sum()), window_s=W / 1000,
               jerks_near=0, expected_near=None)
    if len(M) and len(J):
        mt = np.sort(M["time_ms"].to_numpy(dtype=np.int64))
        t = J["time_ms"].to_numpy()
        i = np.searchsorted(mt, t)
        d_after = np.abs(t - mt[np.clip(i - 1, 0, len(mt) - 1)])
        d_before = np.abs(mt[np.clip(i, 0, len(mt) - 1)] - t)
        out["jerks_near"] = int((np.minimum(d_after, d_before) <= W).sum())
        hours = diary.recorded_hours()
        if hours > 0:
            out["expected_near"] = len(J) / (hours * HOUR_MS) * 2 * W * len(M)
    return out
