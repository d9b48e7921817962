"""EDF+ annotations of the diary, to lay the jerks over an EEG or a sleep study.

The file has no signals, only an 'EDF Annotations' channel (as EDFbrowser's own annotation
exports): one annotation per jerk (onset, duration, short text), one per series (spanning
it), per trigger mark, per note and per located sleep onset and waking. Onsets are seconds
from the header's start time; EDF has no time zone, so the start is written as local time in
the zone in force at that instant (tz), and the zone and its UTC offset go in the recording
field. Elapsed seconds are exact across a daylight-saving change or a change of zone; only
the header's clock reading depends on the zone. To align with an EEG, pass start_ms = the
EEG's start, so both files count seconds from the same instant.

    write_edf(store, out_path, from_ms=None, to_ms=None, tz=None, start_ms=None,
              name=None, dob=None, config=None, diary=None) -> dict
"""
import datetime as dt
import os
import shutil
import unicodedata
import warnings

import numpy as np

from jerklog import JerklogError, __version__
from jerklog.diary import Diary
from jerklog.extras import require
from jerklog.files import atomic_output, scratch_dir
from jerklog.localtime import Zones, offset_text
from jerklog.store.notes import describe

MAX_TEXT = 40          # edflib stores at most 40 characters of an annotation
EXTENT_TAG = {"generalised": "GEN", "multifocal": "MULTI", "focal": "FOCAL",
              "unclassified": "UNCL"}


def _ascii(text, limit=80):
    """EDF header text: printable ASCII, no spaces (edflib's rule)."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    text = "".join(ch if 32 < ord(ch) < 127 else "_" for ch in text.replace(" ", "_"))
    return text[:limit]


def _clip(text):
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "~"


def annotations(diary):
    """(onset Unix ms, duration s (-1: none), text) for everything worth marking, by time."""
    out = []
    J = diary.jerks
    for t, kind, ext, sites, nreg, peak, dur in zip(
            J["time_ms"].tolist(), J["kind"].tolist(), J["extent"].tolist(),
            J["site_text"].tolist(), J["n_regions"].tolist(), J["peak_g"].tolist(),
            J["duration_ms"].tolist()):
        where = ("%d regions" % nreg) if nreg >= 3 else sites
        peak_txt = "" if peak != peak else " %.2fg" % peak
        out.append((int(t), (dur / 1000.0) if dur == dur else -1,
                    _clip("%s %s%s %s" % (kind, EXTENT_TAG.get(ext, ext), peak_txt, where))))
    for s in diary.series.itertuples():
        out.append((int(s.start_ms), max(s.duration_s, 0.001),
                    _clip("series %d: %d jerks %.1f Hz %s" % (s.series, s.jerks,
                                                             s.rate_hz if s.rate_hz == s.rate_hz
                                                             else 0, s.rhythm))))
    ev = diary.events
    trig = ev[ev["kind"] == "trigger"]
    for t, site in zip(trig["time_ms"].tolist(), trig["site"].tolist()):
        out.append((int(t), -1, _clip("trigger button %s" % site)))
    for n in diary.notes.to_dict("records"):
        label = {"medication": "medication", "trigger": "trigger", "note": "note"}[n["kind"]]
        out.append((int(n["time_ms"]), -1, _clip("%s: %s" % (label, describe(n)))))
    for e in diary.sleep.itertuples():
        if e.onset_located:
            out.append((int(e.onset_ms), -1, "sleep onset (estimate)"))
        if e.waking_located:
            out.append((int(e.waking_ms), -1, "waking (estimate)"))
    out.sort(key=lambda a: a[0])
    return out


def write_edf(store, out_path: str, from_ms: int | None = None, to_ms: int | None = None, tz=None,
              start_ms: int | None = None, name: str | None = None, dob=None, config=None,
              diary: Diary | None = None) -> dict:
    """Write EDF+ annotations atomically (file private). Returns a dict: annotations written,
    start_ms, skipped (before start_ms), start_local (header time), zone."""
    pyedflib = require("pyedflib", "edf", "EDF+ export")

    d = diary or Diary(store, from_ms, to_ms, tz, config)
    zones = Zones(d.zones)
    marks = annotations(d)
    if start_ms is None:
        start_ms = from_ms if from_ms is not None else (marks[0][0] if marks else d.from_ms)
    start_ms = (int(start_ms) // 1000) * 1000   # EDF start times have whole seconds
    kept = [m for m in marks if m[0] >= start_ms]
    skipped = len(marks) - len(kept)
    off = int(zones.offsets_ms(np.array([start_ms]))[0])
    local = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=start_ms + off)
    if not (1985 <= local.year <= 2084):
        raise JerklogError("EDF+ start dates must lie in 1985..2084, not %d" % local.year)
    span_s = (kept[-1][0] - start_ms) / 1000.0 + 1 if kept else 1.0
    # Each data record carries one annotation; records of up to 60 s make the file's length
    # reach the last annotation wherever that is possible.
    record_s = int(min(60, max(1, np.ceil(span_s / max(len(kept), 1)))))
    # pyedflib writes by path: a private scratch folder in the data dir, which the next run
    # sweeps if this one is killed (files.scratch_dir), not the system temporary folder.
    tmpdir = scratch_dir("edf")
    try:
        tmp = os.path.join(tmpdir, "out.edf")
        w = pyedflib.EdfWriter(tmp, 0, file_type=pyedflib.FILETYPE_EDFPLUS)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                w.setStartdatetime(local)
                if name:
                    w.setPatientName(_ascii(name))
                if dob:
                    w.setBirthdate(dob if isinstance(dob, dt.date) else
                                   dt.date.fromisoformat(str(dob)))
                w.setEquipment(_ascii("jerklog_" + __version__))
                w.setRecordingAdditional(_ascii("%s UTC%s%s" % (
                    zones.name_at(start_ms), offset_text(off),
                    "" if zones.single else " zone_changes:elapsed_seconds_exact"), 60))
                w.set_number_of_annotation_signals(1)
                w.setDatarecordDuration(record_s)
            for t, dur, text in kept:
                w.writeAnnotation((t - start_ms) / 1000.0, dur, text)
        finally:
            w.close()
        with open(tmp, "rb") as src, atomic_output(out_path, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return dict(annotations=len(kept), skipped=skipped, start_ms=start_ms,
                start_local=local.isoformat(), zone=zones.name_at(start_ms),
                utc_offset=offset_text(off), record_s=record_s)
