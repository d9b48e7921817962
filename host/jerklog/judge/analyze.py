"""`jerklog analyze` with the host's judgement: a raw recording through the board's own loop
(judge.capture), then judged as a recorded board's evidence is (judge.pipeline), so analyze
and the recorded path give the same events."""
from jerklog import JerklogError
from jerklog.events import COLUMN_NAMES, format_value
from jerklog.files import atomic_output
from jerklog.judge.capture import BoardInMemory
from jerklog.judge.pipeline import judged_events
from jerklog.recordings.analysis import seconds_text
from jerklog.recordings.rawfile import iter_rows


def analyze_judged(raw_path: str, settings: dict | None = None, region: str = "unknown",
                   progress=None, board_only: bool = False, units: str = "g") -> list:
    """Events of a raw CSV as dicts of EVENT_COLUMNS plus t (s, input clock, text): the host's
    judgement of every candidate, or the board's own decision (board_only). units: of the
    acceleration columns (rawfile.UNITS)."""
    board = None
    t0 = 0
    for reader, chunk in iter_rows(raw_path, units):
        if board is None:
            try:
                board = BoardInMemory(reader.rate_hz, reader.has_gyro, settings, region)
            except ValueError as e:
                raise JerklogError("%s: %s" % (raw_path, e))
            t0 = reader.t0_us
        t_ms = (chunk[:, 0] - t0 + 500) // 1000  # rawcsv.to_ms, vectorised
        board.feed(t_ms, chunk[:, 1:])
        if progress:
            progress(board.detector.samples, reader.rate_hz)
    if board is None:
        return []
    cap = board.finish()
    events = cap.events if board_only else judged_events(cap)
    out = []
    for e in events:
        row = {name: e[name] for name in COLUMN_NAMES}
        row["t"] = seconds_text(t0 + 1000 * e["t_ms"])
        out.append(row)
    return out


def write_judged_csv(raw_path: str, out_path: str, region: str | None = None,
                     settings: dict | None = None, progress=None,
                     board_only: bool = False, units: str = "g") -> int:
    """analyze: the events of raw_path into out_path (atomically); return how many."""
    columns = ["t"] + list(COLUMN_NAMES) + (["region"] if region else [])
    events = analyze_judged(raw_path, settings, region or "unknown", progress, board_only,
                            units)
    with atomic_output(out_path, newline="") as f:
        f.write(",".join(columns) + "\n")
        for ev in events:
            if region:
                ev["region"] = region
            f.write(",".join(format_value(ev[c]) for c in columns) + "\n")
    return len(events)
