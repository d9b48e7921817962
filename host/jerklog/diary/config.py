"""The diary's units, vocabularies and every threshold it uses (docs/diary.md explains each)."""
import dataclasses

import numpy as np

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000

EXTENTS = ("generalised", "multifocal", "focal", "unclassified")
JERK_KINDS = ("jerk", "negative")   # event kinds that are jerks; trigger and tremor are not
WHEN = ("rest", "active", "asleep", "sleep onset", "after waking", "unknown")
# A jerk seen by several sensors takes the most awake context any of them saw.
_CTX_CODE = {"unknown": 0, "asleep": 1, "rest": 2, "active": 3}
_CTX_NAME = np.array(["unknown", "asleep", "rest", "active"], dtype=object)
EXTRA_COLUMNS = ("series", "group", "extent", "when")


@dataclasses.dataclass
class DiaryConfig:
    """Every threshold the diary uses (docs/diary.md explains each)."""
    group_window_ms: int = 50            # events of several sensors this close: one jerk
    sure_confidence: float = 0.9         # a jerk this likely (its best sensor) is "sure":
    #   the host's confidence is a probability (docs/benchmarks.md, "Calibration"); of the
    #   held-out benchmark's events at >= 0.9, 96-98 % were jerks
    generalised_min_regions: int = 3     # ... seen by this many regions: generalised
    multifocal_window_ms: int = 30 * MINUTE_MS   # +- this around a one-region jerk ...
    multifocal_min_jerks: int = 2        # ... this many jerks in another region: multifocal
    series_gap_ms: int = 2000            # consecutive jerks at most this far apart chain
    series_min_jerks: int = 3            # a chain of at least this many jerks is a series
    rhythm_min_intervals: int = 3        # intervals a series needs before its CV is judged
    rhythmic_cv: float = 0.25            # CV of intervals at or below: rhythmic
    irregular_cv: float = 0.5            # at or above: irregular (random)
    night_start_hour: float = 22.0       # clock night, used when sleep was not recorded
    night_end_hour: float = 7.0
    sleep_merge_ms: int = 30 * MINUTE_MS      # asleep runs this close are one sleep
    min_sleep_ms: int = 2 * HOUR_MS           # a night uses recorded sleep if it has this much
    transition_max_gap_ms: int = 60 * MINUTE_MS  # onset/waking located only to within this
    onset_before_ms: int = 30 * MINUTE_MS     # 'sleep onset': this before the first asleep
    onset_after_ms: int = 10 * MINUTE_MS      # ... to this after it
    waking_after_ms: int = 30 * MINUTE_MS     # 'after waking': to this after the first awake
    medication_window_ms: int = 7 * DAY_MS    # rates this long before and after a change
    medication_min_hours: float = 24.0        # fewer recorded hours in a window: flagged
    trigger_window_ms: int = 60_000           # jerks within +- this of a trigger mark
    trend_min_day_hours: float = 6.0          # days recorded at least this long make the trend
    trend_min_days: int = 3
    trend_change_pct: float = 20.0            # fitted change over the period: rising/falling
    gap_min_ms: int = 15 * MINUTE_MS          # unrecorded stretches this long are listed gaps
    coverage_step_ms: int = 10 * MINUTE_MS    # heartbeats read about one per this much uptime
