"""Device clocks that drift: after 12 simulated hours with a 100 ppm clock error, events
from two devices agree within 20 ms once mapped to UTC."""
import random

import pytest

from jerklog.boards.clock import ClockModel

HOUR_MS = 3600000


def simulate(ppm, seed, hours=12, boot_at_ms=1763677800000, jump=None):
    """A board whose crystal runs ppm fast, heartbeats every second received after a random
    USB/host delay (mostly 1-4 ms, sometimes 50-300 ms). Returns the fitted model and a
    function true UTC ms -> device uptime ms."""
    rng = random.Random(seed)
    model = ClockModel()
    rate = 1 + ppm * 1e-6
    for s in range(int(hours * 3600)):
        true_ms = boot_at_ms + 1000 * s
        uptime = int((true_ms - boot_at_ms) * rate)
        delay = rng.uniform(1, 4) if rng.random() < 0.9 else rng.uniform(50, 300)
        host = true_ms + delay
        if jump and true_ms - boot_at_ms >= jump[0]:
            host += jump[1]
        model.add(uptime, int(host))
    return model, lambda t: int((t - boot_at_ms) * rate)


@pytest.mark.parametrize("seed", range(5))
def test_two_drifting_devices_agree_after_twelve_hours(seed):
    a, up_a = simulate(+100, seed)
    b, up_b = simulate(-100, seed + 100, boot_at_ms=1763677800000 + 4321)
    event = 1763677800000 + 12 * HOUR_MS - 30000   # a generalised jerk near the end
    t_a = a.to_host_ms(up_a(event))
    t_b = b.to_host_ms(up_b(event))
    assert abs(t_a - t_b) <= 20
    assert abs(t_a - event) <= 20 and abs(t_b - event) <= 20
    assert a.drift_ppm() == pytest.approx(100, abs=5)
    assert b.drift_ppm() == pytest.approx(-100, abs=5)


def test_a_host_clock_jump_is_followed_and_counted():
    model, up = simulate(50, 1, hours=2, jump=(HOUR_MS, 2000))
    end = 1763677800000 + 2 * HOUR_MS - 1000
    assert abs(model.to_host_ms(up(end)) - (end + 2000)) <= 20  # the new host time
    assert model.corrections >= 1                               # recorded, not hidden


def test_a_correction_is_stored_and_reaches_the_report(tmp_db, tmp_path):
    """Heartbeats through the ingest: when the host's clock jumps 2 s, the correction is
    stored, and the diary and report say so."""
    from jerklog.boards.decoder import FrameDecoder
    from jerklog.boards.ingest import Ingest
    from jerklog.diary import Diary
    from jerklog.exports.report import write_report
    from jerklog.firmware import protocol
    from jerklog.store.database import Store
    out = []
    w = protocol.FrameWriter(lambda b, n: out.append(bytes(b[:n])), 2, 3)
    w.hello(208, 0, 0, "0.1.0", "sim", "sim", "trunk")
    host = []
    for s in range(0, 3 * 3600, 5):
        w.heartbeat(1000 * s, 208 * s, 0, 0)
        host.append(1763677800000 + 1000 * s + 3 + (2000 if s >= 3600 else 0))
        if s % 600 == 300:
            w.event(1000 * s + 100, 40, 500, 0, 1, 1, 1, 1, 200, 5)
            host.append(host[-1] + 60)
    recs = FrameDecoder().feed(b"".join(out))
    with Store(tmp_db) as store:
        ing = Ingest(store)
        ing.handle(recs[0], host_ms=host[0])
        for r, h in zip(recs[1:], host):
            ing.handle(r, host_ms=h)
        store.commit()
        (c,) = store.clock_corrections()
        assert 1900 <= c["shift_ms"] <= 2100
        assert Diary(store).quality()["clock_corrections"] == 1
        path = tmp_path / "r.html"
        write_report(store, str(path), None, None)
        assert "1 jumps of a board clock" in path.read_text()
