"""The diary: figures from small stores with known numbers, the CSV exports and EDF+."""
import csv
import datetime as dt
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jerklog import JerklogError
from jerklog.diary import Diary, DiaryConfig
from jerklog.diary.config import DAY_MS, HOUR_MS, MINUTE_MS
from jerklog.events import DIARY_COLUMNS
from jerklog.exports.diary_csv import write_events_csv, write_summary_csv
from jerklog.localtime import Zones, format_ms, iso_times, zone
from jerklog.store.database import Store

T0 = 1772409600000          # 2026-03-02T00:00:00Z
MIN, H = MINUTE_MS, HOUR_MS


def iso_ms(text):
    return int(dt.datetime.fromisoformat(text).timestamp() * 1000)


class Wearer:
    """Builds a store the way the recorder fills it: boots with a clock, one heartbeat a
    minute with cumulative counters (samples, dropped, events), events with their values."""

    def __init__(self, path):
        self.store = Store(path)
        self.boots = []
        self.seq = {}
        self.events = {}

    def wear(self, device, region, start, end, boot=1, rate=100, stalls=(), dropped=(),
             unreported=(), clock="device", heartbeat_ms=MIN):
        """Board `device` on `region` running from start to end (Unix ms). stalls: (a, b)
        spans where no samples were taken; dropped: (time, n) samples lost; unreported:
        (time, n) events the board counted that never reached the store."""
        self.store.upsert_boot(device, boot, start, epoch_ms=start, clock=clock,
                               region=region, rate_hz=rate, has_gyro=1)
        self.boots.append(dict(device=device, boot=boot, start=start, end=end, rate=rate,
                               stalls=stalls, dropped=dropped, unreported=unreported,
                               every=heartbeat_ms))
        return self

    def jerk(self, device, t, boot=1, kind="jerk", context="rest", peak_g=0.5,
             peak_dps=100.0, duration_ms=60, clock_shift_ms=0, **extra):
        key = (device, boot)
        self.seq[key] = self.seq.get(key, 0) + 2
        b = [x for x in self.boots if (x["device"], x["boot"]) == key][0]
        values = dict(duration_ms=duration_ms, peak_g=peak_g, peak_dps=peak_dps, kind=kind,
                      axis="+x", context=context, posture="lying", confidence=0.9,
                      activity_g=0.01)
        values.update(extra)
        self.store.add_event(device, boot, self.seq[key], t - b["start"] - clock_shift_ms, t,
                             values)
        self.events.setdefault(key, []).append(t - b["start"] - clock_shift_ms)
        return self

    def finish(self):
        for b in self.boots:
            key = (b["device"], b["boot"])
            up = np.arange(b["every"], b["end"] - b["start"] + 1, b["every"], dtype=np.int64)
            t = b["start"] + up
            stalled = np.zeros(len(up), dtype=np.int64)
            for a, z in b["stalls"]:
                stalled += np.clip(np.minimum(t, z) - a, 0, None)
            samples = (up - stalled) * b["rate"] // 1000
            drop = np.zeros(len(up), dtype=np.int64)
            for when, n in b["dropped"]:
                drop += np.where(t >= when, n, 0)
            samples = samples - drop
            ev = np.sort(np.array(self.events.get(key, []), dtype=np.int64))
            counted = np.searchsorted(ev, up, side="right")
            for when, n in b["unreported"]:
                counted += np.where(t >= when, n, 0)
            for i in range(len(up)):
                self.store.add_heartbeat(b["device"], b["boot"], 10000 + i, int(t[i]) + 30,
                                         int(up[i]), int(samples[i]), int(drop[i]),
                                         int(counted[i]))
            self.store.upsert_boot(b["device"], b["boot"], b["start"],
                                   uptime_ms=int(up[-1]), samples=int(samples[-1]),
                                   dropped=int(drop[-1]), events=int(counted[-1]))
        self.store.commit()
        return self.store


@pytest.fixture
def wearer(tmp_path):
    w = Wearer(str(tmp_path / "store.sqlite3"))
    yield w
    w.store.close()


REGIONS = {1: "left wrist", 2: "right wrist", 3: "left ankle", 4: "trunk"}


def four_sensors(w, hours=6):
    for dev, region in REGIONS.items():
        w.wear(dev, region, T0, T0 + hours * H)
    return w


# -- where: groups, generalised, multifocal, focal ---------------------------------------------
def test_extents_and_groups(wearer):
    w = four_sensors(wearer)
    w.jerk(1, T0 + H).jerk(2, T0 + H + 10).jerk(3, T0 + H + 30)            # A: 3 regions
    w.jerk(1, T0 + H + 5 * MIN).jerk(4, T0 + H + 5 * MIN + 20)             # B: 2 of 4
    w.jerk(1, T0 + 2 * H).jerk(1, T0 + 2 * H + 10000)                      # C: alone
    w.jerk(1, T0 + 4 * H).jerk(3, T0 + 4 * H + 10 * MIN).jerk(3, T0 + 4 * H + 12 * MIN)
    e = T0 + 5 * H                                                           # E: window
    w.jerk(1, e).jerk(2, e + 40).jerk(3, e + 60)
    store = w.finish()
    d = Diary(store, T0, T0 + 6 * H, tz="UTC")
    J = d.jerks
    assert len(J) == 9 and len(d.events) == 13
    assert list(J["extent"]) == ["generalised", "multifocal", "focal", "focal", "multifocal",
                                 "focal", "focal", "multifocal", "focal"]
    assert d.extents() == dict(generalised=1, multifocal=3, focal=5, unclassified=0)
    assert list(J["site_text"])[0] == "left ankle+left wrist+right wrist"
    # Group numbers go to jerks seen by several sensors, in time order.
    assert list(J["group"]) == [1, 2, 0, 0, 0, 0, 0, 3, 0]
    R = d.regions().set_index("region")
    assert R["events"].to_dict() == {"left ankle": 4, "left wrist": 6, "right wrist": 2,
                                     "trunk": 1}
    assert R.loc["left wrist", "per_hour"] == 1.0
    assert R.loc["left ankle", ["generalised", "multifocal", "focal"]].tolist() == [1, 0, 3]


def test_generalised_when_seen_by_all_worn_and_unclassified_with_one(wearer):
    w = wearer
    w.wear(1, "left arm", T0, T0 + 2 * H).wear(2, "right arm", T0, T0 + H)
    w.jerk(1, T0 + 30 * MIN).jerk(2, T0 + 30 * MIN + 25)   # both worn saw it
    w.jerk(1, T0 + 90 * MIN)                                # only one sensor worn then
    d = Diary(w.finish(), T0, T0 + 2 * H, tz="UTC")
    assert list(d.jerks["extent"]) == ["generalised", "unclassified"]
    assert list(d.jerks["n_worn"]) == [2, 1]


# -- pattern: series and rhythm ----------------------------------------------------------------
def test_series_rhythm_exact(wearer):
    w = wearer.wear(1, "left wrist", T0, T0 + H)
    for k in range(6):
        w.jerk(1, T0 + 10 * MIN + 500 * k)                          # 2 Hz, regular
    for off in np.cumsum([0, 300, 1900, 500, 1500, 250]):
        w.jerk(1, T0 + 20 * MIN + int(off))                         # irregular
    for off in (0, 2000, 4001):
        w.jerk(1, T0 + 30 * MIN + off)                              # a pair and a single
    for off in (0, 1000, 2000):
        w.jerk(1, T0 + 40 * MIN + off)                              # too short to judge
    w.jerk(1, T0 + 50 * MIN)
    d = Diary(w.finish(), T0, T0 + H, tz="UTC")
    S = d.series
    assert list(S["jerks"]) == [6, 6, 3]
    assert list(S["rhythm"]) == ["rhythmic", "irregular", "too short"]
    assert S["rate_hz"].iloc[0] == 2.0 and S["duration_s"].iloc[0] == 2.5
    assert S["cv"].iloc[0] == 0.0
    intervals = np.array([300, 1900, 500, 1500, 250])
    assert S["cv"].iloc[1] == pytest.approx(intervals.std() / intervals.mean())
    R = d.rhythm()
    assert R["series"] == 3 and R["jerks_in_series"] == 15 and R["judged"] == 2
    assert R["cv_median"] == pytest.approx(intervals.std() / intervals.mean() / 2)
    assert R["verdict"] == "semi-regular"
    assert (R["rhythmic"], R["irregular"], R["too_short"]) == (1, 1, 1)
    assert R["length_median"] == 6 and R["length_min"] == 3
    assert list(d.events["series"]) == [1] * 6 + [2] * 6 + [0] * 3 + [3] * 3 + [0]


# -- how often, recorded time, data quality ---------------------------------------------------
def test_recorded_hours_rates_and_quality(wearer):
    w = wearer
    w.wear(1, "trunk", T0, T0 + 10 * H, stalls=[(T0 + 2 * H, T0 + 3 * H)],
           dropped=[(T0 + 5 * H, 500)], unreported=[(T0 + 7 * H, 3)])
    w.wear(1, "trunk", T0 + 11 * H, T0 + 12 * H, boot=2)
    for k in range(18):
        w.jerk(1, T0 + 3 * H + k * 20 * MIN)        # 3:00 .. 8:40, every 20 min
    w.jerk(1, T0 + 11 * H + 30 * MIN, boot=2, clock_shift_ms=250)
    d = Diary(w.finish(), T0, T0 + 12 * H, tz="UTC")
    lost_h = 500 / 100 / 3600.0                     # 500 samples at 100 Hz
    assert d.recorded_hours() == pytest.approx(10 - lost_h, abs=1e-9)
    F = d.frequency()
    assert F["jerks"] == 19
    assert F["per_hour"] == pytest.approx(19 / (10 - lost_h))
    assert F["max_per_minute"] == 1 and F["max_per_hour"] == 3
    Q = d.quality()
    assert Q["gaps"] == 2 and Q["gap_hours"] == pytest.approx(2.0)
    assert Q["longest_gap"] in ((T0 + 2 * H, T0 + 3 * H), (T0 + 10 * H, T0 + 11 * H))
    assert Q["dropped"] == 500
    assert Q["samples"] == (9 * 3600 + 3600) * 100 - 500
    assert Q["events_missing"] == 3
    assert Q["events_shifted"] == 1 and Q["max_shift_ms"] == 250
    assert Q["boots_device_clock"] == 2 and "battery" not in Q  # no board reports it
    D = d.per_day()
    assert list(D["date"]) == ["2026-03-02"] and D["jerks"].iloc[0] == 19
    P = d.per_day_region()
    assert P["events_missing"].iloc[0] == 3 and P["dropped_samples"].iloc[0] == 500


def test_thinned_heartbeats_give_the_same_recorded_time(wearer):
    w = wearer.wear(1, "trunk", T0, T0 + 5 * H, stalls=[(T0 + 63 * MIN, T0 + 97 * MIN)])
    w.wear(2, "left arm", T0 + 3 * H, T0 + 4 * H + 30 * MIN)   # only part of the range
    w.wear(3, "right leg", T0 - 5 * H, T0 - 4 * H)            # before the range: not listed
    w.jerk(1, T0 + 10 * MIN)
    store = w.finish()
    full = Diary(store, T0, T0 + 5 * H, tz="UTC", config=DiaryConfig(coverage_step_ms=MIN))
    thin = Diary(store, T0, T0 + 5 * H, tz="UTC")
    for d in (full, thin):
        assert d.recorded_hours("trunk") == pytest.approx(5 - 34 / 60)
        assert d.recorded_hours("left arm") == pytest.approx(1.5)
        assert d.recorded_hours() == pytest.approx(5 - 34 / 60)
        assert d.active_sites == ["left arm", "trunk"]
        assert d.summary()["sites"] == ["left arm", "trunk"]
        assert [r["region"] for r in d.quality()["regions"]] == ["left arm", "trunk"]


def test_days_across_a_dst_change(wearer):
    tz = "Europe/Berlin"
    start, end = iso_ms("2026-03-28T22:00:00+01:00"), iso_ms("2026-03-29T06:00:00+02:00")
    w = wearer.wear(1, "left arm", start, end)
    for t in ("2026-03-28T23:00:00+01:00", "2026-03-29T01:59:59+01:00",
              "2026-03-29T03:00:00+02:00"):
        w.jerk(1, iso_ms(t))
    store = w.finish()
    d = Diary(store, start, end, tz=tz)
    D = d.per_day()
    assert list(D["date"]) == ["2026-03-28", "2026-03-29"]
    assert list(D["hours"]) == pytest.approx([2.0, 5.0])      # the night lost an hour
    assert list(D["period_hours"]) == pytest.approx([2.0, 5.0])
    assert list(D["jerks"]) == [1, 2]
    assert list(D["utc_offset"]) == ["+01:00", "+01:00 +02:00"]
    assert D["day_start"].iloc[1] == "2026-03-29T00:00:00.000+01:00"
    dates, counts, hours = d.hour_matrix()
    assert counts[1, 1] == 1 and counts[1, 3] == 1 and hours[1, 2] == 0


# -- when: sleep, onset, waking, day and night ------------------------------------------------
def _night(w):
    day = T0  # 2026-03-02, UTC
    w.wear(4, "trunk", day + 18 * H, day + 34 * H)
    plan = [("20:00", "active"), ("21:30", "rest"), ("22:00", "rest"), ("22:20", "asleep"),
            ("23:30", "asleep"), ("+01:00", "asleep"), ("+03:00", "asleep"),
            ("+05:00", "asleep"), ("+06:00", "asleep"), ("+06:30", "rest"),
            ("+06:50", "active"), ("+07:10", "active"), ("+09:00", "active")]
    for hhmm, ctx in plan:
        nxt = hhmm.startswith("+")
        h, m = map(int, hhmm.lstrip("+").split(":"))
        w.jerk(4, day + (24 if nxt else 0) * H + h * H + m * MIN, context=ctx)
    return w.finish()


def test_sleep_onset_waking_and_night(wearer):
    store = _night(wearer)
    d = Diary(store, T0 + 18 * H, T0 + 34 * H, tz="UTC")
    assert len(d.sleep) == 1
    e = d.sleep.iloc[0]
    assert e["onset_located"] and e["waking_located"]
    assert e["onset_ms"] == T0 + 22 * H + 10 * MIN and e["waking_ms"] == T0 + 30 * H + 15 * MIN
    assert list(d.jerks["when"]) == [
        "active", "rest", "sleep onset", "sleep onset", "asleep", "asleep", "asleep",
        "asleep", "asleep", "after waking", "after waking", "active", "active"]
    C = d.contexts()
    assert (C["asleep"], C["sleep onset"], C["after waking"], C["rest"], C["active"]) == \
        (5, 2, 2, 1, 3)
    F = d.frequency()
    assert (F["night_jerks"], F["day_jerks"]) == (6, 7)
    assert F["night_hours"] == pytest.approx(485 / 60)
    assert F["day_hours"] == pytest.approx(16 - 485 / 60)
    assert (F["nights_from_sleep"], F["nights_from_clock"]) == (1, 0)


def test_night_falls_back_to_clock_hours(wearer):
    w = wearer.wear(1, "wrist", T0 + 12 * H, T0 + 36 * H)
    for h in (13, 20, 23, 26, 29, 32):                     # contexts never 'asleep'
        w.jerk(1, T0 + h * H, context="rest")
    cfg = DiaryConfig(night_start_hour=22, night_end_hour=6)
    d = Diary(w.finish(), T0 + 12 * H, T0 + 36 * H, tz="UTC", config=cfg)
    F = d.frequency()
    assert F["night_hours"] == pytest.approx(8.0) and F["night_jerks"] == 3   # 23, 02, 05
    assert F["nights_from_clock"] == 1 and F["nights_from_sleep"] == 0
    assert F["night_per_hour"] == pytest.approx(3 / 8) and F["day_per_hour"] == \
        pytest.approx(3 / 16)


# -- medication, triggers ---------------------------------------------------------------------
def test_medication_before_and_after(wearer):
    from jerklog.store.notes import add_note
    w = wearer.wear(1, "left wrist", T0, T0 + 72 * H)
    for k in range(72):
        w.jerk(1, T0 + k * 30 * MIN + 1000)                      # 2/h for 36 h
    for k in range(36):
        w.jerk(1, T0 + 36 * H + k * H + 1000)                    # then 1/h
    store = w.finish()
    add_note(store, T0 + 36 * H, "medication", name="clonazepam", dose="0.5 mg")
    cfg = DiaryConfig(medication_window_ms=DAY_MS)
    d = Diary(store, T0, T0 + 72 * H, tz="UTC", config=cfg)
    m = d.medication().iloc[0]
    assert (m["before_jerks"], m["after_jerks"]) == (48, 24)
    assert (m["before_hours"], m["after_hours"]) == (24.0, 24.0)
    assert (m["before_per_hour"], m["after_per_hour"], m["change_pct"]) == (2.0, 1.0, -50.0)
    assert m["label"] == "clonazepam 0.5 mg" and not m["few_data"]
    assert d.per_day()["medication"].tolist() == ["", "clonazepam 0.5 mg", ""]


def test_trigger_marks(wearer):
    from jerklog.store.notes import add_note
    w = wearer.wear(1, "left wrist", T0, T0 + 3 * H)
    w.jerk(1, T0 + H, kind="trigger", context="active")
    w.jerk(1, T0 + H + 30000).jerk(1, T0 + H + 5 * MIN).jerk(1, T0 + 2 * H - 60000)
    store = w.finish()
    add_note(store, T0 + 2 * H, "trigger", text="flashing light")
    d = Diary(store, T0, T0 + 3 * H, tz="UTC")
    assert len(d.jerks) == 3                      # the button press is not a jerk
    T = d.triggers()
    assert (T["marks"], T["button"], T["notes"], T["jerks_near"]) == (2, 1, 1, 2)
    assert list(d.trigger_marks()["text"]) == ["", "flashing light"]


# -- time zones ----------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.integers(0, 4_102_444_800_000), st.sampled_from(
    ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]))
def test_iso_times_equal_format_ms(ms, name):
    assert iso_times(np.array([ms]), Zones(name))[0] == format_ms(ms, zone(name))


def test_travel_plan(wearer):
    plan = "Europe/Berlin,2026-07-01T08:00=America/New_York"
    z = Zones(plan)
    change = iso_ms("2026-07-01T08:00:00+02:00")
    assert z.starts[1] == change and z.name_at(change) == "America/New_York"
    assert list(iso_times(np.array([change - 1, change]), z)) == [
        "2026-07-01T07:59:59.999+02:00", "2026-07-01T02:00:00.000-04:00"]
    start, end = iso_ms("2026-07-01T00:00:00+02:00"), iso_ms("2026-07-02T00:00:00-04:00")
    w = wearer.wear(1, "left arm", start, end)
    w.jerk(1, change - 60000).jerk(1, change + 60000)
    d = Diary(w.finish(), start, end, tz=plan)
    D = d.per_day()
    assert list(D["date"]) == ["2026-07-01"] and D["hours"].iloc[0] == pytest.approx(30.0)
    assert D["utc_offset"].iloc[0] == "-04:00 +02:00"
    with pytest.raises(JerklogError):
        Zones("Europe/Berlin,2026-07-01=Mars/Olympus")


# -- exports ---------------------------------------------------------------------------------
def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_events_csv_extends_the_export(wearer, tmp_path):
    w = four_sensors(wearer)
    w.jerk(1, T0 + H).jerk(2, T0 + H + 10).jerk(4, T0 + H + 30)
    for k in range(4):
        w.jerk(1, T0 + 2 * H + 700 * k, peak_g=1.234, peak_dps=None)
    store = w.finish()
    ext = tmp_path / "diary.csv"
    assert write_events_csv(store, str(ext), T0, T0 + 6 * H, "Europe/Berlin") == 7
    b = read_csv(ext)
    assert b[0] == list(DIARY_COLUMNS) + ["series", "group", "extent", "when", "review"]
    assert [r[0] for r in b[1:4]] == ["2026-03-02T02:00:00.000+01:00",
                                      "2026-03-02T02:00:00.010+01:00",
                                      "2026-03-02T02:00:00.030+01:00"]
    assert [r[-5:] for r in b[1:4]] == [["", "1", "generalised", "rest", ""]] * 3
    assert b[4][-5:] == ["1", "", "focal", "rest", ""]
    assert b[4][4:6] == ["1.234", ""]
    assert oct(os.stat(ext).st_mode & 0o777) == "0o600"


def test_events_csv_quotes_free_text(wearer, tmp_path):
    w = wearer.wear(1, 'trunk, "upper"', T0, T0 + H)
    w.jerk(1, T0 + MIN)
    out = tmp_path / "diary.csv"
    write_events_csv(w.finish(), str(out), tz="UTC")
    rows = read_csv(out)
    assert rows[1][2] == 'trunk, "upper"' and len(rows[1]) == len(rows[0])


def test_summary_csv(wearer, tmp_path):
    w = four_sensors(wearer, hours=30)
    w.jerk(1, T0 + H).jerk(2, T0 + H + 10).jerk(3, T0 + H + 30)
    w.jerk(1, T0 + 25 * H, context="active")
    store = w.finish()
    out = tmp_path / "summary.csv"
    n = write_summary_csv(store, str(out), T0, T0 + 30 * H, "UTC")
    rows = read_csv(out)
    body = [dict(zip(rows[0], r)) for r in rows[1:]]
    assert n == len(body) == 2 * (1 + 4)
    day1 = [r for r in body if r["date"] == "2026-03-02"]
    assert [r["region"] for r in day1] == ["all", "left ankle", "left wrist", "right wrist",
                                           "trunk"]
    assert day1[0]["events"] == "1" and day1[0]["generalised"] == "1"
    assert day1[0]["hours"] == "24" and day1[2]["events"] == "1"
    assert day1[0]["day_start"] == "2026-03-02T00:00:00.000+00:00"
    day2 = [r for r in body if r["date"] == "2026-03-03"]
    assert day2[0]["hours"] == "6" and day2[0]["active"] == "1" and day2[0]["focal"] == "1"
    assert day2[4]["events"] == "0" and "battery" not in day1[0]
    assert oct(os.stat(out).st_mode & 0o777) == "0o600"



def test_summary_devices_are_those_worn_that_day(wearer, tmp_path):
    """Two boards worn on the same wrist on different days: each day's row names the one
    worn that day, not every board the region ever had."""
    w = wearer
    w.wear(5, "left wrist", T0 + 2 * H, T0 + 4 * H)
    w.wear(9, "left wrist", T0 + 26 * H, T0 + 28 * H)
    w.jerk(5, T0 + 3 * H).jerk(9, T0 + 27 * H)
    store = w.finish()
    out = tmp_path / "summary.csv"
    write_summary_csv(store, str(out), T0, T0 + 48 * H, "UTC")
    rows = read_csv(out)
    body = [dict(zip(rows[0], r)) for r in rows[1:]]
    wrist = {r["date"]: r["devices"] for r in body if r["region"] == "left wrist"}
    assert wrist == {"2026-03-02": "5", "2026-03-03": "9"}

def test_edf_annotations(wearer, tmp_path):
    pyedflib = pytest.importorskip("pyedflib")
    from jerklog.exports.edf import write_edf
    start = iso_ms("2026-03-29T00:30:00+01:00")
    w = wearer.wear(1, "left wrist", start, start + 6 * H).wear(2, "trunk", start,
                                                                 start + 6 * H)
    w.jerk(1, iso_ms("2026-03-29T03:30:00.250+02:00"), peak_g=1.25)
    w.jerk(2, iso_ms("2026-03-29T03:30:00.270+02:00"))
    w.jerk(1, start + 5 * H, kind="trigger")
    store = w.finish()
    out = tmp_path / "jerks.edf"
    info = write_edf(store, str(out), start, start + 6 * H, tz="Europe/Berlin",
                     name="Jane Doe", dob="1980-05-17")
    assert info["start_local"] == "2026-03-29T00:30:00" and info["utc_offset"] == "+01:00"
    r = pyedflib.EdfReader(str(out))
    try:
        onsets, durations, texts = r.readAnnotations()
        assert r.getStartdatetime() == dt.datetime(2026, 3, 29, 0, 30)
        assert r.getPatientName() == "Jane Doe"   # stored as Jane_Doe, read back with a space
    finally:
        r.close()
    # 00:30+01:00 to 03:30:00.250+02:00 is 2 h elapsed (the clock skipped an hour).
    assert onsets[0] == pytest.approx(7200.25) and durations[0] == pytest.approx(0.06)
    assert texts[0] == "jerk GEN 1.25g left wrist+trunk"
    assert texts[1].startswith("trigger button") and onsets[1] == pytest.approx(5 * 3600)
    assert oct(os.stat(out).st_mode & 0o777) == "0o600"


def test_empty_store(tmp_path):
    store = Store(str(tmp_path / "empty.sqlite3"))
    d = Diary(store, T0, T0 + DAY_MS, tz="UTC")
    assert d.frequency()["jerks"] == 0 and d.rhythm()["series"] == 0
    assert d.quality()["hours"] == 0 and d.quality()["gaps"] == 1
    assert write_events_csv(store, str(tmp_path / "e.csv"), tz="UTC") == 0
    assert write_summary_csv(store, str(tmp_path / "s.csv"), T0, T0 + DAY_MS, "UTC") == 1
    assert len(Diary(store).summary()["sites"]) == 0


def test_bad_range(tmp_path):
    store = Store(str(tmp_path / "s.sqlite3"))
    with pytest.raises(JerklogError):
        Diary(store, T0 + 10, T0)


# -- times at the edge (issue: one mistyped note year broke every export and report) ---------
@pytest.mark.parametrize("when", ["0001-01-01T00:00", "1900-06-01T12:00", "9999-12-31T00:00",
                                  "2085-01-01T00:00+00:00"])
def test_note_times_outside_1985_to_2084_are_refused(wearer, when):
    from jerklog.store.notes import add_note, list_notes
    with pytest.raises(JerklogError, match="1985-2084"):
        add_note(wearer.store, when, "note", text="typo")
    assert list_notes(wearer.store) == []


def test_a_note_decades_away_does_not_stretch_the_diary(wearer, tmp_path):
    from jerklog.store.notes import add_note
    w = wearer.wear(1, "trunk", T0, T0 + 8 * H)
    for k in range(5):
        w.jerk(1, T0 + (k + 1) * H)
    store = w.finish()
    add_note(store, T0 + 2 * H, "medication", name="clonazepam", dose="0.5 mg")
    add_note(store, "2062-03-02T08:00+00:00", "note", text="year typed wrong")
    d = Diary(store, tz="UTC")
    assert d.to_ms - d.from_ms < 2 * DAY_MS      # the recording and the medication, not 2062
    assert d._n < 20 * 24 * 60   # days long: the recording and the medication windows around it
    assert len(d.jerks) == 5
    assert write_events_csv(store, str(tmp_path / "d.csv"), tz="UTC") == 5


def test_a_range_of_decades_costs_what_the_recording_costs(wearer):
    w = wearer.wear(1, "trunk", T0, T0 + 8 * H).jerk(1, T0 + H)
    store = w.finish()
    zones = Zones("UTC")
    d = Diary(store, zones.parse_time("1985-01-01"), zones.parse_time("2084-12-31"), "UTC")
    assert d._n < 5 * 24 * 60
    assert len(d.jerks) == 1 and d.recorded_hours() == pytest.approx(8, abs=0.05)
    assert d.period_hours > 99 * 365 * 24      # the period is still the one asked for


def test_a_foreign_time_in_an_old_store_is_shown_not_raised(wearer):
    from jerklog.localtime import format_ms
    from jerklog.store.notes import format_notes
    assert format_ms(-62135596800000 * 10, zone("Asia/Kolkata")).startswith("(Unix ms")
    note = dict(id=1, time_ms=-62135596800000, kind="note", name=None, dose=None,
                text="from an old version", created_ms=0, device_id=None)
    assert "from an old version" in "\n".join(format_notes([note], zone("Asia/Kolkata")))


# -- the same hours recorded twice (issue: make demo twice doubled the diary) ---------------
def _recorded_twice(w, copies=2):
    """One night of device 1 stored `copies` times under different boot ids, as running the
    same simulation twice, or four at once, stores it."""
    for b in range(1, copies + 1):
        w.wear(1, "left_wrist", T0, T0 + 8 * H, boot=b)
    for b in range(1, copies + 1):
        for k in range(12):
            w.jerk(1, T0 + 20 * MIN + k * 37 * MIN, boot=b)
    return w.finish()


@pytest.mark.parametrize("copies", [2, 4])
def test_the_same_hours_recorded_twice_count_once_everywhere(wearer, tmp_path, copies):
    from jerklog.exports.diary_csv import summary_table
    from jerklog.exports.report import first_page
    store = _recorded_twice(wearer, copies)
    d = Diary(store, T0, T0 + 8 * H, "UTC")
    assert len(d.jerks) == 12 and len(d.events) == 12
    assert d.recorded_hours() == pytest.approx(8, abs=0.05)
    twice = d.quality()["recorded_twice"]
    assert [(o["kept_boot"], o["left_out_boot"]) for o in twice] == [
        (1, b) for b in range(2, copies + 1)]
    assert [o["events_left_out"] for o in twice] == [12] * (copies - 1)
    assert all(o["hours"] == pytest.approx(8, abs=0.05) for o in twice)
    # The CSV diary, the summary's 'all' and per-region rows and the report agree.
    assert write_events_csv(store, str(tmp_path / "d.csv"), T0, T0 + 8 * H, "UTC") == 12
    rows = summary_table(d)
    assert sum(int(r["events"]) for r in rows if r["region"] == "all") == 12
    assert sum(int(r["events"]) for r in rows if r["region"] == "left_wrist") == 12
    header, page = first_page(d)
    rows = dict(page)
    assert rows["Where"].startswith("One sensor only (left_wrist): 12 jerks.")
    assert rows["How often"].startswith("12 jerks in 8.0 h recorded: 1.5/h")
    assert "recorded the same 8.0 h twice" in rows["Data quality"]
    assert "counted once" in rows["Data quality"]


def test_a_reboot_is_not_a_recording_made_twice(wearer):
    # Boot 2 starts as boot 1 ends; their clock estimates meet within seconds.
    w = wearer.wear(1, "trunk", T0, T0 + 4 * H + 20_000, boot=1)
    w.wear(1, "trunk", T0 + 4 * H, T0 + 8 * H, boot=2)
    w.jerk(1, T0 + H, boot=1).jerk(1, T0 + 4 * H + 5_000, boot=2).jerk(1, T0 + 6 * H, boot=2)
    d = Diary(w.finish(), T0, T0 + 8 * H, "UTC")
    assert len(d.jerks) == 3 and d.quality()["recorded_twice"] == []


def test_a_tremor_episode_is_listed_but_is_no_jerk(wearer, tmp_path):
    w = wearer.wear(1, "trunk", T0, T0 + 2 * H).jerk(1, T0 + 10 * MIN)
    w.jerk(1, T0 + 30 * MIN, kind="tremor", duration_ms=56_000)
    store = w.finish()
    d = Diary(store, T0, T0 + 2 * H, "UTC")
    assert len(d.jerks) == 1
    assert d.summary()["strength"]["duration_ms"]["max"] < 1000  # not the 56 s episode
    assert write_events_csv(store, str(tmp_path / "d.csv"), T0, T0 + 2 * H, "UTC") == 2
