"""The report's evidence page: what the jerks looked like. For each body region three of its
jerks as the sensor recorded them (the largest, a typical one with the peak nearest the
region's median, the most doubtful with the lowest confidence), from the waveforms the boards
stored; where other sensors had an event within TOGETHER_MS, their traces share the time axis.

    picks = gather(store, diary)       # None when no waveform is stored for the period
    blocks(diary, picks)               # report_layout blocks: text and one figure per region

Traces are the dynamic acceleration |a - gravity| in g (gravity: the median before the peak),
time in ms from the peak of the jerk shown; scale bars instead of axes.
"""
import numpy as np
import pandas as pd

from jerklog.evidence import Wave
from jerklog.exports import report_layout as lay
from jerklog.exports.report_figures import region_colours
from jerklog.localtime import format_iso

TOGETHER_MS = 100     # events of other sensors this close to a jerk are drawn with it
ROLES = (("largest", "the largest"), ("typical", "typical (peak nearest the median)"),
         ("doubtful", "the most doubtful (lowest confidence)"))
BASELINE_END = 5      # gravity: the median of the samples up to this many before the peak
TRACE_H = 0.42        # inches per trace
FIG_TOP, FIG_BOTTOM = 0.42, 0.12


def _with_evidence(store, diary):
    """The diary's jerks in range that have a stored waveform: a frame with the event's
    device_id, boot_id, seq, time_ms, site, peak_g, confidence and the candidate's cand."""
    listing = store.evidence(diary.from_ms, diary.to_ms, wave=False)
    if not listing:
        return None
    X = pd.DataFrame(listing, columns=["device_id", "boot_id", "cand", "seq", "t_ms",
                                       "verdict", "host_kept"])
    ev = diary.events
    E = ev[ev["is_jerk"]][["device_id", "boot_id", "seq", "t_ms", "time_ms", "site", "peak_g",
                           "confidence"]]
    if E.empty:
        return E.assign(cand=np.zeros(0, np.int64))
    # A board's event pairs with its kept candidate at the same peak time; a candidate the
    # host added is its own event (its seq), as Store.evidence_for_event pairs them.
    kept = X[X["verdict"] == "kept"][["device_id", "boot_id", "t_ms", "cand"]]
    kept = kept.drop_duplicates(["device_id", "boot_id", "t_ms"])
    added = X[(X["verdict"] != "kept") & (X["host_kept"] == 1)][["device_id", "boot_id",
                                                                  "seq", "cand"]]
    a = E.merge(kept, on=["device_id", "boot_id", "t_ms"], how="left")
    b = E.merge(added.rename(columns={"cand": "cand2"}), on=["device_id", "boot_id", "seq"],
                how="left")
    a["cand"] = a["cand"].fillna(b["cand2"])
    a = a[a["cand"].notna()].copy()
    a["cand"] = a["cand"].astype(np.int64)
    return a.reset_index(drop=True)


def _trace(store, r, t_ref):
    """One event's trace: (site, t ms from t_ref, |dynamic acceleration| g), or None."""
    row = store.evidence_wave(int(r.device_id), int(r.boot_id), int(r.cand))
    if row is None:
        return None
    try:
        w = Wave(row)
    except (ValueError, TypeError, KeyError):
        return None
    dyn = w.acc_g - np.median(w.acc_g[:max(1, w.pre - BASELINE_END)], axis=0)
    return r.site, w.t_ms + (int(r.time_ms) - t_ref), np.linalg.norm(dyn, axis=1)


def gather(store, diary) -> dict | None:
    """{site: [(role, event row, [traces])]} for every region with a stored waveform, or
    None when the period has none. The event's own trace comes first."""
    E = _with_evidence(store, diary)
    if E is None:
        return None
    out = {}
    t_all = E["time_ms"].to_numpy()
    for site in [s for s in diary.active_sites if s in set(E["site"])]:
        sub = E[E["site"] == site]
        chosen = []
        g = sub["peak_g"].to_numpy()
        med = float(np.median(g))
        orders = (np.argsort(-g, kind="stable"), np.argsort(np.abs(g - med), kind="stable"),
                  np.argsort(sub["confidence"].to_numpy(), kind="stable"))
        for (role, _), order in zip(ROLES, orders):
            pick = next((i for i in order if i not in chosen), None)
            if pick is None:
                break
            chosen.append(pick)
            r = sub.iloc[pick]
            t = int(r.time_ms)
            traces = [_trace(store, r, t)]
            near = E.iloc[np.flatnonzero(np.abs(t_all - t) <= TOGETHER_MS)]
            near = near[near["device_id"] != r.device_id]
            near = near.assign(d=(near["time_ms"] - t).abs()).sort_values("d")
            for _, o in near.drop_duplicates("device_id").iterrows():
                traces.append(_trace(store, o, t))
            out.setdefault(site, []).append((role, r, [x for x in traces if x]))
    return out


def _nice(x):
    """A round scale-bar length at most x: 1, 2 or 5 times a power of ten."""
    p = 10 ** np.floor(np.log10(x))
    for m in (5, 2, 1):
        if m * p <= x:
            return m * p
    return p


def _draw_region(box, diary, picks):
    colour = region_colours(diary)
    n = len(picks)
    axes = box.row(3, left=0.05, right=0.05, bottom=FIG_BOTTOM, top=FIG_TOP, gap=0.25)
    for ax in axes[n:]:
        ax.set_axis_off()
    for ax, (role, r, traces) in zip(axes, picks):
        ax.set_axis_off()
        top = max(float(t[2].max()) for t in traces)
        top = max(top, 0.01)
        lo = min(float(t[1][0]) for t in traces)
        hi = max(float(t[1][-1]) for t in traces)
        span = hi - lo
        left = lo - (0.32 * span if len(traces) > 1 else 0)   # room for the sensors' names
        for k, (site, t, a) in enumerate(traces):
            y0 = -k * 1.15
            ax.plot(t, y0 + a / top, color=colour.get(site, "#000000"), lw=0.8)
            if len(traces) > 1:
                ax.text(lo - 0.03 * span, y0 + 0.1, site, fontsize=lay.MIN_PT, ha="right",
                        va="bottom", color=colour.get(site, "#000000"))
        ax.axvline(0, color="#666666", lw=0.5, ls=(0, (2, 2)))
        bar = _nice(top * 0.8)   # vertical scale bar in g, horizontal 100 ms
        x = hi + 0.03 * span
        ax.plot([x, x], [0, bar / top], color="#000000", lw=1.2, clip_on=False)
        ax.text(x + 0.02 * span, bar / top / 2, "%g g" % float("%.2g" % bar),
                fontsize=lay.MIN_PT, va="center", clip_on=False)
        yb = -(len(traces) - 1) * 1.15 - 0.12
        ax.plot([hi - 100, hi], [yb, yb], color="#000000", lw=1.2, clip_on=False)
        ax.text(hi - 50, yb - 0.06, "100 ms", fontsize=lay.MIN_PT, ha="center", va="top",
                clip_on=False)
        ax.set_xlim(left, hi + 0.18 * span)
        ax.set_ylim(yb - 0.3, 1.05)
        iso = format_iso(int(r.time_ms), diary.zones)
        title = "%s: %.2f g, confidence %.2f\n%s %s %s" % (
            role, float(r.peak_g), float(r.confidence), iso[:10], iso[11:19], iso[23:])
        if len(traces) > 1:
            title += ", %d sensors" % len(traces)
        ax.set_title(title, fontsize=lay.MIN_PT, loc="left")


def blocks(diary, picks) -> list:
    """The evidence page's blocks; one sentence when no waveform is stored."""
    if not picks:
        return [lay.Para("No waveforms are stored for this period (the boards sent no "
                         "evidence), so no jerk can be shown as it was recorded.")]
    out = [lay.Para(
        "For each body region, three of its jerks as the sensor recorded them: %s. Each "
        "trace is the dynamic acceleration |a| (gravity removed) in g; time 0 (dashed) is "
        "the peak of the jerk named; events that other sensors recorded within %d ms are "
        "drawn on the same time axis, one trace each, at the same scale. Scale bars: g and "
        "100 ms." % ("; ".join(t for _, t in ROLES), TOGETHER_MS), size=7.5)]
    for site, picks_ in picks.items():
        ntr = max(len(p[2]) for p in picks_)
        out.append(lay.Heading("%s" % site))
        out.append(lay.Figure("evidence-%s" % site, "What the jerks looked like: %s" % site,
                              FIG_TOP + FIG_BOTTOM + 0.35 + TRACE_H * ntr,
                              lambda b, p=picks_: _draw_region(b, diary, p)))
    return out
