"""Which reader opens a logger's file: by its name's extension; each reader refuses, in one
line, a file that is not what its name says."""
import os

from jerklog.recordings.cwa_stream import open_cwa
from jerklog.recordings.geneactiv import open_geneactiv
from jerklog.recordings.gt3x import open_gt3x
from jerklog.recordings.logger import LoggerFile, open_csv
from jerklog.recordings.recording import file_error

OPENERS = {"cwa": open_cwa, "gt3x": open_gt3x, "geneactiv": open_geneactiv, "csv": open_csv}
READERS = {".cwa": "cwa", ".gt3x": "gt3x", ".bin": "geneactiv", ".csv": "csv"}


def open_logger(path, units="g") -> LoggerFile:
    """Open a logger's file by its extension (.cwa, .gt3x, .bin, .csv). units: a raw CSV's
    acceleration unit (rawfile.UNITS); the loggers' own formats state theirs."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    kind = READERS.get(ext)
    if kind is None:
        raise file_error(path, "not a file import reads (%s)" % ", ".join(sorted(READERS)))
    if not os.path.exists(path):
        raise file_error(path, "no such file")
    if not os.path.isfile(path):
        raise file_error(path, "not a regular file")
    if kind == "csv":
        return open_csv(path, units)
    if units != "g":
        raise file_error(path, "--units is for a raw CSV; a %s file states its own units"
                         % ext)
    return OPENERS[kind](path)


def files_in(folder) -> list:
    """The files import reads under folder (recursively, hidden ones left out), sorted."""
    found = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        found += [os.path.join(root, n) for n in sorted(names)
                  if os.path.splitext(n)[1].lower() in READERS and not n.startswith(".")]
    return sorted(found)
