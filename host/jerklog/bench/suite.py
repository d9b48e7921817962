"""Detector benchmark: generated scenarios with ground truth, and real recordings.

`jerklog bench detect` (and `make bench`) prints, per context category (rest, sleep,
walking, activity) and per jerk kind: sensitivity, false events per hour and the median
peak-time error. Two seed sets run: "tuning" (the seeds the detector settings were chosen
on) and "held-out" (never looked at while tuning), so over-fitting shows.
"""
import os
import time
from statistics import median

import numpy as np

from jerklog.recordings.analysis import detect_samples
from jerklog.firmware import protocol
from jerklog.recordings.rawfile import RawSamples

CATEGORIES = ("rest", "sleep", "walking", "activity")
MATCH_MS = 100       # a detection within this of a true peak is that jerk
MIN_REST_PEAK_G = 0.15  # the rest/sleep sensitivity target counts jerks this strong
SURE = 0.5           # events at or above this confidence are the report's "sure" ones

# (scenario, minutes, rate Hz, region, sensor); each runs once per seed of the set.
SUITE = (
    ("night", 480, 208, "wrist", "LSM6DS3TR-C"),
    ("sleep", 120, 100, "trunk", "MPU6886"),
    ("day", 60, 200, "wrist", "LSM6DSOX"),
    ("day", 60, 100, "ankle", "MPU-6050"),
    ("day", 60, 208, "trunk", "LSM6DSOX"),
    ("walking", 20, 200, "wrist", "LSM6DSOX"),
    ("walking", 20, 100, "ankle", "MPU6886"),
    ("activity", 20, 200, "wrist", "LSM6DSOX"),
    ("negative", 10, 200, "wrist", "LSM6DSOX"),
    ("mixed", 30, 416, "upper_arm", "LSM6DSOX"),
    ("rest", 10, 50, "trunk", "MPU-6050"),
    ("tremor", 3, 200, "wrist", "LSM6DSOX"),
)
SEED_SETS = {"tuning": (1, 2), "held-out": (101, 102)}


def match(truth_t_ms, det_t_ms, window_ms=MATCH_MS):
    """Greedy one-to-one matching by time, closest pairs first.

    Returns (pairs [(truth index, detection index)], unmatched detection indexes).
    """
    truth = np.asarray(truth_t_ms, dtype=float)
    det = np.asarray(det_t_ms, dtype=float)
    candidates = []
    if len(truth) and len(det):
        order = np.argsort(det)
        sorted_det = det[order]
        for i, t in enumerate(truth):
            lo = np.searchsorted(sorted_det, t - window_ms, "left")
            hi = np.searchsorted(sorted_det, t + window_ms, "right")
            for k in range(lo, hi):
                candidates.append((abs(sorted_det[k] - t), i, int(order[k])))
    candidates.sort()
    used_t, used_d, pairs = set(), set(), []
    for _, i, j in candidates:
        if i not in used_t and j not in used_d:
            used_t.add(i)
            used_d.add(j)
            pairs.append((i, j))
    unmatched = [j for j in range(len(det)) if j not in used_d]
    return pairs, unmatched


def visible_peaks_mg(raw, truth_t_ms, half_ms=60, lead_ms=400):
    """The peak each true jerk reaches in the sampled, band-limited signal: the largest
    |a - a(before)| within +-half_ms of the true peak, where a(before) is the mean over the
    lead_ms before it. The generator's peak_g is the physical transient before the sensor's
    filter; a short jerk sampled at 100 Hz can reach the samples at a third of it."""
    t = raw.t_ms()
    acc = raw.acc_mg
    out = []
    for tt in truth_t_ms:
        lo, hi = np.searchsorted(t, [tt - half_ms, tt + half_ms])
        b0 = np.searchsorted(t, tt - half_ms - lead_ms)
        if hi <= lo or lo <= b0:
            out.append(0.0)
            continue
        base = acc[b0:lo].mean(axis=0)
        out.append(float(np.sqrt(((acc[lo:hi] - base) ** 2).sum(axis=1)).max()))
    return out


class Tally:
    """Counts summed over many scenarios."""

    def __init__(self):
        self.truth = {}      # key -> number of true jerks
        self.found = {}      # key -> number detected
        self.false = {c: 0 for c in CATEGORIES}
        self.false_sure = {c: 0 for c in CATEGORIES}
        self.hours = {c: 0.0 for c in CATEGORIES}
        self.errors_ms = []
        self.tremor_s = 0.0
        self.tremor_jerks = 0     # false jerk events during tremor
        self.tremor_marks = 0     # tremor episodes reported during tremor
        self.seconds = 0.0
        self.samples = 0

    def _add(self, key, found):
        self.truth[key] = self.truth.get(key, 0) + 1
        self.found[key] = self.found.get(key, 0) + int(found)

    def add(self, scn, events, raw=None):
        jerks = [e for e in events if e["kind"] in ("jerk", "negative")]
        tremor = [e for e in events if e["kind"] == "tremor"]
        det_t = [e["t_ms"] for e in jerks]
        truth_t = [1000.0 * e.t for e in scn.truth]
        pairs, unmatched = match(truth_t, det_t)
        found = {i for i, _ in pairs}
        visible = None if raw is None else visible_peaks_mg(raw, truth_t)
        if raw is not None:
            t_s = raw.t_ms() / 1000.0
            acc_g = raw.acc_mg / 1000.0
        sure = {i for i, j in pairs if jerks[j]["confidence"] >= SURE}
        for i, j in pairs:
            self.errors_ms.append(abs(det_t[j] - truth_t[i]))
        for i, e in enumerate(scn.truth):
            hit = i in found
            self._add(("category", e.category), hit)
            self._add(("kind", e.kind), hit)
            if e.category in ("rest", "sleep") and e.peak_g >= MIN_REST_PEAK_G:
                self._add(("rest+sleep >= 0.15 g", ""), hit)
            if e.category in ("rest", "sleep") and visible is not None and \
                    visible[i] >= 1000 * MIN_REST_PEAK_G:
                self._add(("rest+sleep visible >= 0.15 g", ""), hit)
            if e.category in ("walking", "activity"):
                self._add(("activity", ""), hit)
                self._add(("activity, sure", ""), i in sure)
                if raw is not None and isolation_ratio(t_s, acc_g, e.t, after=False) \
                        >= STANDOUT_RATIO:
                    self._add(("activity, stands out", ""), hit)
        starts = np.array([s.start for s in scn.segments])
        for j in unmatched:
            k = max(0, int(np.searchsorted(starts, det_t[j] / 1000.0, "right")) - 1)
            seg = scn.segments[k]
            self.false[seg.category] += 1
            if jerks[j]["confidence"] >= SURE:
                self.false_sure[seg.category] += 1
            if seg.context == "tremor":
                self.tremor_jerks += 1
        for seg in scn.segments:
            self.hours[seg.category] += (seg.end - seg.start) / 3600.0
            if seg.context == "tremor":
                self.tremor_s += seg.end - seg.start
                self.tremor_marks += sum(1 for e in tremor
                                         if seg.start <= e["t_ms"] / 1000.0 < seg.end)
        self.seconds += scn.t[-1] - scn.t[0]
        self.samples += len(scn.t)

    def sensitivity(self, key):
        n = self.truth.get(key, 0)
        return (self.found.get(key, 0) / n, n) if n else (float("nan"), 0)


def run_suite(seeds, settings=None, log=print):
    from jerklog.sim.generate import generate
    tally = Tally()
    for name, minutes, rate, region, sensor in SUITE:
        for seed in seeds:
            t0 = time.perf_counter()
            scn, raw = generate(name, minutes, rate, seed, region, sensor)
            t1 = time.perf_counter()
            events = detect_samples(raw, settings)
            t2 = time.perf_counter()
            tally.add(scn, events, raw)
            log("  %-9s %5.0f min %4d Hz %-9s %-11s seed %-4d: %3d true, %4d events "
                "(generate %.1f s, detect %.1f s)" % (name, minutes, rate, region, sensor,
                                                      seed, len(scn.truth), len(events),
                                                      t1 - t0, t2 - t1))
    return tally


def real_data_dir():
    """shared/data/real beside the checkout (as in CI), or $JERKLOG_REAL_DATA."""
    env = os.environ.get("JERKLOG_REAL_DATA")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    for up in ("../../..", "../../../.."):
        path = os.path.normpath(os.path.join(here, up, "shared", "data", "real"))
        if os.path.isdir(path):
            return path
    return None


# shared/data/README.md: on the real recordings "every event found during walking is a false
# event unless it is a clearly sudden, isolated spike". Clearly isolated, here: its peak is at
# least SPIKE_RATIO times the largest dynamic acceleration within SPIKE_WINDOW_S before and
# after it (leaving out SPIKE_OWN_S either side: the spike's own samples). The measure does
# not use the detector, and the table shows such events apart, never hidden.
SPIKE_RATIO = 3.0
SPIKE_WINDOW_S = 3.0
SPIKE_OWN_S = 0.2
# During walking and daily activity, the bench also reports the jerks that stand out of the
# movement before them (by the same measure, looking back only): how many of the activity
# jerks a single sensor can tell from the movement at all, and how many of those are found.
STANDOUT_RATIO = 2.0


def isolation_ratio(t_s, acc_g, t_event_s, after=True):
    """Peak |a - local mean| within 50 ms of t_event_s over the largest one in the
    SPIKE_WINDOW_S either side (own SPIKE_OWN_S left out), or before it only if not `after`.
    t_s: (N,) s; acc_g: (N, 3) g."""
    lo, hi = np.searchsorted(t_s, [t_event_s - SPIKE_WINDOW_S - 0.5,
                                   t_event_s + SPIKE_WINDOW_S + 0.5])
    t = t_s[lo:hi]
    a = acc_g[lo:hi]
    rate = max(1, int(round(1.0 / np.median(np.diff(t)))))
    k = max(1, rate // 2)  # half-second moving mean: gravity and posture
    kernel = np.ones(k) / k
    mean = np.column_stack([np.convolve(a[:, i], kernel, "same") for i in range(3)])
    d = np.sqrt(((a - mean) ** 2).sum(axis=1))
    own = np.abs(t - t_event_s) <= 0.05
    around = (np.abs(t - t_event_s) <= SPIKE_WINDOW_S) & (np.abs(t - t_event_s) > SPIKE_OWN_S)
    if not after:
        around &= t < t_event_s
    if not own.any() or not around.any():
        return float("nan")
    return float(d[own].max() / max(d[around].max(), 1e-3))


def run_real(settings=None):
    """[(name, hours, events, isolated spikes)] for each real recording (all of it is daily
    movement)."""
    from jerklog.recordings.folder import real_recordings
    directory = real_data_dir()
    if not directory:
        return []
    out = []
    for rec in real_recordings(directory):
        raw = RawSamples.from_units(rec.t, rec.acc, rec.gyro)
        events = [e for e in detect_samples(raw, settings) if e["kind"] != "tremor"]
        t0 = rec.t[0]
        spikes = sum(1 for e in events
                     if isolation_ratio(rec.t, rec.acc, t0 + e["t_ms"] / 1000.0) >= SPIKE_RATIO)
        out.append((rec.name + " (" + rec.location + ")", rec.duration_s / 3600.0,
                    len(events), spikes))
    return out


def format_report(label, tally):
    lines = ["### %s seeds" % label, "",
             "%.1f h of generated recordings, %d samples" % (tally.seconds / 3600.0,
                                                             tally.samples), "",
             "| measure | value | n | target |", "|---|---|---|---|"]

    def row(measure, value, n, target):
        lines.append("| %s | %s | %s | %s |" % (measure, value, n, target))

    s, n = tally.sensitivity(("rest+sleep >= 0.15 g", ""))
    row("sensitivity at rest and asleep, true peak >= 0.15 g", "%.3f" % s, n, ">= 0.95")
    s, n = tally.sensitivity(("rest+sleep visible >= 0.15 g", ""))
    row("sensitivity at rest and asleep, peak in the samples >= 0.15 g", "%.3f" % s, n,
        ">= 0.95")
    s, n = tally.sensitivity(("activity", ""))
    row("sensitivity during activity (walking + other)", "%.3f" % s, n, ">= 0.70")
    for c in CATEGORIES:
        s, n = tally.sensitivity(("category", c))
        row("sensitivity, %s (all peaks)" % c, "%.3f" % s, n, "")
    for c in CATEGORIES:
        h = tally.hours[c]
        rate = tally.false[c] / h if h else float("nan")
        target = "<= 0.2" if c in ("rest", "sleep") else "<= 5"
        row("false events per hour, %s" % c, "%.2f" % rate, "%d in %.2f h" % (tally.false[c], h),
            target)
    s, n = tally.sensitivity(("activity, stands out", ""))
    row("sensitivity during activity, jerks >= %gx the largest movement in the %g s before"
        % (STANDOUT_RATIO, SPIKE_WINDOW_S), "%.3f" % s, n, "")
    s, n = tally.sensitivity(("activity, sure", ""))
    row("sensitivity during activity, sure events (confidence >= %.1f)" % SURE, "%.3f" % s,
        n, "")
    for c in ("walking", "activity"):
        h = tally.hours[c]
        row("false events per hour, %s, sure events" % c,
            "%.2f" % (tally.false_sure[c] / h if h else float("nan")),
            "%d in %.2f h" % (tally.false_sure[c], h), "")
    for kind in ("jerk", "series", "rhythmic", "negative", "hypnic"):
        s, n = tally.sensitivity(("kind", kind))
        row("sensitivity, kind %s" % kind, "%.3f" % s, n, "")
    err = median(tally.errors_ms) if tally.errors_ms else float("nan")
    row("median peak-time error", "%.1f ms" % err, len(tally.errors_ms), "<= 10 ms")
    row("jerk events during continuous tremor", "%d" % tally.tremor_jerks,
        "%.1f min" % (tally.tremor_s / 60.0), "0 (counted as tremor)")
    row("tremor episodes reported during tremor", "%d" % tally.tremor_marks, "", ">= 1")
    return "\n".join(lines)


def format_real(results):
    lines = ["### Real recordings (shared/data/real: no labelled jerks)", "",
             "An event counts as false unless it is an isolated spike (peak >= %g x anything "
             "within %g s either side; shared/data/README.md)." % (SPIKE_RATIO, SPIKE_WINDOW_S),
             "", "| recording | hours | events | of which isolated spikes | false per hour "
             "| target |", "|---|---|---|---|---|---|"]
    for name, hours, n, spikes in results:
        lines.append("| %s | %.3f | %d | %d | %.1f | <= 5 |" % (name, hours, n, spikes,
                                                              (n - spikes) / hours))
    if results:
        hours = sum(r[1] for r in results)
        n = sum(r[2] for r in results)
        spikes = sum(r[3] for r in results)
        lines.append("| all | %.3f | %d | %d | %.1f | <= 5 |" % (hours, n, spikes,
                                                               (n - spikes) / hours))
    else:
        lines.append("| (shared/data/real not found) | | | | | |")
    return "\n".join(lines)


def main(seed_sets=("tuning", "held-out"), settings=None, log=print):
    started = time.perf_counter()
    reports = []
    for label in seed_sets:
        log("%s seeds %s:" % (label, SEED_SETS[label]))
        reports.append(format_report(label, run_suite(SEED_SETS[label], settings, log)))
    reports.append(format_real(run_real(settings)))
    text = "\n\n".join(reports)
    print(text)
    log("(bench detect took %.0f s)" % (time.perf_counter() - started))
    return text


# -- firmware cost -----------------------------------------------------------------------
FIRMWARE_SCRIPT = """
import gc, sys, time, micropython
from array import array
from jerklog_firmware import detector, protocol
n = int(sys.argv[2])
rate = int(sys.argv[3])
samples = array('h', bytearray(12 * n))
times = array('i', bytearray(4 * n))
with open(sys.argv[1], 'rb') as f:
    f.readinto(samples)
    f.readinto(times)
det = detector.Detector(rate)
sent = [0]
def write(buf, k):
    sent[0] += k
w = protocol.FrameWriter(write, 0x3FFFFFFF, 0x3FFFFFFF)
def run(passes):
    p = 0
    events = 0
    while p < passes:
        base = p * (times[n - 1] + 5)
        i = 0
        while i < n:
            j = 6 * i
            t = base + times[i]
            if det.update(t, samples[j], samples[j + 1], samples[j + 2], samples[j + 3],
                          samples[j + 4], samples[j + 5]):
                w.event(det.ev_t_ms, det.ev_duration_ms, det.ev_peak_mg, det.ev_peak_ddps,
                        det.ev_kind, det.ev_axis, det.ev_context, det.ev_posture,
                        det.ev_confidence, det.ev_activity_mg)
                events += 1
            i += 1
        p += 1
    return events
run(1)  # warm up: the detector's history fills
gc.collect()
gc.disable()  # so the heap only grows: the difference is what the loop allocated
before = gc.mem_alloc()
t0 = time.ticks_us()
events = run(3)
us = time.ticks_diff(time.ticks_us(), t0)
allocated = gc.mem_alloc() - before
gc.enable()
print(us, allocated, 3 * n, events, sent[0])
"""

# Bytecode speed relative to this machine's unix port (DESIGN.md planning factors).
BOARD_FACTORS = (("RP2040 (Pico, Nano RP2040 Connect)", 150, 250),
                 ("ESP32 (M5StickC PLUS2)", 110, 130),
                 ("nRF52840 (XIAO Sense)", 330, 425))


def jerk_every_second(seconds, rate_hz, jerk_g=0.5):
    """A still wrist with a 60 ms jerk every second from 2 s on: a jerk is almost always
    waiting for its look-ahead, the detector's busiest steady state. RawSamples."""
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    acc = np.zeros((len(t), 3))
    acc[:, 0] = 1.0
    gyro = np.zeros((len(t), 3))
    for tj in np.arange(2.0, seconds - 0.5, 1.0):
        pulse = np.exp(-0.5 * ((t - tj) / 0.015) ** 2)
        acc[:, 2] += jerk_g * pulse
        gyro[:, 1] += 150.0 * pulse
    return RawSamples.from_units(t, acc, gyro)


def _cost_run(raw, rate_hz, runs):
    """(us per sample, bytes allocated per sample, samples, events) of FIRMWARE_SCRIPT."""
    import subprocess
    import tempfile
    from jerklog.sim.device import find_micropython, micropython_env
    n = len(raw)
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "s.bin")
        with open(data, "wb") as f:
            f.write(raw.values().astype("<i2").tobytes())
            f.write(raw.t_ms().astype("<i4").tobytes())
        script = os.path.join(tmp, "cost.py")
        with open(script, "w") as f:
            f.write(FIRMWARE_SCRIPT)
        results = []
        for _ in range(runs):
            out = subprocess.run([find_micropython(), "-X", "heapsize=192k", script, data,
                                  str(n), str(rate_hz)], env=micropython_env(),
                                 capture_output=True, text=True, check=True)
            results.append(tuple(map(int, out.stdout.split())))
    us, _, count, events, _ = min(results)
    allocated = max(r[1] for r in results)
    return us / count, allocated / count, count, events


def firmware_cost(rate_hz=208, seconds=15, runs=5, log=print):
    """Detector + frame writer per sample under micropython -X heapsize=192k, with gyro, on
    15 s of a generated day (ordinary wear) and on a jerk every second (a jerk always
    waiting for its look-ahead): microseconds (the fastest of `runs` runs, as other load
    only ever slows a run down) and bytes allocated per sample. Returns the day's pair."""
    from jerklog.sim.generate import generate
    _, day = generate("day", 1, rate_hz, 5, "wrist")
    k = int(seconds * rate_hz)
    day = RawSamples(day.t_us[:k], day.acc_mg[:k], day.gyro_ddps[:k])
    lines = ["### Firmware hot path (detector + frame writer), micropython -X heapsize=192k",
             "", "| load | samples | events | us/sample (this machine's unix port, fastest "
             "of %d runs) | bytes allocated/sample |" % runs, "|---|---|---|---|---|"]
    costs = []
    for label, raw in (("generated day, wrist", day),
                       ("a jerk every second", jerk_every_second(seconds, rate_hz))):
        per_sample, allocated, count, events = _cost_run(raw, rate_hz, runs)
        costs.append((label, per_sample, allocated))
        lines.append("| %s | %d | %d | %.2f | %.3f |" % (label, count, events, per_sample,
                                                        allocated))
    lines += ["", "| board (planning factor) | load | us/sample | CPU at 208 Hz | CPU at "
              "833 Hz |", "|---|---|---|---|---|"]
    for name, lo, hi in BOARD_FACTORS:
        for label, per_sample, _ in costs:
            lines.append("| %s (%d-%dx) | %s | %.0f-%.0f | %.1f-%.1f %% | %.1f-%.1f %% |" % (
                name, lo, hi, label, per_sample * lo, per_sample * hi,
                per_sample * lo * 208 / 1e4, per_sample * hi * 208 / 1e4,
                per_sample * lo * 833 / 1e4, per_sample * hi * 833 / 1e4))
    text = "\n".join(lines)
    print(text)
    return costs[0][1], costs[0][2]


# -- recorder under load -----------------------------------------------------------------
def _rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def load(devices=4, rate_hz=833, seconds=600, log=print):
    """Several simulated boards in real time at rate_hz, streaming raw samples as well as
    events, recorded at once by this process: frames lost, raw samples received, the
    recorder's CPU share of one core and its memory. Returns a dict of the figures."""
    import resource
    import tempfile
    import threading
    from jerklog.boards.recorder import PortRecorder
    from jerklog.recordings.rawstream import RawSink
    from jerklog.sim.generate import generate
    from jerklog.sim.device import SimDevice
    from jerklog.store.database import Store
    out = {}
    with tempfile.TemporaryDirectory(prefix="jerklog-load-") as tmp:
        streams = []
        expected = 0
        for k in range(devices):
            _, raw = generate("day", max(0.5, seconds / 60.0), rate_hz, 40 + k,
                              ("wrist", "trunk", "ankle", "upper arm")[k % 4])
            path = os.path.join(tmp, "d%d.jls" % k)
            raw.write_stream(path)
            streams.append(path)
            expected += len(raw)
        store = Store(os.path.join(tmp, "s.sqlite3"))
        sink = RawSink(os.path.join(tmp, "raw"))
        lock = threading.Lock()
        devs = [SimDevice(p, region="r%d" % k, device_id=k + 1, realtime=True)
                for k, p in enumerate(streams)]
        recs = [PortRecorder(d.port, store, until_goodbye=True, idle_timeout_s=60,
                             lock=lock, raw_sink=sink) for d in devs]
        threads = [threading.Thread(target=r.run) for r in recs]
        rss = [_rss_kb()]
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.monotonic()
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            time.sleep(1.0)
            rss.append(_rss_kb())
        wall = time.monotonic() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        for d in devs:
            d.close()
        sink.close()
        cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        out = dict(devices=devices, rate_hz=rate_hz, seconds=wall,
                   frames=sum(r.decoder.frames for r in recs),
                   rejected=sum(r.decoder.rejected for r in recs),
                   lost=sum(r.ingest.lost_records for r in recs),
                   raw_samples=sink.samples, samples=expected,
                   events=store.count_events(), cpu_pct=100.0 * cpu / wall,
                   rss_start_mb=rss[0] / 1024.0, rss_max_mb=max(rss) / 1024.0,
                   rss_end_mb=rss[-1] / 1024.0)
        store.close()
    log("### Recorder under load: %d boards at %d Hz, raw streaming, %.0f s" % (
        devices, rate_hz, out["seconds"]))
    log("frames %d, rejected %d, records lost %d; raw samples %d of %d sent (a last "
        "partial frame of < %d per board is not sent); events %d; recorder CPU %.1f %% of "
        "one core; memory %.1f MB at start, %.1f MB max, %.1f MB at end" % (
            out["frames"], out["rejected"], out["lost"], out["raw_samples"], out["samples"],
            protocol.RAW_SAMPLES, out["events"], out["cpu_pct"], out["rss_start_mb"], out["rss_max_mb"],
            out["rss_end_mb"]))
    return out
