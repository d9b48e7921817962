"""Sleep and the context of each jerk: asleep runs, nights, sleep onset and waking
(docs/diary.md, 'sleep')."""
import numpy as np
import pandas as pd

from jerklog.diary import epochs
from jerklog.diary.config import _CTX_CODE, _CTX_NAME, DAY_MS, HOUR_MS, MINUTE_MS, WHEN
from jerklog.diary.coverage import _spread
from jerklog.diary.load import _day_text

# The sensor whose epochs tell sleep: the methods were made for the wrist (diary/epochs.py).
_SLEEP_SITE_ORDER = ("wrist", "upper_arm", "trunk", "ankle", "thigh")


def from_epochs(store, lo, hi, boots):
    """(asleep periods [(start, end)) ms, not-worn periods {device_id: [(start, end))}) from
    the boards' epochs in [lo, hi); ([], {}) where no board sent epochs. Sleep is read from
    one sensor: a wrist's if one was worn, else the next in _SLEEP_SITE_ORDER, else the one
    with the most epochs."""
    rows = store.epochs(lo, hi)
    if not rows:
        return [], {}
    arr = np.array(rows, dtype=np.int64)
    col = {n: i for i, n in enumerate(store.EPOCH_COLUMNS)}
    region = {}
    for b in boots.itertuples():
        if isinstance(b.region, str):
            region[int(b.device_id)] = b.region
    per_device = {}
    for device in np.unique(arr[:, col["device_id"]]).tolist():
        d = arr[arr[:, col["device_id"]] == device]
        per_device[device] = d[np.argsort(d[:, col["time_ms"]], kind="stable")]

    def rank(device):
        r = region.get(device, "")
        limb = r.split("_", 1)[1] if r.startswith(("left_", "right_")) else r
        order = _SLEEP_SITE_ORDER.index(limb) if limb in _SLEEP_SITE_ORDER else 99
        return order, -len(per_device[device]), device

    def series(d):
        return (d[:, col["time_ms"]], d[:, col["gx_mg"]], d[:, col["gy_mg"]],
                d[:, col["gz_mg"]])

    chosen = per_device[min(per_device, key=rank)]
    asleep = epochs.sleep_periods(*series(chosen))
    off = {device: epochs.non_wear(*series(d), d[:, col["max_mg"]])
           for device, d in per_device.items()}
    return asleep, {k: v for k, v in off.items() if v}


def _epoch_episodes(diary):
    """Sleep episodes from the epochs' asleep periods: periods closer than sleep_merge_ms
    are one sleep; onset and waking are located to the epoch (5 s)."""
    merged = []
    for a, b in diary.epoch_sleep:
        if merged and a - merged[-1][1] <= diary.config.sleep_merge_ms:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [dict(first_asleep_ms=a, last_asleep_ms=b, last_awake_before_ms=a,
                 first_awake_after_ms=b, onset_located=True, waking_located=True,
                 onset_ms=a, waking_ms=b) for a, b in merged]


def _sleep(diary):
    """Sleep episodes (from the epochs where boards sent them, else from the asleep context
    of the jerks), their onset and waking, and night."""
    cfg = diary.config
    G = diary._G
    ctx = G["ctx"].to_numpy()
    t = G["time_ms"].to_numpy()
    known = ctx > 0
    tk, ak = t[known], ctx[known] == _CTX_CODE["asleep"]
    episodes = _epoch_episodes(diary) if diary.epoch_sleep else []
    if not episodes and ak.any():  # no epochs (older boards): sleep from the jerks' context
        edges = np.diff(np.concatenate([[0], ak.astype(np.int8), [0]]))
        r_start, r_end = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
        runs = []
        for s_, e_ in zip(r_start.tolist(), r_end.tolist()):
            if runs and tk[s_] - tk[runs[-1][1]] <= cfg.sleep_merge_ms:
                runs[-1][1] = e_
            else:
                runs.append([s_, e_])
        for s_, e_ in runs:
            b, c = int(tk[s_]), int(tk[e_])
            a = int(tk[s_ - 1]) if s_ > 0 else None
            d = int(tk[e_ + 1]) if e_ + 1 < len(tk) else None
            onset_ok = a is not None and b - a <= cfg.transition_max_gap_ms
            wake_ok = d is not None and d - c <= cfg.transition_max_gap_ms
            episodes.append(dict(
                first_asleep_ms=b, last_asleep_ms=c, last_awake_before_ms=a,
                first_awake_after_ms=d, onset_located=onset_ok, waking_located=wake_ok,
                onset_ms=(a + b) // 2 if onset_ok else b,
                waking_ms=(c + d) // 2 if wake_ok else c))
    S = pd.DataFrame(episodes, columns=[
        "first_asleep_ms", "last_asleep_ms", "last_awake_before_ms",
        "first_awake_after_ms", "onset_located", "waking_located", "onset_ms",
        "waking_ms"])
    # 'when': the jerk's own context, or sleep onset / after waking around transitions.
    when = _CTX_NAME[ctx].copy()
    for e in S.itertuples():
        if e.waking_located:
            lo = np.searchsorted(t, e.last_asleep_ms, side="right")
            hi = np.searchsorted(t, e.first_awake_after_ms + cfg.waking_after_ms,
                                 side="right")
            when[lo:hi] = "after waking"
    for e in S.itertuples():
        if e.onset_located:
            lo = np.searchsorted(t, e.first_asleep_ms - cfg.onset_before_ms, side="left")
            hi = np.searchsorted(t, e.first_asleep_ms + cfg.onset_after_ms, side="right")
            when[lo:hi] = "sleep onset"
    G["when"] = when
    # Night: recorded sleep where a night has enough of it, else the clock's night hours.
    n = diary._n
    hour = (diary._min_local % DAY_MS) / HOUR_MS
    ns_, ne_ = cfg.night_start_hour, cfg.night_end_hour
    clock = ((hour >= ns_) | (hour < ne_)) if ns_ > ne_ else ((hour >= ns_) & (hour < ne_))
    key = np.floor_divide(diary._min_local - 12 * HOUR_MS, DAY_MS)
    diary._night_key = key
    sleep = np.zeros(n)
    sdiff = np.zeros(n + 1)
    if len(S):
        a = S["onset_ms"].to_numpy(dtype=np.int64)
        b = S["waking_ms"].to_numpy(dtype=np.int64) + 1
        _spread(sleep, sdiff, a, b, np.ones(len(a)), diary._g0, n)
    sleep = (sleep + np.cumsum(sdiff)[:n]) >= MINUTE_MS / 2
    k0 = key.min()
    sleep_minutes = np.bincount(key - k0, weights=sleep.astype(float))
    use_sleep = sleep_minutes * MINUTE_MS >= cfg.min_sleep_ms
    diary._use_sleep = use_sleep
    diary._k0 = k0
    diary.night = np.where(use_sleep[key - k0], sleep, clock)
    G["night"] = diary.night[G["minute"].to_numpy()]
    S["night_of"] = [_day_text(np.floor_divide(v - 12 * HOUR_MS + off, DAY_MS))
                     for v, off in zip(S["onset_ms"].tolist(),
                                       diary.zones.offsets_ms(S["onset_ms"].to_numpy(
                                           dtype=np.int64)).tolist())]
    in_r = (S["last_asleep_ms"] >= diary.from_ms) & (S["first_asleep_ms"] < diary.to_ms)
    diary.sleep = S[in_r].reset_index(drop=True)


def _label_events(diary):
    G, ev = diary._G, diary._all
    rng = G["in_range"].to_numpy()
    multi = G["n_events"].to_numpy() >= 2
    group_no = np.where(rng & multi, np.cumsum(rng & multi), 0)
    sraw = G["series_raw"].to_numpy()
    ok = rng & (sraw >= 0)
    series_no = np.zeros(len(G), dtype=np.int64)
    if ok.any():
        codes, _ = pd.factorize(sraw[ok])
        series_no[ok] = codes + 1
    G["group"] = group_no
    G["series"] = series_no
    gid = ev["gid"].to_numpy()
    has = gid >= 0
    for col in ("group", "series"):
        v = np.zeros(len(ev), dtype=np.int64)
        v[has] = G[col].to_numpy()[gid[has]]
        ev[col] = v
    for col in ("extent", "when"):
        v = np.full(len(ev), "", dtype=object)
        v[has] = G[col].to_numpy()[gid[has]]
        ev[col] = v
    night = np.zeros(len(ev), dtype=bool)
    night[has] = G["night"].to_numpy()[gid[has]]
    ev["night"] = night
    tm = ev["time_ms"].to_numpy()
    ev_in = (tm >= diary.from_ms) & (tm < diary.to_ms)
    diary.events = ev[ev_in].reset_index(drop=True)
    diary.jerks = G[rng].reset_index(drop=True)
    seen = set(diary.events["site"])
    inside = diary._min_w > 0
    # Regions that recorded or saw something in the range (the store may know more).
    diary.active_sites = [s_ for i, s_ in enumerate(diary.sites)
                         if s_ in seen or (diary.cov[i] * inside).sum() > 0]
    diary.series = diary._series_table()
    ev_local = diary.zones.local_ms(diary.events["time_ms"].to_numpy())
    diary.events["day"] = np.floor_divide(ev_local, DAY_MS)
    diary.events["hour"] = (ev_local % DAY_MS) // HOUR_MS
    jl = diary.zones.local_ms(diary.jerks["time_ms"].to_numpy())
    diary.jerks["day"] = np.floor_divide(jl, DAY_MS)
    diary.jerks["hour"] = (jl % DAY_MS) // HOUR_MS


def contexts(diary):
    J = diary.jerks
    out = {w: int((J["when"] == w).sum()) for w in WHEN}
    S = diary.sleep
    out["sleeps"] = len(S)
    out["onsets_located"] = int(S["onset_located"].sum()) if len(S) else 0
    out["wakings_located"] = int(S["waking_located"].sum()) if len(S) else 0
    return out
