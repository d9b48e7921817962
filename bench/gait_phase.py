"""Study, not a detector: can a gait-cycle model find the jerks of the generated walking?

For every jerk during walking in the bench's walking scenarios (both seed sets), and for
background moments of walking at least 3 s from any jerk, it compares the largest dynamic
acceleration within +-40 ms (the jerk, or nothing) with
  * the largest one in the 3 s before (what the detector's "while moving" rule compares with);
  * the largest one at the same gait phase one, two and three step periods earlier (+-60 ms),
    the period found by autocorrelation of the 3.8 s before (0.35-1.3 s).
It prints, per sensor site and ratio, the share of jerks at or above the ratio and how often
walking alone reaches it (per hour). Asserts nothing.

    .venv/bin/python bench/gait_phase.py          # ~35 s
"""
import numpy as np

from jerklog.bench import detect as bench
from jerklog.sim.generate import generate

BIN_S = 0.02          # the dynamic acceleration is reduced to 20 ms bin maxima
RATIOS = (1.5, 2.0, 3.0)
BACKGROUND_EVERY = 5  # bins between background moments


def dynamic_bins(raw):
    """Largest |a - 0.5 s moving mean| (mg) per BIN_S bin."""
    rate = raw.rate_hz
    acc = raw.acc_mg.astype(float)
    k = max(1, rate // 2)
    kernel = np.ones(k) / k
    mean = np.column_stack([np.convolve(acc[:, i], kernel, "same") for i in range(3)])
    d = np.sqrt(((acc - mean) ** 2).sum(axis=1))
    n = max(1, int(round(rate * BIN_S)))
    m = len(d) // n
    return d[:m * n].reshape(m, n).max(axis=1)


def step_lag(b, i):
    """Autocorrelation peak of the bins before i, as a lag in bins (0.35-1.3 s)."""
    x = b[i - int(3.8 / BIN_S):i - int(0.2 / BIN_S)]
    x = x - x.mean()
    best, lag = -2.0, 0
    for L in range(int(0.35 / BIN_S), int(1.3 / BIN_S)):
        a, c = x[L:], x[:-L]
        r = (a * c).sum() / np.sqrt((a * a).sum() * (c * c).sum() + 1e-9)
        if r > best:
            best, lag = r, L
    return lag


def ratios(b, i):
    """(peak / largest in the 3 s before, peak / largest at the same phase 1-3 steps before)."""
    if i < int(4.0 / BIN_S) or i + 3 > len(b):
        return None
    peak = b[i - 2:i + 3].max()
    before = b[i - int(3.0 / BIN_S):i - int(0.3 / BIN_S)].max()
    lag = step_lag(b, i)
    phase = max(b[i - k * lag - 3:i - k * lag + 4].max() for k in (1, 2, 3))
    return peak / max(before, 1.0), peak / max(phase, 1.0)


def main():
    jerks, background = {}, {}
    for name, minutes, rate, region, sensor in bench.SUITE:
        if name != "walking":
            continue
        for seed in bench.SEED_SETS["tuning"] + bench.SEED_SETS["held-out"]:
            scn, raw = generate(name, minutes, rate, seed, region, sensor)
            b = dynamic_bins(raw)
            tb = np.arange(len(b)) * BIN_S
            walking = np.zeros(len(b), bool)
            for seg in scn.segments:
                if seg.category == "walking":
                    walking[(tb >= seg.start + 3) & (tb < seg.end)] = True
            near = np.zeros(len(b), bool)
            for e in scn.truth:
                near[(tb > e.t - 3) & (tb < e.t + 3)] = True
                if e.category == "walking":
                    r = ratios(b, int(round(e.t / BIN_S)))
                    if r:
                        jerks.setdefault(region, []).append(r)
            for i in range(0, len(b), BACKGROUND_EVERY):
                if walking[i] and not near[i]:
                    r = ratios(b, i)
                    if r:
                        background.setdefault(region, []).append(r)
    for region in sorted(jerks):
        j = np.array(jerks[region])
        g = np.array(background[region])
        hours = len(g) * BACKGROUND_EVERY * BIN_S / 3600.0
        print("%s: %d jerks during walking; %.2f h of walking without jerks" % (region, len(j),
                                                                               hours))
        print("  median jerk / largest in the 3 s before: %.2f" % np.median(j[:, 0]))
        for col, label in ((0, "3 s before"), (1, "same gait phase")):
            for r in RATIOS:
                print("  >= %.1fx the %-15s: jerks %.2f, walking alone %4.0f times per hour"
                      % (r, label, (j[:, col] >= r).mean(), (g[:, col] >= r).sum() / hours))


if __name__ == "__main__":
    main()
