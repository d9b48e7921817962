"""Several sensors worn at once, with truth (issue 12, item 3): the benchmark of the host's
judgement across sensors, printed by `jerklog bench detect` after the independent
generator's single-sensor sets.

Sessions of sim/independent/body.py (wrist, ankle and trunk of one wearer: rest with sitting
down fast, sleep with turning over, walking, a car ride), in the same three sets as
bench/independent.py: family A's tuning seeds (the only ones the cross-sensor term is
fitted on), its held-out seeds, and family B held out as a whole. Each sensor's candidates
are judged three ways: the board's own decision, the host's judgement of that sensor alone,
and the host's judgement with the other sensors (judge/cross.py, on one time axis with each
sensor's clock error of up to 8 ms, as after retime). Sensitivity per scope of jerk (focal,
multifocal, generalised), per context, false events per hour per context and per body-wide
movement, and the candidate recall: the share of true jerks for which the board offered any
candidate (kept or dropped) within the match window, the most the host can find.
"""
import time

from jerklog.bench.independent import (
    MATCH_MS,
    SETS,
    KindTally,
    _calibrate,
    _cell,
    _false_cell,
    board_capture,
    format_calibration,
    host_judged,
    rate_for,
)

# (session, minutes); every seed of a set runs each once, three sensors each.
BODY_SUITE = (("rest", 15), ("sleep", 40), ("walking", 8), ("car", 10))
BODY_CONTEXTS = ("rest", "asleep", "walking", "car")
SCOPE_ROWS = ("focal", "multifocal", "generalised")
WAYS = ("board", "host, alone", "host, with the others")


def body_captures(b, settings=None):
    """What each sensor of a BodySession would send, and their SensorViews on one axis."""
    from jerklog.judge.cross import views_of_captures
    caps = [board_capture(s.t, s.acc, s.gyro, s.region, settings) for s in b.sensors]
    return caps, views_of_captures(caps, b.clock_ms)


def run_body_set(family, seeds, settings=None, log=print, suite=BODY_SUITE):
    """{way: KindTally} over a set's body sessions (WAYS)."""
    from jerklog.sim.independent.body import body_session
    tallies = {w: KindTally() for w in WAYS}
    for seed in seeds:
        for index, (kind, minutes) in enumerate(suite):
            rate = rate_for(family, index, seed)
            t0 = time.perf_counter()
            b = body_session(family, kind, minutes, rate, seed)
            t1 = time.perf_counter()
            caps, views = body_captures(b, settings)
            n_true = n_board = n_alone = n_cross = 0
            for k, (s, cap) in enumerate(zip(b.sensors, caps)):
                alone, scored = host_judged(cap)
                cross, scored_x = host_judged(cap, views[:k] + views[k + 1:], b.clock_ms[k])
                spans = [(sp.start, sp.end, sp.context) for sp in s.spans]
                offered = [t for _, t in scored]
                for way, evs in zip(WAYS, (cap.events, alone, cross)):
                    tallies[way].add(s.jerks, spans, evs, s.t, s.acc, marks=s.marks,
                                     cands_ms=offered, scopes=True)
                    tallies[way].seconds += s.t[-1] - s.t[0]
                    tallies[way].samples += len(s.t)
                _calibrate(tallies[WAYS[1]], s.jerks, scored, 0.0)
                _calibrate(tallies[WAYS[2]], s.jerks, scored_x, 0.0)
                n_true += len(s.jerks)
                n_board += len(cap.events)
                n_alone += len(alone)
                n_cross += len(cross)
            log("  body %s %-7s %3.0f min %3d Hz seed %-3d: %3d true, %4d events, %4d alone, "
                "%4d with the others (generate %.1f s, boards and judge %.1f s)"
                % (family, kind, minutes, rate, seed, n_true, n_board, n_alone, n_cross,
                   t1 - t0, time.perf_counter() - t1))
    return tallies


BODY_CAUSES = ("step", "road bump", "turning over", "sitting down fast")


def _body_false(tally, what):
    """False events per hour that a body-wide movement caused (per hour of the contexts it
    happens in)."""
    ctxs = {"step": ("walking",), "road bump": ("car",), "turning over": ("asleep",),
            "sitting down fast": ("rest",)}[what]
    hours = sum(tally.hours.get(c, 0.0) for c in ctxs)
    k = sum(n for (g, cause), n in tally.causes.items() if cause == what)
    return "%.1f (%d in %.2f h)" % (k / hours, k, hours) if hours else "-"


def format_body(results):
    """results: {set label: {way: KindTally}} -> the tables as text."""
    out = ["### Several sensors worn at once (wrist, ankle, trunk)", "",
           "Each cell: the board's decision / the host judging each sensor alone / the host "
           "with the other sensors. value (n): sensitivity (number of true jerks, counted per "
           "sensor: a generalised jerk at three sensors is three).", ""]
    labels = list(results)
    for label in labels:
        t = results[label][WAYS[0]]
        out.append("* %s: %.1f sensor-hours, %d samples" % (label, t.seconds / 3600.0,
                                                            t.samples))
    out += ["", "| measure | " + " | ".join(labels) + " | target |",
            "|---|" + "---|" * len(labels) + "---|"]

    def row(name, get, target=""):
        cells = [" / ".join(get(results[lab][w]) for w in WAYS) for lab in labels]
        out.append("| %s | %s | %s |" % (name, " | ".join(cells), target))

    for group in ("rest+asleep", "activity"):
        for scope in SCOPE_ROWS:
            row("%s jerks, %s" % (scope, group),
                lambda t, g=group, s=scope: _cell(t.sensitivity(("scope", g, s))),
                ">= 0.95" if group == "rest+asleep" else ">= 0.60")
    for c in BODY_CONTEXTS:
        row("sensitivity, " + c, lambda t, c=c: _cell(t.sensitivity(("context", c))))
    for c in BODY_CONTEXTS:
        row("false events per hour, " + c, lambda t, c=c: _false_cell(t, c),
            "<= 0.2" if c in ("rest", "asleep") else "<= 5")
    for what in BODY_CAUSES:
        row("false events per hour from %s" % what, lambda t, w=what: _body_false(t, w))
    out.append("")
    out += ["Candidate recall: true jerks for which the board offered any candidate (kept or "
            "dropped) within %d ms; the host can find no more than these." % MATCH_MS, "",
            "| context | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for c in BODY_CONTEXTS:
        out.append("| %s | %s |" % (c, " | ".join(
            _cell(results[lab][WAYS[0]].sensitivity(("offered", c))) for lab in labels)))
    out += ["", format_calibration({"%s, with the others" % lab: results[lab][WAYS[2]]
                                    for lab in labels})]
    return "\n".join(out)


def main(settings=None, log=print, sets=tuple(SETS)):
    """Run the body sessions of the sets; return the tables as text."""
    started = time.perf_counter()
    results = {}
    for label in sets:
        family, seeds = SETS[label]
        log("several sensors, %s (family %s, seeds %s):" % (label, family, seeds))
        results[label] = run_body_set(family, seeds, settings, log)
    text = format_body(results)
    log("(several-sensor benchmark took %.0f s)" % (time.perf_counter() - started))
    return text
