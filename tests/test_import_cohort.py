"""The cohort runner (bench/cohort.py): import tasks on a dask.distributed LocalCluster of two
workers, one Parquet dataset of events and epochs that pandas (and DuckDB, where installed)
reads. An optional extra: runs only where dask, distributed and pyarrow are importable."""
import os
import shutil

import pytest

pytest.importorskip("pyarrow")
distributed = pytest.importorskip("distributed")

from jerklog.bench.cohort import _judge, run_cohort  # noqa: E402
from jerklog.judge.pipeline import judge_store  # noqa: E402
from jerklog.sim.importer import import_file  # noqa: E402
from jerklog.store import Store  # noqa: E402
from test_import_formats import AX3, AX6, signal, write_gt3x  # noqa: E402


def test_cohort_on_a_local_cluster_of_two_workers(tmp_path):
    import pandas as pd
    folder = tmp_path / "cohort"
    folder.mkdir()
    shutil.copy(AX3, folder / "p1.cwa")
    shutil.copy(AX6, folder / "p2.cwa")
    write_gt3x(str(folder / "p3.gt3x"), signal(90 * 30, 30), 30)
    (folder / "p4.cwa").write_bytes(b"not a cwa" + bytes(2000))
    paths = sorted(str(p) for p in folder.iterdir())
    out = str(tmp_path / "dataset")
    lines = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        done, errors = run_cohort(paths, out, "left_wrist", client, report=lines.append)
        again, _ = run_cohort(paths, out, "left_wrist", client, report=lambda _: None)
    assert len(done) == 3 and len(errors) == 1 and "p4.cwa: not an Axivity" in errors[0][1]
    assert len(lines) == 4 and sum("error:" in x for x in lines) == 1
    events = pd.read_parquet(os.path.join(out, "events"))
    epochs = pd.read_parquet(os.path.join(out, "epochs"))
    # the same events as `jerklog import` (and its judgement) stores, file by file; a
    # second run adds no rows
    want = 0
    for p in paths[:3]:
        with Store(str(tmp_path / ("%s.sqlite3" % os.path.basename(p)))) as s:
            import_file(p, s, "left_wrist")
            _judge(s, judge_store)
            want += len(list(s.events()))
    assert len(events) == sum(r["events"] for r in done) == want
    assert sorted(set(events["source"])) == ["p1.cwa", "p2.cwa", "p3.gt3x"]
    assert len(epochs) == sum(r["epochs"] for r in done) > 0
    assert {"time_ms", "kind", "peak_g", "region", "device_id"} <= set(events.columns)
    assert sorted((r["device_id"], r["boot_id"]) for r in again) == \
        sorted((r["device_id"], r["boot_id"]) for r in done)
    for part in ("events", "epochs"):
        files = os.listdir(os.path.join(out, part))
        assert len(files) == 3 and all(f.endswith(".parquet") for f in files)
        assert all(os.stat(os.path.join(out, part, f)).st_mode & 0o777 == 0o600
                   for f in files)
    duckdb = pytest.importorskip("duckdb")
    n = duckdb.sql("SELECT COUNT(*) FROM read_parquet('%s/events/*.parquet')" % out).fetchall()[0]
    assert n[0] == len(events)
