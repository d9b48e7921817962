"""The .gt3x reader against ActiGraph's own reader, pygt3x (PyPI), on the same files: runs
only where pygt3x is installed (it is not a dependency of jerklog; docs/import.md says how
it was run). Files written here from the format's documentation, as test_import_formats."""
import numpy as np
import pytest

from jerklog.recordings.gt3x import open_gt3x
from test_import_formats import signal, write_gt3x

pygt3x_reader = pytest.importorskip("pygt3x.reader")


@pytest.mark.parametrize("activity2, serial", [(False, "NEO1C16110020"),
                                               (True, "MOS2E1234567")])
def test_gt3x_reader_equals_pygt3x(tmp_path, activity2, serial):
    rate = 50
    p = str(tmp_path / "x.gt3x")
    write_gt3x(p, signal(120 * rate, rate, seed=3) * 2.5, rate, serial=serial,
               activity2=activity2, info_scale=True, zeros=False)  # pygt3x stops at zeros
    lf = open_gt3x(p)
    ours = [c for c in lf.chunks()]
    t = np.concatenate([c.t_us for c in ours]) / 1e6 + lf.start_ms / 1000.0
    acc = np.concatenate([c.acc_mg for c in ours])
    with pygt3x_reader.FileReader(p) as reader:
        df = reader.to_pandas()
    assert len(df) == len(t)
    assert np.allclose(df.index.to_numpy(dtype=float), t, atol=1e-6)
    theirs = np.round(df[["X", "Y", "Z"]].to_numpy(dtype=float) * 1000).astype(np.int64)
    assert np.abs(theirs - acc).max() <= 1  # they keep float32 g: at most 1 mg apart


def _skdh():
    return pytest.importorskip("skdh.io")


def test_geneactiv_reader_equals_scikit_digital_health(tmp_path):
    from jerklog.recordings.geneactiv import open_geneactiv
    from test_import_formats import write_geneactiv
    skdh_io = _skdh()
    p = str(tmp_path / "g.bin")
    write_geneactiv(p, signal(3000, 100, seed=5) * 3.0, 100)
    lf = open_geneactiv(p)
    chunks = list(lf.chunks())
    t = np.concatenate([c.t_us for c in chunks]) / 1e6 + lf.start_ms / 1000.0
    acc = np.concatenate([c.acc_mg for c in chunks])
    res = skdh_io.ReadBin().predict(file=p)
    assert len(res["time"]) == len(t)
    assert np.allclose(res["time"], t, atol=1e-6)  # naive local time, as start_ms
    assert np.abs(np.round(res["accel"] * 1000).astype(np.int64) - acc).max() <= 1


@pytest.mark.parametrize("name, repaired", [("ax3_testfile.cwa", 0),
                                            ("ax6_testfile.cwa", 1024)])
def test_cwa_reader_against_scikit_digital_health(name, repaired):
    """The same samples (but the AX6's first 1024, whose exchanged triples load_cwa puts back:
    axivity._find_axis_slips); times within 20 ms (skdh spreads each block's samples over
    its own timestamps, load_cwa interpolates between blocks' references)."""
    from jerklog.recordings.cwa_stream import open_cwa
    from test_import_formats import AXIVITY
    skdh_io = _skdh()
    path = "%s/%s" % (AXIVITY, name)
    lf = open_cwa(path)
    chunks = list(lf.chunks())
    t = np.concatenate([c.t_us for c in chunks]) / 1e6 + lf.start_ms / 1000.0
    acc = np.concatenate([c.acc_mg for c in chunks])
    res = skdh_io.ReadCwa().predict(file=path)
    assert len(res["time"]) == len(t)
    theirs = np.round(res["accel"] * 1000).astype(np.int64)
    same = np.all(np.abs(theirs - acc) <= 1, axis=1)
    assert same[repaired:].all() and not same[:repaired].any()
    assert np.abs(res["time"] - t).max() < 0.02
