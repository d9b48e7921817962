"""The recorder under load: several simulated boards streaming raw samples at a high rate into
one store, in real time; loss, CPU share and memory over the run (`jerklog bench load`)."""
import os
import time

from jerklog.firmware import protocol


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
    from jerklog.sim.device import SimDevice
    from jerklog.sim.generate import generate
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
            protocol.RAW_SAMPLES, out["events"], out["cpu_pct"], out["rss_start_mb"],
            out["rss_max_mb"], out["rss_end_mb"]))
    return out
