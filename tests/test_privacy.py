"""Health data stays private: what jerklog writes is the user's alone, and nothing goes over
a network. The whole demo path runs in a network namespace with no network, and a guard in
every Python process records any attempt to open an internet connection."""
import os
import shutil
import stat
import subprocess
import sys

import pytest

GUARD = '''
import socket, os
_log = os.environ["JERKLOG_NET_LOG"]
def _refuse(self, address, *args):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        with open(_log, "a") as f:
            f.write("connect %r\\n" % (address,))
        raise OSError("network use refused by the privacy test")
    return _orig(self, address, *args)
_orig = socket.socket.connect
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
'''


def run_offline(args, env, cwd):
    cmd = [sys.executable, "-m", "jerklog"] + args
    if shutil.which("unshare"):
        probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
        if probe.returncode == 0:
            cmd = ["unshare", "-n"] + cmd
        else:
            pytest.skip("cannot make a network namespace here: %s" % probe.stderr.decode())
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_demo_path_runs_without_network_and_writes_private_files(tmp_path):
    guard_dir = tmp_path / "guard"
    guard_dir.mkdir()
    (guard_dir / "sitecustomize.py").write_text(GUARD)
    net_log = tmp_path / "net.log"
    env = dict(os.environ, JERKLOG_NET_LOG=str(net_log),
               PYTHONPATH=str(guard_dir) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               XDG_DATA_HOME=str(tmp_path / "data"))
    env.pop("JERKLOG_DB", None)  # the default store in the (new) platform data directory
    out = tmp_path / "out"
    out.mkdir()
    steps = [
        ["simulate", "--scenario", "rest", "--minutes", "3", "--devices", "2",
         "--start", "2026-11-20T22:30:00+01:00"],
        ["export", "--format", "csv", "--out", str(out / "diary.csv")],
        ["export", "--format", "summary", "--out", str(out / "summary.csv")],
        ["export", "--format", "edf", "--out", str(out / "jerks.edf")],
        ["report", "--out", str(out / "report.html")],
        ["note", "add", "--kind", "medication", "--name", "clonazepam", "--dose", "0.5 mg"],
    ]
    for args in steps:
        proc = run_offline(args, env, str(tmp_path))
        assert proc.returncode == 0, (args, proc.stderr)
    assert not net_log.exists(), net_log.read_text()

    store_dir = tmp_path / "data" / "jerklog"
    written = [store_dir / "jerklog.sqlite3"] + sorted(out.iterdir())
    for path in written:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    assert stat.S_IMODE(os.stat(store_dir).st_mode) == 0o700


def test_the_guard_would_catch_a_connection(tmp_path):
    """The guard above is real: a process that tries to connect is recorded."""
    guard_dir = tmp_path / "guard"
    guard_dir.mkdir()
    (guard_dir / "sitecustomize.py").write_text(GUARD)
    net_log = tmp_path / "net.log"
    env = dict(os.environ, JERKLOG_NET_LOG=str(net_log), PYTHONPATH=str(guard_dir))
    subprocess.run([sys.executable, "-c", "import socket\ntry:\n"
                    "    socket.create_connection(('192.0.2.1', 80), timeout=1)\n"
                    "except OSError:\n    pass"], env=env, timeout=30)
    assert "192.0.2.1" in net_log.read_text()
