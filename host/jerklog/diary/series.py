"""Series and rhythm: runs of jerks closer than series_gap_ms, their rate and how regular
they are (docs/diary.md, 'series')."""
import numpy as np
import pandas as pd


def _series_table(diary):
    cfg = diary.config
    J = diary._G[diary._G["series"] > 0]
    cols = ["series", "start_ms", "end_ms", "jerks", "duration_s", "rate_hz",
            "median_interval_ms", "cv", "rhythm", "extent"]
    if J.empty:
        return pd.DataFrame(columns=cols)
    grp = J.groupby("series", sort=True)
    start = grp["time_ms"].min()
    end = grp["time_ms"].max()
    n = grp.size()
    # Intervals inside a series: each member's gap to the previous jerk, but the first's.
    inner = J[J["series_raw"].eq(J["series_raw"].shift())]
    ig = inner.groupby("series")["iti_ms"]
    mean = ig.mean().reindex(n.index)
    std = ig.std(ddof=0).reindex(n.index)
    med = ig.median().reindex(n.index)
    cv = std / mean
    n_int = (n - 1)
    cv = cv.where(n_int >= 2)
    rhythm = np.where(n_int < cfg.rhythm_min_intervals, "too short",
                      np.where(cv <= cfg.rhythmic_cv, "rhythmic",
                               np.where(cv >= cfg.irregular_cv, "irregular",
                                        "semi-regular")))
    dur = (end - start) / 1000.0
    extent = J.groupby(["series", "extent"]).size().unstack(fill_value=0).idxmax(axis=1)
    extent = extent.reindex(n.index)
    return pd.DataFrame({"series": n.index, "start_ms": start.to_numpy(),
                         "end_ms": end.to_numpy(), "jerks": n.to_numpy(),
                         "duration_s": dur.to_numpy(),
                         "rate_hz": np.where(dur > 0, n_int / dur.replace(0, np.nan), np.nan),
                         "median_interval_ms": med.to_numpy(), "cv": cv.to_numpy(),
                         "rhythm": rhythm, "extent": extent.to_numpy()})


def intervals(diary):
    """Intervals between consecutive jerks inside the range, ms."""
    t = diary.jerks["time_ms"].to_numpy()
    return np.diff(t)


def rhythm(diary):
    cfg = diary.config
    S = diary.series
    J = diary.jerks
    iti = diary.intervals()
    judged = S[S["rhythm"] != "too short"] if len(S) else S
    out = dict(series=len(S),
               jerks_in_series=int((J["series"] > 0).sum()) if len(J) else 0,
               length_median=float(S["jerks"].median()) if len(S) else None,
               length_min=int(S["jerks"].min()) if len(S) else None,
               length_max=int(S["jerks"].max()) if len(S) else None,
               duration_median_s=float(S["duration_s"].median()) if len(S) else None,
               duration_min_s=float(S["duration_s"].min()) if len(S) else None,
               duration_max_s=float(S["duration_s"].max()) if len(S) else None,
               rate_median_hz=float(S["rate_hz"].median()) if len(S) else None,
               cv_median=float(judged["cv"].median()) if len(judged) else None,
               judged=len(judged),
               interval_median_s=float(np.median(iti)) / 1000 if len(iti) else None,
               interval_cv=float(iti.std() / iti.mean()) if len(iti) > 1 and
               iti.mean() > 0 else None,
               gap_s=cfg.series_gap_ms / 1000, min_jerks=cfg.series_min_jerks)
    for r in ("rhythmic", "semi-regular", "irregular", "too short"):
        out[r.replace("-", "_").replace(" ", "_")] = int((S["rhythm"] == r).sum()) \
            if len(S) else 0
    out["pct_in_series"] = 100.0 * out["jerks_in_series"] / len(J) if len(J) else None
    if out["judged"]:
        cvm = out["cv_median"]
        out["verdict"] = ("rhythmic" if cvm <= cfg.rhythmic_cv else "irregular"
                          if cvm >= cfg.irregular_cv else "semi-regular")
    else:
        out["verdict"] = "no series long enough to judge"
    return out
