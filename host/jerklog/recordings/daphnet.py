"""The Daphnet Freezing-of-Gait CSV export (as shipped in the ``aeon`` package): one Recording
per body location (ankle, thigh, trunk), read by load_daphnet."""
import csv
import os

import numpy as np

from jerklog.recordings.recording import Recording, days_from_civil, file_error

DAPHNET_RATE_HZ = 64.0
DAPHNET_AXES = ("horiz_fwd", "vert", "horiz_lateral")
#: location -> column prefix in the file ("leg" is the thigh sensor)
DAPHNET_LOCATIONS = {"ankle": "ankle", "thigh": "leg", "trunk": "trunk"}


def _parse_clock(text):
    """'1970-01-01 00:04:40.015' or a plain number of milliseconds -> seconds."""
    text = text.strip()
    try:
        return float(text) / 1000.0
    except ValueError:
        pass
    date, _, clock = text.partition(" ")
    if not clock:
        date, _, clock = text.partition("T")
    y, mo, d = (int(p) for p in date.split("-"))
    hh, mm, ss = clock.split(":")
    days = int(days_from_civil(np.int64(y), np.int64(mo), np.int64(d)))
    return days * 86400.0 + int(hh) * 3600.0 + int(mm) * 60.0 + float(ss)


def _read_daphnet(path):
    path = os.fspath(path)
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise file_error(path, "empty file, expected a Daphnet CSV with a header row")
    header = [h.strip() for h in rows[0]]
    col = {h: i for i, h in enumerate(header)}
    needed = ["timestamp"] + [f"{p}_{a}" for p in DAPHNET_LOCATIONS.values()
                              for a in DAPHNET_AXES]
    missing = [c for c in needed if c not in col]
    if missing:
        raise file_error(path, f"missing column(s) {', '.join(missing)} in Daphnet CSV "
                         f"(header: {','.join(header)})")
    body = [r for r in rows[1:] if r and any(c.strip() for c in r)]
    if not body:
        raise file_error(path, "no data rows")
    t = np.empty(len(body))
    vals = np.empty((len(body), len(needed) - 1))
    label = np.zeros(len(body), dtype=np.int64)
    has_label = "is_anomaly" in col
    for i, r in enumerate(body):
        lineno = i + 2
        if len(r) < len(header):
            raise file_error(path, f"line {lineno}: {len(r)} fields, expected {len(header)}")
        try:
            t[i] = _parse_clock(r[col["timestamp"]])
            for j, name in enumerate(needed[1:]):
                vals[i, j] = float(r[col[name]])
            if has_label:
                label[i] = int(float(r[col["is_anomaly"]]))
        except ValueError as exc:
            raise file_error(path, f"line {lineno}: cannot parse ({exc})") from None
    if not np.all(np.isfinite(vals)):
        raise file_error(path, "non-finite acceleration values")
    if np.any(np.diff(t) <= 0):
        k = int(np.flatnonzero(np.diff(t) <= 0)[0])
        raise file_error(path, f"timestamp not increasing at line {k + 3}")
    return t, vals, label, needed[1:]


def load_daphnet(path, location) -> Recording:
    """One body location of a Daphnet Freezing-of-Gait CSV as a Recording.

    ``location`` is 'ankle', 'thigh' (the file's ``leg_*`` columns; 'leg' is accepted as an
    alias) or 'trunk'.

    Axis order of ``acc`` is the file's: column 0 = ``<loc>_horiz_fwd`` (horizontal
    forward), column 1 = ``<loc>_vert`` (vertical), column 2 = ``<loc>_horiz_lateral``
    (horizontal lateral). Values are converted from milli-g to g (divided by 1000).

    Time: ``timestamp`` is a clock since the start of the session (written as a 1970
    date-time, resolution 1 ms; a plain number is read as milliseconds). The stored
    values are the 64 Hz grid truncated to whole ms, so steps alternate 15/16 ms; when
    every timestamp is within 1.5 ms of ``t0 + i/64`` the exact grid ``i/64`` is used,
    otherwise the file's own times (relative to the first sample). ``info`` holds the
    session offset of the first sample (``t0_session_s``) and the freezing label
    (``is_anomaly``).
    """
    path = os.fspath(path)
    loc = "thigh" if location == "leg" else location
    if loc not in DAPHNET_LOCATIONS:
        raise file_error(path, f"unknown Daphnet location {location!r} "
                         f"(expected one of {sorted(DAPHNET_LOCATIONS)})")
    return _daphnet_recordings(path, [loc])[0]


def _daphnet_recordings(path, locations):
    t_file, vals, label, names = _read_daphnet(path)
    rel = t_file - t_file[0]
    grid = np.arange(rel.size) / DAPHNET_RATE_HZ
    regular = bool(np.max(np.abs(rel - grid)) < 1.5e-3)
    t = grid if regular else rel
    stem = os.path.splitext(os.path.basename(path))[0]
    out = []
    for loc in locations:
        prefix = DAPHNET_LOCATIONS[loc]
        cols = [names.index(f"{prefix}_{a}") for a in DAPHNET_AXES]
        out.append(Recording(
            name=f"{stem}_{loc}", t=t.copy(), acc=vals[:, cols] / 1000.0, gyro=None,
            rate_hz=DAPHNET_RATE_HZ, source=path, location=loc,
            info={"format": "daphnet", "axes": [f"{prefix}_{a}" for a in DAPHNET_AXES],
                  "t0_session_s": float(t_file[0]), "regular_grid": regular,
                  "is_anomaly": label.copy()},
        ))
    return out


def _is_daphnet_csv(path):
    try:
        with open(path, newline="") as fh:
            first = fh.readline()
    except (OSError, UnicodeDecodeError):
        return False
    cols = {c.strip() for c in first.split(",")}
    return "timestamp" in cols and "ankle_vert" in cols and "trunk_vert" in cols
