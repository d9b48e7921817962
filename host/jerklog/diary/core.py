"""Diaries: where, how often, in what pattern and when the jerks happened, and how complete
the recording was, over any time range of the store.

Every definition (jerk, generalised/multifocal/focal, series, rhythm, sleep onset, waking,
night, recorded hours, medication windows) is written out in docs/diary.md; the names of
DiaryConfig's fields are the knobs that page refers to.

    d = Diary(store, from_ms, to_ms, tz="Europe/Berlin")
    d.events         one row per stored event (per sensor), with group, series, extent, when
    d.jerks          one row per jerk: events from several sensors within 50 ms are one jerk
    d.series         runs of jerks closer than series_gap_ms, with length, rate and rhythm
    d.per_day()      local days: recorded hours, counts, rates, day/night, extents
    d.summary()      the figures on the report's first page, as plain numbers

Times are Unix ms (UTC) inside; local dates and hours come from a Zones object, which may
change zone over time (travel). Nothing here writes the store.
"""
import numpy as np
import pandas as pd

from jerklog import JerklogError
from jerklog.diary import coverage, daily, grouping, medication, overlap, quality, series, sleep
from jerklog.diary.config import DAY_MS, HOUR_MS, MINUTE_MS, DiaryConfig
from jerklog.diary.load import _extent_of_data, _read_boots, _read_events, _site_name
from jerklog.localtime import Zones

# Longer ranges get a minute grid clipped to the recording (see Diary.__init__).
GRID_MAX_MS = 400 * DAY_MS


class Diary:
    """Everything the diary says about [from_ms, to_ms) of a store (None: all of it)."""

    def __init__(self, store, from_ms: int | None = None, to_ms: int | None = None, tz=None,
                 config: DiaryConfig | None = None):
        self.config = config or DiaryConfig()
        self.zones = Zones(tz)
        if from_ms is None or to_ms is None:
            lo_d, hi_d = _extent_of_data(store)
            if lo_d is None:
                lo_d = hi_d = 0
            from_ms = lo_d if from_ms is None else from_ms
            to_ms = max(hi_d, from_ms) if to_ms is None else to_ms
        if to_ms < from_ms:
            raise JerklogError("the end of the diary's range is before its start")
        self.from_ms, self.to_ms = int(from_ms), int(to_ms)
        self._memo = {}
        notes = pd.DataFrame(store.notes(self.from_ms, self.to_ms),
                             columns=["id", "time_ms", "kind", "name", "dose", "text",
                                      "created_ms", "device_id"])
        self.notes = notes.astype(object).where(notes.notna(), None)
        cfg = self.config
        pad = max(DAY_MS, cfg.multifocal_window_ms, cfg.transition_max_gap_ms * 2)
        if (notes["kind"] == "medication").any():
            pad = max(pad, cfg.medication_window_ms)
        self._lo, self._hi = self.from_ms - pad, self.to_ms + pad
        if self._hi - self._lo > GRID_MAX_MS:
            # A range far longer than a recording (--from 1990 --to 2080): the minute grid
            # covers only the recorded part of it, so the cost follows the recorded time.
            rec_lo, rec_hi = store.recorded_extent()
            if rec_lo is None:
                rec_lo = rec_hi = self.from_ms
            self._lo = max(self._lo, rec_lo - pad)
            self._hi = max(self._lo + MINUTE_MS, min(self._hi, rec_hi + 1 + pad))
        self.boots = _read_boots(store)
        self.board_logs = store.board_logs()
        self.clock_corrections = store.clock_corrections()
        self._all = _read_events(store, self._lo, self._hi, self.boots)
        self.epoch_sleep, self.non_wear = sleep.from_epochs(store, self._lo, self._hi,
                                                            self.boots)
        self._sites()
        self._grid()
        self._coverage(store)   # from every boot's counters: a minute is recorded or not
        self._all, self.recorded_twice = overlap.count_once(self)
        self._jerks()
        self._sleep()
        self._label_events()

    # -- set-up ------------------------------------------------------------------------------
    def _sites(self):
        ev, boots = self._all, self.boots
        reg = ev["region"]
        valid = reg.notna() & (reg.astype(str).str.strip() != "") & (reg != "unknown")
        ev["site"] = reg.where(valid, "device " + ev["device_id"].astype(str)).astype(object)
        boot_sites = {(int(b.device_id), int(b.boot_id)): _site_name(b.region, int(b.device_id))
                      for b in boots.itertuples()}
        self._boot_site = boot_sites
        names = sorted(set(ev["site"]) | set(boot_sites.values()))
        if len(names) > 62:
            raise JerklogError("more than 62 body regions in one diary")
        self.sites = names
        self._site_code = {s: i for i, s in enumerate(names)}
        ev["site_code"] = ev["site"].map(self._site_code).astype(np.int64)

    def _grid(self):
        self._g0 = (self._lo // MINUTE_MS) * MINUTE_MS
        self._n = max(1, -(-(self._hi - self._g0) // MINUTE_MS))
        starts = self._g0 + np.arange(self._n, dtype=np.int64) * MINUTE_MS
        self._min_start = starts
        local = self.zones.local_ms(starts)
        self._min_local = local
        self._min_day = np.floor_divide(local, DAY_MS)
        # Weight of each minute inside [from, to): partial at the two ends.
        w = (np.minimum(starts + MINUTE_MS, self.to_ms) - np.maximum(starts, self.from_ms))
        self._min_w = np.clip(w, 0, MINUTE_MS) / MINUTE_MS

    def _minute(self, ms):
        return np.clip((np.asarray(ms, dtype=np.int64) - self._g0) // MINUTE_MS, 0,
                       self._n - 1)

    def _coverage(self, store):
        return coverage._coverage(self, store)

    def _jerks(self):
        return grouping._jerks(self)

    def _mask_text(self, mask):
        return grouping._mask_text(self, mask)

    def _classify(self, G):
        return grouping._classify(self, G)

    def _sleep(self):
        return sleep._sleep(self)

    def _label_events(self):
        return sleep._label_events(self)

    def _series_table(self):
        return series._series_table(self)

    # -- recorded time -----------------------------------------------------------------------
    def recorded_hours(self, site=None, mask=None):
        return coverage.recorded_hours(self, site, mask)

    @property
    def period_hours(self):
        return (self.to_ms - self.from_ms) / HOUR_MS

    def _in_range_days(self):
        return coverage._in_range_days(self)

    # -- frequency ---------------------------------------------------------------------------
    def per_day(self):
        return daily.per_day(self)

    def _per_day(self):
        return daily._per_day(self)

    def per_day_region(self):
        return daily.per_day_region(self)

    def per_minute(self):
        return daily.per_minute(self)

    def hour_matrix(self, site=None):
        return daily.hour_matrix(self, site)

    def frequency(self):
        return daily.frequency(self)

    def trend(self):
        return daily.trend(self)

    # -- pattern -----------------------------------------------------------------------------
    def intervals(self):
        return series.intervals(self)

    def rhythm(self):
        return series.rhythm(self)

    # -- where -------------------------------------------------------------------------------
    def regions(self):
        return grouping.regions(self)

    def extents(self):
        return grouping.extents(self)

    # -- when --------------------------------------------------------------------------------
    def contexts(self):
        return sleep.contexts(self)

    # -- how strong --------------------------------------------------------------------------
    def strength(self, site=None):
        ev = self.events[self.events["is_jerk"]]
        if site is not None:
            ev = ev[ev["site"] == site]
        out = {}
        for col in ("peak_g", "peak_dps", "duration_ms"):
            v = ev[col].dropna().to_numpy(dtype=float)
            out[col] = dict(n=len(v), median=float(np.median(v)) if len(v) else None,
                            min=float(v.min()) if len(v) else None,
                            max=float(v.max()) if len(v) else None,
                            p10=float(np.percentile(v, 10)) if len(v) else None,
                            p90=float(np.percentile(v, 90)) if len(v) else None)
        return out

    # -- notes: medication, triggers ---------------------------------------------------------
    def medication_notes(self):
        return medication.medication_notes(self)

    def medication(self):
        return medication.medication(self)

    def trigger_marks(self):
        return medication.trigger_marks(self)

    def triggers(self):
        return medication.triggers(self)

    # -- data quality ------------------------------------------------------------------------
    def gaps(self, site=None):
        return quality.gaps(self, site)

    def quality(self):
        return quality.quality(self)

    def _quality(self):
        return quality._quality(self)

    def clocks(self):
        return quality.clocks(self)

    def quality_by_day(self):
        return quality.quality_by_day(self)

    # -- everything for the first page ---------------------------------------------------------
    def summary(self):
        return dict(
            from_ms=self.from_ms, to_ms=self.to_ms, zones=self.zones.describe(),
            sites=list(self.active_sites), frequency=self.frequency(), trend=self.trend(),
            extents=self.extents(), regions=self.regions().to_dict("records"),
            rhythm=self.rhythm(), contexts=self.contexts(), strength=self.strength(),
            medication=self.medication().to_dict("records"), triggers=self.triggers(),
            notes=len(self.notes), quality=self.quality(), config=self.config)
