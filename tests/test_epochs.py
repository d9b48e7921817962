"""Sleep and non-wear from 5 s epochs (diary/epochs.py): van Hees 2015 sustained inactivity
inside van Hees 2018 (HDCZA) windows, and a still board off the body."""
import numpy as np

from jerklog.diary import epochs as E

H = 3_600_000
T0 = 1_795_000_000_000


def _day(rng):
    """24 h of epochs: awake 14 h (the wrist turns all the time), asleep 8 h (still, turning
    over every 25-50 min), awake 1 h, then 1 h on a table (not worn). Returns t_ms, gravity
    (mg) per axis, max |d| (mg) and the truth: asleep and not-worn masks."""
    n = 24 * H // E.EPOCH_MS
    t = T0 + np.arange(n, dtype=np.int64) * E.EPOCH_MS
    h = (t - T0) / H
    angle = np.zeros(n)
    awake = (h < 14) | ((h >= 22) & (h < 23))
    asleep = (h >= 14) & (h < 22)
    table = h >= 23
    angle[awake] = rng.uniform(-60, 60, awake.sum())       # a new wrist angle every 5 s
    turn_at = 14 + np.cumsum(rng.uniform(25, 50, 20)) / 60.0
    a = rng.uniform(-40, 40)
    for i in np.flatnonzero(asleep):
        if (turn_at <= h[i]).sum() % 2 != (turn_at <= h[i - 1]).sum() % 2:
            a = rng.uniform(-40, 40)  # turning over
        angle[i] = a + rng.normal(0, 0.3)
    angle[table] = 2.0
    rad = np.radians(angle)
    gx = 1000 * np.cos(rad) * 0.6
    gy = 1000 * np.cos(rad) * 0.8
    gz = 1000 * np.sin(rad)
    max_mg = np.where(awake, rng.uniform(100, 900, n), rng.uniform(10, 40, n))
    max_mg[table] = 6
    return t, gx, gy, gz, max_mg, asleep, table


def _covered(spans, t):
    m = np.zeros(len(t), dtype=bool)
    for a, b in spans:
        m |= (t >= a) & (t < b)
    return m


def test_sleep_is_found_inside_the_night_and_not_while_awake():
    rng = np.random.default_rng(3)
    t, gx, gy, gz, max_mg, asleep, table = _day(rng)
    found = _covered(E.sleep_periods(t, gx, gy, gz), t)
    assert found[asleep].mean() >= 0.9
    awake = ~asleep & ~table
    assert found[awake].mean() <= 0.01


def test_a_board_on_a_table_is_not_worn_and_a_sleeper_is():
    rng = np.random.default_rng(4)
    t, gx, gy, gz, max_mg, asleep, table = _day(rng)
    off = E.non_wear(t, gx, gy, gz, max_mg)
    got = _covered(off, t)
    assert got[table].mean() >= 0.99
    assert not got[asleep].any() and not got[~asleep & ~table].any()


def test_a_gap_in_the_epochs_breaks_a_bout():
    t = T0 + np.arange(200, dtype=np.int64) * E.EPOCH_MS
    t[100:] += 10 * 60000  # ten minutes without epochs (the board was off)
    angle = np.zeros(200)
    bouts = E.sustained_inactivity(t, angle)
    assert len(bouts) == 2 and bouts[0][1] <= t[100]


def test_the_diary_takes_sleep_from_a_boards_epochs(tmp_path):
    from jerklog.cli.main import main
    from jerklog.diary.core import Diary
    from jerklog.store.database import Store
    db = str(tmp_path / "s.sqlite3")
    assert main(["simulate", "--scenario", "sleep", "--minutes", "60", "--seed", "2",
                 "--db", db, "--start", "2026-11-20T23:00:00+00:00"]) == 0
    store = Store(db)
    assert len(store.epochs()) >= 700  # one each 5 s
    d = Diary(store)
    assert d.quality()["sleep_from"] == "epochs"
    assert len(d.sleep) >= 1
    asleep_h = sum((r.waking_ms - r.onset_ms) for r in d.sleep.itertuples()) / H
    assert 0.5 <= asleep_h <= 1.0
