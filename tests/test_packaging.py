"""Packaging as users meet it: one version, `python -m jerklog`, extras named when missing."""
import importlib.metadata
import os
import subprocess
import sys

import pytest

import jerklog
from jerklog import JerklogError, extras
from jerklog_firmware import version

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_one_version_for_the_board_the_package_and_the_command():
    assert jerklog.__version__ == version.VERSION
    assert importlib.metadata.version("jerklog") == version.VERSION
    proc = subprocess.run([sys.executable, "-m", "jerklog", "--version"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "jerklog " + version.VERSION


def test_the_version_is_written_once():
    import re
    literal = re.compile(r"[\"']\d+\.\d+\.\d+[\"']")
    found = []
    for root in ("host", "firmware"):
        for dirpath, _, files in os.walk(os.path.join(REPO, root)):
            for name in files:
                path = os.path.join(dirpath, name)
                if name.endswith(".py") and literal.search(open(path, encoding="utf-8").read()):
                    found.append(os.path.relpath(path, REPO))
    assert found == [os.path.join("firmware", "jerklog_firmware", "version.py")]
    assert "version = " not in open(os.path.join(REPO, "pyproject.toml")).read().split(
        "[project.optional-dependencies]")[0]


def test_a_licence_file_matches_the_declared_licence():
    text = open(os.path.join(REPO, "LICENSE"), encoding="utf-8").read()
    assert text.startswith("MIT License")
    assert 'license = "MIT"' in open(os.path.join(REPO, "pyproject.toml")).read()


def test_a_missing_extra_is_named():
    with pytest.raises(JerklogError, match=r"pip install 'jerklog\[report\]'"):
        extras.require("no_such_module_here", "report", "the report")


def test_report_without_matplotlib_is_one_line_naming_the_extra(tmp_path):
    # A Python in which matplotlib cannot be imported, as after `pip install jerklog`.
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from jerklog.cli.main import main\n"
            "sys.exit(main(sys.argv[1:]))")
    db = str(tmp_path / "s.sqlite3")
    from jerklog.store import Store
    Store(db).close()
    out = tmp_path / "r.pdf"
    proc = subprocess.run([sys.executable, "-c", code, "report", "--db", db, "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "pip install 'jerklog[report]'" in proc.stderr
    assert not out.exists()
