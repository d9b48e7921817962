"""Jerks added to real recordings (shared/data/real): real backgrounds, known jerks.

Each second of a recording gets an activity level (the largest dynamic acceleration in it,
gravity taken as a half-second moving mean). Episodes go alternately into the quietest
seconds (the lowest QUIET_PCT %) and into ordinary activity (between that and the
BUSIEST_PCT-th percentile: not into the few knocks and falls at the very top), at least
MIN_APART_S apart. A jerk is rendered as in a generated session (jerks.py, the family's
filter at the recording's rate, none of its noise: the recording has its own), with
gravity's direction taken from the half second before it; only the samples within each
jerk's support change.
"""
import numpy as np

from jerklog import regions
from jerklog.recordings.recording import Recording
from jerklog.sim.independent import FAMILIES, _rng, episode, render_jerk, sensor_model

QUIET_PCT = 25
BUSIEST_PCT = 95
MIN_APART_S = 6.0
EDGE_S = 3.0
KINDS = {"single": 0.3, "series": 0.25, "rhythmic": 0.15, "negative": 0.15, "startle": 0.15}


def region_of(location: str) -> str:
    """The generator's region for a recording's location ('right_wrist', 'thigh', ...)."""
    part = regions.limb(location or "unknown")
    if part in ("ankle", "thigh", "leg", "knee", "foot"):
        return "ankle"
    if part in ("trunk", "chest", "hip", "waist", "back"):
        return "trunk"
    return "wrist"


def activity_per_second(t, acc):
    """(second starts s, largest |acc - half-second mean| g in each whole second)."""
    rate = max(1, int(round(1.0 / np.median(np.diff(t)))))
    k = max(1, rate // 2)
    kernel = np.ones(k) / k
    mean = np.column_stack([np.convolve(acc[:, i], kernel, "same") for i in range(3)])
    d = np.linalg.norm(acc - mean, axis=1)
    edges = np.arange(t[0], t[-1] - 1.0, 1.0)
    idx = np.searchsorted(t, edges)
    ends = np.searchsorted(t, edges + 1.0)
    return edges, np.array([d[a:b].max() if b > a else 0.0 for a, b in zip(idx, ends)])


def add_jerks(rec: Recording, family: str, seed: int, every_s: float = 9.0):
    """(a copy of rec with jerks added, [TrueJerk] with context 'quiet' or 'activity')."""
    fam = FAMILIES[family]
    rng = _rng("augment", family, rec.name, seed)
    region = region_of(rec.location)
    sensor = sensor_model(family, int(round(rec.rate_hz)), rng, noise=False)
    starts, act = activity_per_second(rec.t, rec.acc)
    inner = (starts >= rec.t[0] + EDGE_S) & (starts <= rec.t[-1] - EDGE_S - 4.0)
    quiet_bar, busy_bar = np.percentile(act, [QUIET_PCT, BUSIEST_PCT])
    pools = {"quiet": list(starts[inner & (act <= quiet_bar)]),
             "activity": list(starts[inner & (act > quiet_bar) & (act <= busy_bar)])}
    acc = rec.acc.copy()
    gyro = None if rec.gyro is None else rec.gyro.copy()
    wanted = int(rec.duration_s / every_s)
    taken, truth, number = [], [], 0
    kinds = list(KINDS)
    p = np.array([KINDS[k] for k in kinds])
    for k in range(4 * wanted):
        if number >= wanted:
            break
        where = ("quiet", "activity")[k % 2]
        pool = pools[where]
        if not pool:
            continue
        t0 = float(pool.pop(int(rng.integers(0, len(pool))))) + rng.uniform(0.2, 0.8)
        kind = kinds[int(rng.choice(len(kinds), p=p))]
        members = episode(fam, rng, kind, t0, region, number)
        end = members[-1].t + 1.6
        if end > rec.t[-1] - 1.0 or any(a - MIN_APART_S < end and t0 < b + MIN_APART_S
                                         for a, b in taken):
            continue
        taken.append((t0, end))
        number += 1
        for mem in members:
            lo, hi = np.searchsorted(rec.t, [mem.t - 0.5, mem.t])
            up = rec.acc[lo:hi].mean(axis=0)
            up = up / max(np.linalg.norm(up), 1e-6)
            truth.append(render_jerk(fam, rng, mem, up, rec.t, acc, gyro, sensor, where))
    out = Recording(rec.name + "+jerks", rec.t, acc, gyro, rec.rate_hz, rec.source,
                    rec.location, rec.bad_blocks, rec.start_epoch,
                    dict(rec.info, jerks_added=len(truth), family=family, seed=seed))
    return out, sorted(truth, key=lambda j: j.t)
