"""Detector benchmark on data it was not tuned on (issue 12, item 5).

Two parts, both printed by `jerklog bench detect` after the scenario suite of detect.py:

* the independent generator (jerklog.sim.independent), family A on its tuning seeds and on
  held-out seeds, and family B, held out as a whole: sensitivity per kind of jerk (single,
  first of a series, later in a series, rhythmic, negative, hypnic, startle), per context,
  false events per hour per context, and what the misses depend on;
* the real recordings of shared/data/real with jerks of both families added into their
  quietest seconds and into ordinary activity.

Held out means: no detector setting may be chosen by looking at these figures. The tuning
seeds of family A are the only part of this benchmark that may be tuned on.
"""
import time
from statistics import median

import numpy as np

from jerklog import regions
from jerklog.bench.matching import (
    MATCH_MS,
    SURE,
    calibration,
    isolation_ratio,
    match,
    real_data_dir,
)
from jerklog.recordings.rawfile import RawSamples

# (session, minutes, region); every seed of a set runs each once.
SUITE = (
    ("rest", 12, "wrist"), ("rest", 12, "trunk"), ("rest", 8, "ankle"),
    ("sleep", 50, "wrist"), ("sleep", 50, "trunk"), ("sleep", 40, "ankle"),
    ("walking", 8, "wrist"), ("walking", 8, "ankle"), ("walking", 6, "trunk"),
    ("typing", 10, "wrist"), ("typing", 6, "trunk"),
    ("tremor", 8, "wrist"), ("tremor", 6, "ankle"),
    ("car", 10, "wrist"), ("car", 10, "trunk"),
)
# label: (family, seeds). Only "tuning seeds" may ever be tuned on.
SETS = {
    "tuning seeds": ("A", (11, 12)),
    "held-out seeds": ("A", (211, 212)),
    "held-out family": ("B", (311, 312)),
}
REAL_VARIANTS = (401, 402, 403, 404, 405, 406)   # family A for odd, B for even seeds

KIND_ROWS = ("single", "first of a series", "later in a series", "rhythmic", "negative",
             "hypnic", "startle")
CONTEXTS = ("rest", "asleep", "walking", "typing", "tremor", "car")
ACTIVITY = ("walking", "typing", "tremor", "car")
GAP_BINS = ((0.12, 0.3), (0.3, 0.45), (0.45, 1.0))
STANDOUT = 2.0


def kind_row(jerk) -> str:
    """The row a true jerk is counted in."""
    if jerk.kind == "series":
        return "first of a series" if jerk.position == "first" else "later in a series"
    return jerk.kind


def group_of(context: str) -> str:
    return "rest+asleep" if context in ("rest", "asleep", "quiet") else "activity"


AFTER_JERK = "within 2.5 s after a jerk (its corrective movement, return or rebound)"


def false_cause(t_s, ctx, jerk_t, mark_t0, mark_t1, marks):
    """What a false event at t_s was: right after a true jerk, the named background movement
    nearest it (within 0.3 s before to 0.5 s after it), or the context's continuous
    background."""
    if len(jerk_t):
        d = t_s - jerk_t
        if np.any((d > -0.3) & (d < 2.5)):
            return AFTER_JERK
    if len(mark_t0):
        gap = np.maximum(mark_t0 - t_s, t_s - mark_t1)
        near = (mark_t0 - 0.3 <= t_s) & (t_s <= mark_t1 + 0.5)
        if near.any():
            return marks[int(np.argmin(np.where(near, gap, np.inf)))][2]
    return "no named movement (%s)" % ctx


def rate_for(family, index, seed):
    from jerklog.sim.independent import RATES
    rates = RATES[family]
    return rates[(index + seed) % len(rates)]


class KindTally:
    """Counts summed over sessions (or augmented real recordings)."""

    def __init__(self):
        self.truth, self.found = {}, {}
        self.false = {}
        self.hours = {}
        self.errors_ms = []
        self.tremor_time = {}     # context -> s reported as tremor
        self.causes = {}          # (group, what the false event was) -> count
        self.seconds = 0.0
        self.samples = 0
        self.scored = []          # (host confidence, is a jerk) of every candidate

    def count(self, key, hit):
        self.truth[key] = self.truth.get(key, 0) + 1
        self.found[key] = self.found.get(key, 0) + int(bool(hit))

    def sensitivity(self, key):
        n = self.truth.get(key, 0)
        return (self.found.get(key, 0) / n, n) if n else (float("nan"), 0)

    def add(self, jerks, spans, events, t=None, acc=None, t_first=0.0, marks=(),
            cands_ms=None, scopes=False):
        """jerks: [TrueJerk]; spans: [(start s, end s, context)]; events: detector rows
        (t_ms from the first sample, at t_first s); t, acc (g): the samples, for the
        stand-out measure; marks: [(t0, t1, what)] named background movements, to say what
        each false event was; cands_ms: the t_ms of every candidate the board offered (kept
        or dropped), for the candidate recall; scopes: also count per scope (focal,
        multifocal, generalised: several sensors)."""
        det = [e for e in events if e["kind"] in ("jerk", "negative")]
        det_ms = [e["t_ms"] for e in det]
        truth_ms = [1000.0 * (j.t - t_first) for j in jerks]
        pairs, unmatched = match(truth_ms, det_ms, MATCH_MS)
        hit = dict(pairs)
        if cands_ms is not None:
            near = np.sort(np.asarray(cands_ms, dtype=np.float64))
            for jerk, tm in zip(jerks, truth_ms):
                lo, hi = np.searchsorted(near, [tm - MATCH_MS, tm + MATCH_MS])
                for key in (("offered", jerk.context), ("offered group", group_of(jerk.context)),
                            ("offered group", "all")):
                    self.count(key, hi > lo)
        for i, j in pairs:
            self.errors_ms.append(abs(det_ms[j] - truth_ms[i]))
        for i, jerk in enumerate(jerks):
            found = i in hit
            group = group_of(jerk.context)
            row = kind_row(jerk)
            for g in (group, "all"):
                self.count(("kind", g, row), found)
                self.count(("kind", g, "all"), found)
            self.count(("context", jerk.context), found)
            if scopes:
                self.count(("scope", group, jerk.scope), found)
            self.count(("shape", group, jerk.shape), found)
            if jerk.context != "asleep":
                self.count(("corrective", group, jerk.corrective), found)
                if jerk.kind == "single":
                    self.count(("single, corrective", group, jerk.corrective), found)
            self.count(("peak", group, jerk.peak_g >= 0.3), found)
            if jerk.position == "later":
                for lo, hi in GAP_BINS:
                    if lo <= jerk.gap_s < hi or (hi == 1.0 and jerk.gap_s == 1.0):
                        self.count(("gap", group, lo, hi), found)
            if jerk.sampled_g >= 0.15:
                self.count(("sampled >= 0.15 g", group), found)
            if jerk.kind == "negative" and found:
                self.count(("labelled negative", group),
                           det[hit[i]]["kind"] == "negative")
            if group == "activity":
                self.count(("sure", group), found and det[hit[i]]["confidence"] >= SURE)
            if t is not None and isolation_ratio(t, acc, jerk.t, after=False) >= STANDOUT:
                self.count(("stands out", group), found)
        starts = np.array([s[0] for s in spans])
        jerk_t = np.array([j.t for j in jerks])
        mark_t0 = np.array([m[0] for m in marks])
        mark_t1 = np.array([m[1] for m in marks])
        for j in unmatched:
            t_s = t_first + det_ms[j] / 1000.0
            k = max(0, int(np.searchsorted(starts, t_s, "right")) - 1)
            ctx = spans[k][2]
            self.false[ctx] = self.false.get(ctx, 0) + 1
            key = (group_of(ctx), false_cause(t_s, ctx, jerk_t, mark_t0, mark_t1, marks))
            self.causes[key] = self.causes.get(key, 0) + 1
        for start, end, ctx in spans:
            self.hours[ctx] = self.hours.get(ctx, 0.0) + (end - start) / 3600.0
            for e in events:
                if e["kind"] == "tremor":
                    a = t_first + e["t_ms"] / 1000.0
                    b = a + e["duration_ms"] / 1000.0
                    overlap = min(b, end) - max(a, start)
                    if overlap > 0:
                        self.tremor_time[ctx] = self.tremor_time.get(ctx, 0.0) + overlap

    def false_rate(self, ctx):
        h = self.hours.get(ctx, 0.0)
        return (self.false.get(ctx, 0) / h if h else float("nan")), self.false.get(ctx, 0), h


def board_capture(s_t, acc, gyro, region, settings=None):
    """What a board worn at region (wrist, ankle, trunk, waist, ...: regions.parse; the
    detector's up axis follows it as on a board) would send for these samples."""
    from jerklog.judge.capture import capture
    raw = RawSamples.from_units(s_t, acc, gyro)
    return capture(raw.t_ms().tolist(), raw.values().tolist(), raw.rate_hz,
                   raw.gyro_ddps is not None, settings, regions.parse(region))


def host_judged(cap, others=(), clock_ms=0.0):
    """(the host-judged events, [(confidence, candidate t_ms)]) of a capture, with the other
    sensors' SensorViews if any (judge.cross)."""
    from jerklog.judge.model import judge_sensor
    from jerklog.judge.pipeline import judged_events
    cands = sorted(cap.candidates, key=lambda c: (c["t_ms"], c["cand"]))
    verdicts = judge_sensor(cands, None, list(others), [c["t_ms"] + clock_ms for c in cands],
                            cap.epochs)
    scored = [(v[1], c["t_ms"]) for c, v in zip(cands, verdicts)]
    return judged_events(cap, None, others, clock_ms), scored


def _board_and_host(s_t, acc, gyro, region, settings):
    """(the board's events, the host-judged events, [(confidence, candidate t_ms)]) of one
    recording judged alone."""
    cap = board_capture(s_t, acc, gyro, region, settings)
    judged, scored = host_judged(cap)
    return cap.events, judged, scored


def _calibrate(tally, jerks, scored, t_first):
    """Keep (confidence, is it a jerk) of every candidate for the calibration table."""
    if not scored:
        return
    truth_ms = [1000.0 * (j.t - t_first) for j in jerks]
    pairs, _ = match(truth_ms, [t for _, t in scored], MATCH_MS)
    hits = {j for _, j in pairs}
    tally.scored.extend((p, k in hits) for k, (p, _) in enumerate(scored))


def run_set(family, seeds, settings=None, log=print, suite=SUITE):
    """(KindTally of the board's decisions, KindTally of the host's judgement)."""
    from jerklog.sim.independent import session
    board, host = KindTally(), KindTally()
    for seed in seeds:
        for index, (kind, minutes, region) in enumerate(suite):
            rate = rate_for(family, index, seed)
            t0 = time.perf_counter()
            s = session(family, kind, minutes, rate, region, seed)
            t1 = time.perf_counter()
            events, judged, scored = _board_and_host(s.t, s.acc, s.gyro, region, settings)
            t2 = time.perf_counter()
            spans = [(sp.start, sp.end, sp.context) for sp in s.spans]
            for tally, evs in ((board, events), (host, judged)):
                tally.add(s.jerks, spans, evs, s.t, s.acc, marks=s.marks,
                          cands_ms=[t for _, t in scored])
                tally.seconds += s.t[-1] - s.t[0]
                tally.samples += len(s.t)
            _calibrate(host, s.jerks, scored, 0.0)
            log("  %s %-7s %4.0f min %3d Hz %-5s %-7s seed %-3d: %3d true, %4d events, %4d "
                "after the host's judgement (generate %.1f s, board and judge %.1f s)"
                % (family, kind, minutes, rate, region, s.sensor, seed, len(s.jerks),
                   len(events), len(judged), t1 - t0, t2 - t1))
    return board, host


def run_real(settings=None, log=print, variants=REAL_VARIANTS):
    """(KindTally of the board, KindTally of the host judging each sensor alone, KindTally of
    the host judging with the other sensors of the same recording (Daphnet's ankle, thigh
    and trunk were worn at once; the others are alone, so the same as the second),
    per-recording [(name, true, found by the board, by the host alone, by the host with the
    others)]) over augmented real recordings."""
    from jerklog.judge.cross import views_of_captures
    from jerklog.recordings.folder import real_recordings
    from jerklog.sim.independent.augment import add_jerks
    directory = real_data_dir()
    if not directory:
        return None, None, None, []
    board, host, cross = KindTally(), KindTally(), KindTally()
    per = {}
    worn = {}
    for rec in real_recordings(directory):    # the sensors of one file were worn at once
        worn.setdefault(rec.source, []).append(rec)
    for recs in worn.values():
        for seed in variants:
            family = "A" if seed % 2 else "B"
            augs = [add_jerks(rec, family, seed) for rec in recs]
            caps = [board_capture(aug.t, aug.acc, aug.gyro, rec.location, settings)
                    for rec, (aug, _) in zip(recs, augs)]
            views = views_of_captures(caps)
            for k, (rec, (aug, jerks), cap) in enumerate(zip(recs, augs, caps)):
                judged, scored = host_judged(cap)
                if len(recs) > 1:
                    judged_x, scored_x = host_judged(cap, views[:k] + views[k + 1:])
                else:
                    judged_x, scored_x = judged, scored
                found = []
                for tally, evs in ((board, cap.events), (host, judged), (cross, judged_x)):
                    before = tally.found.get(("kind", "all", "all"), 0)
                    tally.add(jerks, [(aug.t[0], aug.t[-1], "real")], evs, aug.t, aug.acc,
                              t_first=aug.t[0], cands_ms=[t for _, t in scored])
                    tally.seconds += aug.duration_s
                    tally.samples += aug.n_samples
                    found.append(tally.found.get(("kind", "all", "all"), 0) - before)
                _calibrate(host, jerks, scored, aug.t[0])
                _calibrate(cross, jerks, scored_x, aug.t[0])
                name = "%s (%s)" % (rec.name, rec.location)
                n, fb, fh, fx = per.get(name, (0, 0, 0, 0))
                per[name] = (n + len(jerks), fb + found[0], fh + found[1], fx + found[2])
        log("  real %s: %d variants" % (", ".join(r.name for r in recs), len(variants)))
    return board, host, cross, [(k,) + v for k, v in per.items()]


def _cell(value_n):
    value, n = value_n
    return "-" if not n else "%.2f (%d)" % (value, n)


def _false_cell(tally, ctx):
    rate, k, h = tally.false_rate(ctx)
    return "-" if not h else "%.1f (%d in %.2f h)" % (rate, k, h)


def format_sets(tallies):
    """The tables of docs/benchmarks.md for {label: KindTally}."""
    labels = list(tallies)
    head = "| %s | " + " | ".join(labels) + " | target |"
    rule = "|---|" + "---|" * len(labels) + "---|"
    out = []

    def table(title, first, rows):
        out.extend(["#### " + title, "", head % first, rule])
        for name, get, target in rows:
            out.append("| %s | %s | %s |" % (name, " | ".join(get(tallies[k]) for k in labels),
                                             target))
        out.append("")

    out.append("value (n): sensitivity (number of true jerks); false events: per hour "
               "(count in hours of that context).")
    out.append("")
    for label in labels:
        t = tallies[label]
        out.append("* %s: %.1f h, %d samples" % (label, t.seconds / 3600.0, t.samples))
    out.append("")
    table("Sensitivity per kind, at rest and asleep", "kind",
          [(r, lambda t, r=r: _cell(t.sensitivity(("kind", "rest+asleep", r))), ">= 0.95")
           for r in KIND_ROWS + ("all",)])
    table("Sensitivity per kind, during activity (walking, typing, tremor, car)", "kind",
          [(r, lambda t, r=r: _cell(t.sensitivity(("kind", "activity", r))),
            ">= 0.60" if r == "all" else "") for r in KIND_ROWS if r != "hypnic"]
          + [("all", lambda t: _cell(t.sensitivity(("kind", "activity", "all"))), ">= 0.60")])
    table("Per context", "context",
          [("sensitivity, " + c, lambda t, c=c: _cell(t.sensitivity(("context", c))),
            ">= 0.95" if c in ("rest", "asleep") else "") for c in CONTEXTS]
          + [("false events per hour, " + c, lambda t, c=c: _false_cell(t, c),
              "<= 0.2" if c in ("rest", "asleep") else "<= 5 (none > 20)") for c in CONTEXTS]
          + [("candidates offered by the board within %d ms of a true jerk, %s" % (MATCH_MS, c),
              lambda t, c=c: _cell(t.sensitivity(("offered", c))), "") for c in CONTEXTS]
          + [("share of the time reported as tremor, " + c,
              lambda t, c=c: _share(t, c), "<= 1 %" if c == "car" else "")
             for c in ("car", "tremor")])
    rows = []
    for g in ("rest+asleep", "activity"):
        for shape in ("monophasic", "biphasic", "damped", "lapse"):
            rows.append(("%s, shape %s" % (g, shape),
                         lambda t, g=g, s=shape: _cell(t.sensitivity(("shape", g, s))), ""))
    for g, where in (("rest+asleep", "awake at rest"), ("activity", "activity")):
        for corr in (False, True):
            rows.append(("%s, %s a corrective movement" % (where, "with" if corr else "without"),
                         lambda t, g=g, c=corr: _cell(t.sensitivity(("corrective", g, c))), ""))
    for corr in (False, True):
        rows.append(("awake at rest, single jerks %s a corrective movement"
                     % ("with" if corr else "without"),
                     lambda t, c=corr: _cell(t.sensitivity(("single, corrective",
                                                            "rest+asleep", c))), ""))
    for big in (False, True):
        rows.append(("rest+asleep, jerks of %s" % ("0.3-2 g" if big else "0.15-0.3 g"),
                     lambda t, b=big: _cell(t.sensitivity(("peak", "rest+asleep", b))), ""))
    for lo, hi in GAP_BINS:
        rows.append(("rest+asleep, later jerks of series and rhythms %.2f-%.2f s after the "
                     "previous" % (lo, hi),
                     lambda t, lo=lo, hi=hi: _cell(t.sensitivity(("gap", "rest+asleep", lo,
                                                                  hi))), ""))
    rows += [
        ("rest+asleep, jerks reaching >= 0.15 g in the samples",
         lambda t: _cell(t.sensitivity(("sampled >= 0.15 g", "rest+asleep"))), ">= 0.95"),
        ("negative jerks found and labelled negative, rest+asleep",
         lambda t: _cell(t.sensitivity(("labelled negative", "rest+asleep"))), ""),
        ("activity, jerks >= %gx the largest movement in the 3 s before" % STANDOUT,
         lambda t: _cell(t.sensitivity(("stands out", "activity"))), ""),
        ("activity, found as sure events (confidence >= %.1f)" % SURE,
         lambda t: _cell(t.sensitivity(("sure", "activity"))), ""),
        ("median peak-time error (ms)",
         lambda t: "%.1f (%d)" % (median(t.errors_ms), len(t.errors_ms)) if t.errors_ms
         else "-", "<= 10"),
    ]
    table("What the misses depend on", "measure", rows)
    causes = {}
    for t in tallies.values():
        for key, k in t.causes.items():
            causes[key] = causes.get(key, 0) + k
    rows = []
    for group in ("rest+asleep", "activity"):
        for key in sorted((k for k in causes if k[0] == group), key=lambda k: -causes[k]):
            rows.append(("%s: %s" % key, lambda t, key=key: _cause_cell(t, key), ""))
    table("What the false events were (per hour of rest+asleep, or of activity)", "cause",
          rows)
    return "\n".join(out)


def _cause_cell(tally, key):
    group = key[0]
    ctxs = ("rest", "asleep") if group == "rest+asleep" else ACTIVITY
    hours = sum(tally.hours.get(c, 0.0) for c in ctxs)
    k = tally.causes.get(key, 0)
    return "%.1f (%d)" % (k / hours, k) if hours else "-"


def _share(tally, ctx):
    h = tally.hours.get(ctx, 0.0)
    return "-" if not h else "%.1f %%" % (100.0 * tally.tremor_time.get(ctx, 0.0) / (3600 * h))


def format_real(board, host, cross, per_recording):
    out = ["### Real recordings with jerks added (shared/data/real)", ""]
    if board is None:
        out.append("(shared/data/real not found)")
        return "\n".join(out)
    out += ["%d variants of each recording, jerks of family A and B (seeds %s), %.2f h in all; "
            "quietest seconds: the lowest 25 %% of seconds by activity; ordinary activity: "
            "the 25th to 95th percentile. Each cell: the board's decision / after the host's "
            "judgement of each sensor alone / with the other sensors worn at once (Daphnet's "
            "three; the Axivity recordings are alone)."
            % (len(REAL_VARIANTS), ", ".join(str(s) for s in REAL_VARIANTS),
                            board.seconds / 3600.0), "",
            "| kind | quietest seconds | ordinary activity | all | target |",
            "|---|---|---|---|---|"]

    def both(key):
        return "%s / %s / %s" % (_cell(board.sensitivity(key)), _cell(host.sensitivity(key)),
                                 _cell(cross.sensitivity(key)))

    for r in KIND_ROWS + ("all",):
        if r == "hypnic":
            continue
        out.append("| %s | %s | %s | %s | %s |" % (
            r, both(("kind", "rest+asleep", r)), both(("kind", "activity", r)),
            both(("kind", "all", r)), ">= 0.95 / >= 0.50" if r == "all" else ""))
    out.append("| jerks >= %gx the largest movement in the 3 s before | %s | %s | | |"
               % (STANDOUT, both(("stands out", "rest+asleep")),
                  both(("stands out", "activity"))))
    rates = []
    for t in (board, host, cross):
        rate, k, h = t.false_rate("real")
        rates.append("%.1f (%d in %.2f h)" % (rate, k, h))
    out.append("| events matching no added jerk, per hour | | | %s | <= 5 |" % " / ".join(rates))
    out.append("| candidates offered by the board within %d ms of an added jerk | %s | %s | "
               "%s | |" % (MATCH_MS, _cell(board.sensitivity(("offered group", "rest+asleep"))),
                           _cell(board.sensitivity(("offered group", "activity"))),
                           _cell(board.sensitivity(("offered group", "all")))))
    out += ["", "| recording | jerks added | found by the board | host, alone | host, with "
            "the others |", "|---|---|---|---|---|"]

    def share(k, n):
        return "%d (%.2f)" % (k, k / n if n else float("nan"))

    for name, n, fb, fh, fx in per_recording:
        out.append("| %s | %d | %s | %s | %s |" % (name, n, share(fb, n), share(fh, n),
                                                   share(fx, n)))
    out += ["", format_calibration({"real recordings, alone": host,
                                    "real recordings, with the others": cross})]
    return "\n".join(out)


def format_calibration(tallies):
    """Calibration of the host's confidence: of the candidates given about p, the share that
    were true jerks, per set."""
    labels = [k for k, t in tallies.items() if t.scored]
    out = ["#### Calibration of the host's confidence (every candidate, kept or not)", "",
           "| confidence | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    tables = {}
    for k in labels:
        p, y = zip(*tallies[k].scored)
        tables[k] = calibration(p, y)
    for i in range(10):
        lo, hi = tables[labels[0]][i][:2] if labels else (i / 10, (i + 1) / 10)
        cells = []
        for k in labels:
            _, _, n, share = tables[k][i]
            cells.append("%.2f (%d)" % (share, n) if n else "-")
        out.append("| %.1f-%.1f | %s |" % (lo, hi, " | ".join(cells)))
    out.append("")
    return "\n".join(out)


def sets_for(seed_sets):
    """The sets to run for detect.main's seed sets ("tuning", "held-out")."""
    out = ["tuning seeds"] if "tuning" in seed_sets else []
    return out + (["held-out seeds", "held-out family"] if "held-out" in seed_sets else [])


def main(settings=None, log=print, sets=tuple(SETS), real=True):
    """Run the sets and the augmented real recordings; return the tables as text. Every set
    is shown twice: the board's own decisions, and the events after the host's judgement
    (judge/, fitted on the tuning seeds only)."""
    started = time.perf_counter()
    tallies = {}
    hosts = {}
    for label in sets:
        family, seeds = SETS[label]
        log("independent generator, %s (family %s, seeds %s):" % (label, family, seeds))
        board, host = run_set(family, seeds, settings, log)
        tallies[label + ", board"] = board
        tallies[label + ", host"] = host
        hosts[label] = host
    parts = ["### Independent generator: tuning seeds, held-out seeds, held-out family", "",
             "Each set twice: the board's own decisions, then after the host's judgement.", "",
             format_sets(tallies), "", format_calibration(hosts)]
    if real:
        log("real recordings with jerks added:")
        parts.append(format_real(*run_real(settings, log)))
    log("(independent benchmark took %.0f s)" % (time.perf_counter() - started))
    return "\n".join(parts)
