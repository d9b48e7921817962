"""Benchmark: a year of events from four sensors (about 300,000 events) -> diary CSV, summary
CSV, EDF+ annotations, PDF and HTML report. Prints the timings; asserts nothing.

    python bench/bench_diary.py                 # builds a store in a temporary directory
    python bench/bench_diary.py --db year.sqlite3 --keep   # build once, reuse on later runs

The synthetic wearer: four sensors (left wrist, right wrist, left ankle, trunk), worn about
22 h a day (each board is charged for ~2 h in the evening, which ends its boot: a gap and a
new boot every day), sleeps ~23:00-07:00 with hypnic jerks at sleep onset, more jerks by day
(action myoclonus), a fifth of the jerks in rhythmic or random series, about a third
generalised (seen by 3-4 sensors within 20 ms), the rest focal, mostly in the left wrist.
One heartbeat a minute per boot as the recorder keeps them, a few dropped samples, trigger
button presses and three medication notes, with the rate halving after the second.
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

from jerklog.diary import Diary
from jerklog.exports import diary_csv, edf, report
from jerklog.store import Store, notes

DAY = 86_400_000
HOUR = 3_600_000
MIN = 60_000
REGIONS = ("left wrist", "right wrist", "left ankle", "trunk")
FOCAL_P = (0.55, 0.15, 0.2, 0.1)
TZ = "Europe/Berlin"
START = 1767222000000  # 2026-01-01T00:00+01:00


def build(path, days=365, seed=1, target_events=300_000):
    rng = np.random.default_rng(seed)
    store = Store(path)
    t_start = time.perf_counter()
    # Per day: sleep 23:00 +- 40 min to 07:00 +- 40 min; charging 19:00-21:00 (+- 30 min).
    sleep_on = START + np.arange(days) * DAY + 23 * HOUR + rng.normal(0, 40 * MIN, days)
    sleep_off = sleep_on + 8 * HOUR + rng.normal(0, 30 * MIN, days)
    charge_on = START + np.arange(days) * DAY + 19 * HOUR + rng.normal(0, 30 * MIN, days)
    charge_off = charge_on + 2 * HOUR
    # Jerk times (the wearer's, before the sensors see them): an inhomogeneous Poisson process.
    med_change = START + int(days * 0.5) * DAY + 9 * HOUR
    minutes = START + np.arange(days * 1440) * MIN
    day_i = (minutes - START) // DAY
    asleep = (minutes >= sleep_on[day_i] - DAY) & (minutes < sleep_off[day_i] - DAY) | \
             (minutes >= sleep_on[day_i]) & (minutes < sleep_off[day_i])
    rate = np.where(asleep, 4.0, 14.0) / 60.0          # jerks per minute
    onset = np.abs(minutes - sleep_on[day_i]) < 20 * MIN
    rate = np.where(onset, 1.0, rate)                   # hypnic jerks at sleep onset
    rate = rate * (1 + 0.3 * (minutes - START) / (days * DAY))   # slowly rising
    rate = np.where(minutes >= med_change, rate * 0.5, rate)
    scale = 1.7
    counts = rng.poisson(rate * scale)
    jt = np.repeat(minutes, counts) + rng.integers(0, MIN, counts.sum())
    # Series: a fifth of the jerks start a series of 3-10 more, rhythmic (1-3 Hz) or random.
    starts = jt[rng.random(len(jt)) < 0.05]
    extra = []
    for s in starts.tolist():
        n = int(rng.integers(3, 11))
        if rng.random() < 0.6:
            period = rng.uniform(330, 1000)
            gaps = period * (1 + rng.normal(0, 0.08, n))
        else:
            gaps = rng.uniform(150, 1900, n)
        extra.append(s + np.cumsum(gaps).astype(np.int64))
    jt = np.sort(np.concatenate([jt] + extra))
    jt = jt[np.concatenate([[True], np.diff(jt) > 120])]   # the detector's refractory time
    n_j = len(jt)
    # Where: generalised (3-4 sensors) or focal.
    gen = rng.random(n_j) < 0.33
    focal_site = rng.choice(4, n_j, p=FOCAL_P)
    rows = []
    for i, t in enumerate(jt.tolist()):
        if gen[i]:
            k = 4 if rng.random() < 0.5 else 3
            sites = rng.choice(4, k, replace=False)
            for s in sites.tolist():
                rows.append((t + int(rng.integers(0, 20)), s))
        else:
            rows.append((t, int(focal_site[i])))
    rows.sort()
    ev_t = np.array([r[0] for r in rows], dtype=np.int64)
    ev_s = np.array([r[1] for r in rows], dtype=np.int64)
    # Charging: a board off between charge_on and charge_off loses its events; boots per day.
    d_of = (ev_t - START) // DAY
    off = (ev_t >= charge_on[np.clip(d_of, 0, days - 1)]) & \
          (ev_t < charge_off[np.clip(d_of, 0, days - 1)])
    ev_t, ev_s = ev_t[~off], ev_s[~off]
    # Thin or pad uniformly to the target count.
    if len(ev_t) > target_events:
        keep = np.sort(rng.choice(len(ev_t), target_events, replace=False))
        ev_t, ev_s = ev_t[keep], ev_s[keep]
    # Boot k of device s runs from charge_off[k-1] (or START) to charge_on[k].
    boot_start = np.concatenate([[START], charge_off[:-1]]).astype(np.int64)
    boot_end = charge_on.astype(np.int64)
    boot_of = np.searchsorted(boot_start, ev_t, side="right") - 1
    on = (boot_of >= 0) & (ev_t < boot_end[np.clip(boot_of, 0, days - 1)])
    ev_t, ev_s, boot_of = ev_t[on], ev_s[on], boot_of[on]
    d_of = (ev_t - START) // DAY
    ctx_asleep = np.zeros(len(ev_t), dtype=bool)
    di = np.clip(d_of, 0, days - 1)
    ctx_asleep = ((ev_t >= sleep_on[di] + 10 * MIN) & (ev_t < sleep_off[di])) | \
                 ((di > 0) & (ev_t < sleep_off[np.maximum(di - 1, 0)]))
    active = rng.random(len(ev_t)) < 0.45
    context = np.where(ctx_asleep, "asleep", np.where(active, "active", "rest"))
    peak_g = np.round(rng.lognormal(-0.5, 0.5, len(ev_t)), 3)
    peak_dps = np.round(rng.lognormal(4.5, 0.5, len(ev_t)), 1)
    dur = rng.integers(20, 300, len(ev_t))
    with store.transaction():
        for s in range(4):
            for k in range(days):
                dev, boot = s + 1, 1000 + k
                up = int(boot_end[k] - boot_start[k])
                rate_hz = 200
                store.upsert_boot(dev, boot, int(boot_start[k]), epoch_ms=int(boot_start[k]),
                                  clock="device", firmware="bench", board="sim",
                                  sensor="lsm6", region=REGIONS[s], rate_hz=rate_hz,
                                  has_gyro=1, uptime_ms=up, samples=up * rate_hz // 1000,
                                  dropped=0)
        seq = {}
        batch = []
        for i in range(len(ev_t)):
            dev, boot = int(ev_s[i]) + 1, 1000 + int(boot_of[i])
            q = seq.get((dev, boot), 0) + 1
            seq[(dev, boot)] = q
            t = int(ev_t[i])
            batch.append((dev, boot, q * 2, t - int(boot_start[boot_of[i]]), t,
                          int(dur[i]), float(peak_g[i]), float(peak_dps[i]), "jerk",
                          "+x", str(context[i]), "upright", 0.9, 0.02))
        # Trigger button presses, a few a week.
        for t in (START + np.sort(rng.integers(0, days * DAY, days // 2))).tolist():
            k = int(np.searchsorted(boot_start, t, side="right") - 1)
            if t >= boot_end[k]:
                continue
            dev, boot = 1, 1000 + k
            q = seq.get((dev, boot), 0) + 1
            seq[(dev, boot)] = q
            batch.append((dev, boot, q * 2 + 1, t - int(boot_start[k]), t, 100, 0.3, 20.0,
                          "trigger", "+z", "active", "upright", 1.0, 0.05))
        store.add_event_rows(batch)
        # One heartbeat a minute per boot; its events counter matches the stored events.
        t_by_boot = {}
        for r in batch:
            t_by_boot.setdefault((r[0], r[1]), []).append(r[3])
        for s in range(4):
            for k in range(days):
                dev, boot = s + 1, 1000 + k
                up = int(boot_end[k] - boot_start[k])
                hb_up = np.arange(MIN, up, MIN, dtype=np.int64)
                samples = hb_up * 200 // 1000
                dropped = np.cumsum(rng.random(len(hb_up)) < 0.002) * 40
                samples = samples - dropped
                ts = np.sort(np.array(t_by_boot.get((dev, boot), []), dtype=np.int64))
                evs = np.searchsorted(ts, hb_up, side="right")
                store.add_heartbeat_rows(zip([dev] * len(hb_up), [boot] * len(hb_up),
                        (np.arange(len(hb_up)) * 60 + 1).tolist(),
                        (boot_start[k] + hb_up + 40).tolist(), hb_up.tolist(),
                        samples.tolist(), dropped.tolist(), evs.tolist()))
                store.upsert_boot(dev, boot, int(boot_start[k]), events=len(ts))
    store.commit()
    for i, (frac, dose) in enumerate(((0.25, "250 mg twice daily"),
                                      (0.5, "500 mg twice daily"),
                                      (0.8, "750 mg twice daily"))):
        notes.add_note(store, START + int(days * frac) * DAY + 9 * HOUR, "medication",
                       name="levetiracetam", dose=dose)
    notes.add_note(store, START + 40 * DAY + 20 * HOUR, "trigger", text="flashing lights")
    notes.add_note(store, START + 41 * DAY + 22 * HOUR, "note", text="two glasses of wine")
    store.commit()
    print("built %s: %d events, %d heartbeats, %d boots in %.1f s" % (
        path, store.count_events(),
        store.count_heartbeats(),
        len(store.boots()), time.perf_counter() - t_start))
    return store


def timed(label, fn):
    """Run fn; print wall time, this process's CPU time (less sensitive to other load on the
    machine) and a short result."""
    t, c = time.perf_counter(), time.process_time()
    result = fn()
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    if isinstance(result, dict):
        result = {k: v for k, v in result.items() if k not in ("header", "rows")}
    print("%-52s %6.2f s wall %6.2f s cpu   %s" % (label, wall, cpu, str(result)[:90]))
    return wall


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--db", help="store to build (or reuse if it exists)")
    p.add_argument("--keep", action="store_true", help="keep the outputs directory")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--events", type=int, default=300_000)
    args = p.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="jerklog-bench-")
    path = args.db or os.path.join(tmp, "year.sqlite3")
    if os.path.exists(path):
        store = Store(path)
        print("reusing %s: %d events" % (path, store.count_events()))
    else:
        store = build(path, args.days, target_events=args.events)
    out = lambda name: os.path.join(tmp, name)  # noqa: E731
    print("outputs in %s; load average %s" % (tmp, " ".join("%.2f" % x for x in
                                                            os.getloadavg())))
    timed("diary.write_events_csv (diary CSV + series, group)",
          lambda: diary_csv.write_events_csv(store, out("diary.csv"), tz=TZ))
    timed("diary.Diary (all figures) + summary()",
          lambda: len(Diary(store, tz=TZ).summary()))
    timed("diary.write_summary_csv (per day and region)",
          lambda: diary_csv.write_summary_csv(store, out("summary.csv"), tz=TZ))
    timed("edf.write_edf (EDF+ annotations)",
          lambda: edf.write_edf(store, out("jerks.edf"), tz=TZ))
    timed("report.write_report PDF",
          lambda: report.write_report(store, out("report.pdf"), None, None, tz=TZ))
    timed("report.write_report HTML",
          lambda: report.write_report(store, out("report.html"), None, None, tz=TZ))
    for name in sorted(os.listdir(tmp)):
        print("  %-16s %10d bytes" % (name, os.path.getsize(os.path.join(tmp, name))))
    if not args.keep and not args.db:
        import shutil
        shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
