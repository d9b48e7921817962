"""The firmware's detector alone over samples on the host (tests and benchmarks compare with
it; `jerklog analyze` runs the board's whole loop and the host's judgement: judge/analyze.py)."""
from jerklog.events import from_detector, from_wire
from jerklog.firmware import detector
from jerklog.recordings.rawfile import RawSamples


def run_detector(det, t_ms, values, has_gyro):
    """Feed samples to a Detector; yield each event as a dict of EVENT_COLUMNS plus t_ms.

    t_ms: sample times (ms, device clock); values: rows of ax, ay, az (mg), gx, gy, gz
    (0.1 deg/s). Plain Python ints, as on the board.
    """
    update = det.update
    for t, v in zip(t_ms, values):
        if update(t, v[0], v[1], v[2], v[3], v[4], v[5]):
            yield _row(det, has_gyro)


def flush_detector(det, has_gyro):
    """End of the recording: yield the events the detector still holds (see Detector.flush)."""
    while det.flush():
        yield _row(det, has_gyro)


def _row(det, has_gyro):
    wire = from_detector(det)
    row = from_wire(wire, has_gyro)
    row["t_ms"] = wire["t_ms"]
    return row


def detect_samples(raw: RawSamples, settings: dict | None = None) -> list:
    """Events of an in-memory RawSamples recording (see rawfile), as run_detector yields."""
    det = detector.Detector(raw.rate_hz, settings)
    has_gyro = raw.gyro_ddps is not None
    events = list(run_detector(det, raw.t_ms().tolist(), raw.values().tolist(), has_gyro))
    return events + list(flush_detector(det, has_gyro))


def seconds_text(t_us: int) -> str:
    """Seconds with ms precision (or us where the input clock has sub-ms origin)."""
    sign = "-" if t_us < 0 else ""
    t_us = abs(t_us)
    if t_us % 1000 == 0:
        return "%s%d.%03d" % (sign, t_us // 1000000, (t_us // 1000) % 1000)
    return "%s%d.%06d" % (sign, t_us // 1000000, t_us % 1000000)
