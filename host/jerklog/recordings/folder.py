"""Every recording a folder holds that a reader here understands (the benchmark's real set
in shared/data/real, or a folder of a cohort's files)."""
import os

from jerklog.recordings.axivity import load_cwa
from jerklog.recordings.daphnet import DAPHNET_LOCATIONS, _daphnet_recordings, _is_daphnet_csv
from jerklog.recordings.recording import file_error


def real_recordings(data_dir) -> list:
    """Every recording found (recursively) under ``data_dir``, sorted by file path.

    ``*.cwa`` files give one Recording each; Daphnet CSVs (recognised by their header)
    give three, in the order ankle, thigh, trunk. Other files are ignored; a matching
    file that fails to decode raises its ValueError.
    """
    data_dir = os.fspath(data_dir)
    if not os.path.isdir(data_dir):
        raise file_error(data_dir, "not a directory")
    found = []
    for root, dirs, files in os.walk(data_dir):
        dirs.sort()
        for fn in sorted(files):
            found.append(os.path.join(root, fn))
    out = []
    for p in sorted(found):
        low = p.lower()
        if low.endswith(".cwa"):
            out.append(load_cwa(p))
        elif low.endswith(".csv") and _is_daphnet_csv(p):
            out.extend(_daphnet_recordings(p, list(DAPHNET_LOCATIONS)))
    return out
