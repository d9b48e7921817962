"""A cohort beyond one machine: every logger's file an import task on an existing engine
(dask.distributed), the results one Parquet dataset that pandas or DuckDB reads.

    python -m jerklog.bench.cohort DIR --out DATASET --region REGION [--scheduler ADDRESS]

Each task imports one file exactly as `jerklog import` does (the board's loop on the unix
port, then the host's judgement) into a private temporary store on its worker, and writes
DATASET/events/<file>.parquet (the judged events, one row each: device, boot, seq, device
time, UTC time, the event columns, region, board) and DATASET/epochs/<file>.parquet (the
board's 5 s epochs). A file's part is named by its content's identity (device and boot), so a
task run again replaces its own part and a cohort run again writes the same dataset.
`pandas.read_parquet("DATASET/events")` or DuckDB's `read_parquet('DATASET/events/*.parquet')`
read it whole. An optional extra: dask, distributed, pyarrow (not jerklog dependencies).
"""
import os
import sys
import tempfile

PARTS = ("events", "epochs")


def import_task(path, out_dir, region, device=None, tz_name=None) -> dict:
    """Import one file into a private store and write its Parquet parts; a summary dict
    (path, device_id, boot_id, samples, seconds, events, epochs, wall_s, judged: candidates
    the host judged, None if it could not). Raises on a bad
    file (the caller reports it; the other tasks go on)."""
    import pandas as pd

    from jerklog.judge.pipeline import judge_store
    from jerklog.localtime import zone
    from jerklog.sim.importer import import_file
    from jerklog.store import Store
    from jerklog.store.database import EPOCH_COLUMNS
    with tempfile.TemporaryDirectory(prefix="jerklog-cohort-") as tmp:
        with Store(os.path.join(tmp, "task.sqlite3")) as store:
            r = import_file(path, store, region, device, zone(tz_name) if tz_name else None)
            judged = _judge(store, judge_store)
            events = pd.DataFrame(list(store.events()))
            epochs = pd.DataFrame(store.epochs(), columns=list(EPOCH_COLUMNS))
    name = "%d-%d" % (r["device_id"], r["boot_id"])
    for part, df in zip(PARTS, (events, epochs)):
        df["source"] = os.path.basename(path)
        _write_parquet(df, os.path.join(out_dir, part), name)
    return dict(path=path, device_id=r["device_id"], boot_id=r["boot_id"],
                samples=r["samples"], seconds=r["seconds"], events=len(events),
                epochs=len(epochs), wall_s=r["wall_s"], judged=judged)


def _judge(store, judge_store):
    """The host's judgement, as `jerklog import` gives it; None if it failed (the board's
    decisions then stand, as in a store not rescored yet)."""
    try:
        with store.writing():
            if not store.begin(5.0):
                return None
            judged, _ = judge_store(store, pending_only=True)
            store.commit()
        return judged
    except Exception:  # noqa: BLE001 - the judge is optional to the dataset
        return None


def _write_parquet(df, folder, name):
    """folder/name.parquet, written beside and renamed into place (0600, as all jerklog
    writes): a reader never sees half a part."""
    os.makedirs(folder, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % name, suffix=".part", dir=folder)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            df.to_parquet(f, index=False)
        os.replace(tmp, os.path.join(folder, name + ".parquet"))
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def run_cohort(paths, out_dir, region, client, device=None, tz_name=None, report=print):
    """Every path a task on the dask.distributed client; report(line) once per file as it
    finishes, then return (summaries, errors). A failing file does not stop the others."""
    from distributed import as_completed
    os.makedirs(out_dir, mode=0o700, exist_ok=True)
    futures = {client.submit(import_task, p, out_dir, region, device, tz_name, pure=False): p
               for p in paths}
    done, errors = [], []
    for k, fut in enumerate(as_completed(list(futures)), 1):
        path = futures[fut]
        try:
            r = fut.result()
        except Exception as e:  # a bad file: its line, and the others go on
            errors.append((path, str(e)))
            report("[%d/%d] error: %s" % (k, len(paths), e))
            continue
        done.append(r)
        report("[%d/%d] %s: %d events, %d epochs, %.0f s of recording"
               % (k, len(paths), path, r["events"], r["epochs"], r["seconds"]))
    return done, errors


def main(argv=None):
    import argparse

    from jerklog.recordings.formats import files_in
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folder")
    p.add_argument("--out", required=True, metavar="DATASET")
    p.add_argument("--region", required=True)
    p.add_argument("--device")
    p.add_argument("--tz")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="a running dask scheduler (default: a LocalCluster on this machine)")
    args = p.parse_args(argv)
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        print("jerklog: error: the cohort runner needs dask.distributed and pyarrow "
              "(pip install dask distributed pyarrow)", file=sys.stderr)
        return 1
    paths = files_in(args.folder)
    if args.scheduler:
        client = Client(args.scheduler)
    else:
        client = Client(LocalCluster(threads_per_worker=1, processes=True))
    with client:
        done, errors = run_cohort(paths, args.out, args.region, client, args.device, args.tz)
    print("%d files: %d imported, %d failed; dataset %s (events/, epochs/)"
          % (len(paths), len(done), len(errors), args.out))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
