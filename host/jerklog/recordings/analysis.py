"""Offline analysis on the host: the firmware's detector over a raw recording, no serial."""
from jerklog import JerklogError
from jerklog.events import COLUMN_NAMES, format_value, from_detector, from_wire
from jerklog.files import atomic_output
from jerklog.firmware import detector
from jerklog.recordings.rawfile import RawSamples, iter_rows


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


def analyze_file(raw_path, settings=None, progress=None):
    """Yield (header info, event) for a raw CSV: events as dicts with t (s, input clock)."""
    det = None
    has_gyro = False
    for reader, chunk in iter_rows(raw_path):
        if det is None:
            try:
                det = detector.Detector(reader.rate_hz, settings)
            except ValueError as e:
                raise JerklogError("%s: %s" % (raw_path, e))
            t0 = reader.t0_us
            has_gyro = reader.has_gyro
        t_ms = ((chunk[:, 0] - t0 + 500) // 1000).tolist()  # rawcsv.to_ms, vectorised
        for row in run_detector(det, t_ms, chunk[:, 1:].tolist(), reader.has_gyro):
            row["t"] = seconds_text(t0 + 1000 * row.pop("t_ms"))
            yield row
        if progress:
            progress(det.samples, reader.rate_hz)
    if det is not None:
        for row in flush_detector(det, has_gyro):
            row["t"] = seconds_text(t0 + 1000 * row.pop("t_ms"))
            yield row


def seconds_text(t_us: int) -> str:
    """Seconds with ms precision (or us where the input clock has sub-ms origin)."""
    sign = "-" if t_us < 0 else ""
    t_us = abs(t_us)
    if t_us % 1000 == 0:
        return "%s%d.%03d" % (sign, t_us // 1000000, (t_us // 1000) % 1000)
    return "%s%d.%06d" % (sign, t_us // 1000000, t_us % 1000000)


def write_events_csv(raw_path: str, out_path: str, region: str | None = None,
                     settings: dict | None = None, progress=None) -> int:
    """analyze: events of raw_path into out_path (atomically); return the number of events."""
    columns = ["t"] + list(COLUMN_NAMES) + (["region"] if region else [])
    n = 0
    with atomic_output(out_path, newline="") as f:
        f.write(",".join(columns) + "\n")
        # As a board worn there would: the posture axis follows the region.
        settings = detector.for_region(settings, region or "unknown")
        for ev in analyze_file(raw_path, settings, progress):
            if region:
                ev["region"] = region
            f.write(",".join(format_value(ev[c]) for c in columns) + "\n")
            n += 1
    return n
