"""The whole command line under generated input (issue 16, item 7).

Every subcommand build_parser() knows (new ones are found by themselves) is run in-process
with generated arguments over a fresh folder of files: a sound store, a damaged one,
another program's SQLite file, garbage, good and bad recordings, a folder, missing paths.
Whatever the arguments, the command must:

- exit 0, 1 or 2 and never raise (no traceback);
- on failure end with one `jerklog...: error: ...` line (argparse's usage errors included);
- leave no temporary file (.part, streams in the data dir), whatever the outcome;
- on failure, leave every file of the folder as it was (bytes) and add none.

Commands that would run for minutes or wait for hardware get bounded values: bench's
workloads are stubbed (their options are still parsed and checked), simulate never plays in
real time, and record is given only ports that cannot be a board.
"""
import argparse
import collections
import contextlib
import hashlib
import io
import os
import re
import shutil
import signal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import synthetic_recording
from jerklog.cli.main import build_parser, main
from test_store_tools import damage, foreign

START = "2025-11-20T22:30:00+00:00"


def leaf_commands(parser=None, prefix=()):
    """(words, parser) of every runnable subcommand, e.g. (("note", "add"), parser)."""
    parser = parser or build_parser()
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield prefix, parser
        return
    seen = set()
    for name, sub in subs[0].choices.items():
        if id(sub) not in seen:  # aliases name the same parser
            seen.add(id(sub))
            yield from leaf_commands(sub, prefix + (name,))


LEAVES = dict((" ".join(words), parser) for words, parser in leaf_commands())

# -- the folder each example runs in ---------------------------------------------------------
# Each pool is (good, odd): values a user means, and values that are wrong. An example is
# either all good or has one odd value, so most runs get past argparse into the command.
# {d} is the example's folder.
TIMES = (["2025-11-20", "2025-11-20T22:30", "2025-11-21T01:00:00+01:00", "2025-11-20T23:00Z"],
         ["0001-01-01", "9999-12-31T23:59", "1984-12-31", "2085-01-01", "20/11/2025",
          "tomorrow", "", "2025-13-40", "2025-11-20T25:00", "1e9", "-1"])
ODD_NUMBERS = ["-1", "2147483648", "9223372036854775808", "-9223372036854775809",
               "99999999999999999999", "1e3", "nan", "inf", "-inf", "1.5", "x", "", "0x10"]
NUMBERS = (["0", "1", "2", "3"], ODD_NUMBERS)
TEXTS = (["x", "levetiracetam", "500 mg", "Außenknöchel", "a" * 300, "'; DROP TABLE events"],
         ["", " ", "\u202eevil", "--", "-x", "\udcff"])
ZONES = (["UTC", "Europe/Berlin", "Asia/Kolkata", "local",
          "Europe/Berlin,2025-11-21T00:00=America/New_York"],
         ["Mars/Base", "", "Europe/Berlin,nonsense", ","])
REGIONS = (["wrist", "left arm", "trunk", "right_ankle"], ["", "elbow of the moon"])
DATES = (["1980-12-31"], ["31/12/1980", "1899-12-31", "2999-01-01", "", "1980-02-30"])
INPUTS = (["{d}/rec.csv"],
          ["{d}/ms2.csv", "{d}/bad.csv", "{d}/empty.csv", "{d}/garbage.bin", "{d}/folder",
           "{d}/missing.csv", "{d}/store.sqlite3", "{d}/ms2.csv"])
STORES = (["{d}/store.sqlite3"],
          ["{d}/damaged.sqlite3", "{d}/foreign.sqlite3", "{d}/garbage.bin",
           "{d}/missing.sqlite3", "{d}/folder", "{d}/nodir/s.sqlite3", "{d}/rec.csv"])
OUTPUTS = (["{d}/out.csv", "{d}/out.pdf", "{d}/out.html", "{d}/out.edf", "{d}/out.txt",
            "{d}/new.sqlite3"],
           ["{d}/nodir/out.csv", "{d}/folder", "{d}/store.sqlite3", "{d}/rec.csv",
            "{d}/store.sqlite3-wal"])
PORTS = ([], ["{d}/rec.csv", "{d}/folder", "/dev/null"])  # no board here: only non-ports
ITEMS = (["rate_hz=100", "region=trunk"], ["nonsense", "=", "rate_hz=-1"])

def make_folder(root, template):
    """The example's files: copies of the template's (built once per module)."""
    d = str(root)
    shutil.copytree(template, d, dirs_exist_ok=True)
    return d


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The files every example starts from; the sound store holds a simulated recording and
    one note."""
    d = tmp_path_factory.mktemp("template")
    raw = synthetic_recording(20, 100, (5.0, 12.0), jerk_g=0.6, seed=3)
    raw.write_csv(str(d / "rec.csv"))
    with open(d / "rec.csv") as f:  # the same recording in m/s^2
        header, *rows = f.read().splitlines()
    with open(d / "ms2.csv", "w") as f:
        f.write(header + "\n")
        for row in rows:
            t, *acc = row.split(",")
            f.write(",".join([t] + ["%.4f" % (float(v) * 9.80665) if i < 3 else v
                                    for i, v in enumerate(acc)]) + "\n")
    (d / "bad.csv").write_text("t,ax,ay,az\n0,0,0,1\n0.01,0,0,1\n0.005,0,0,1\n")
    (d / "empty.csv").write_text("")
    (d / "garbage.bin").write_bytes(bytes(range(256)) * 20)
    (d / "folder").mkdir()
    env = {"JERKLOG_DB": str(d / "store.sqlite3"), "XDG_DATA_HOME": str(d.parent / "xdg")}
    with _env(env), contextlib.redirect_stderr(io.StringIO()), \
            contextlib.redirect_stdout(io.StringIO()):
        assert main(["simulate", "--raw", str(d / "rec.csv"), "--start", START]) == 0
        assert main(["note", "add", "--text", "coffee", "--time", "2025-11-20T22:31Z"]) == 0
        assert main(["simulate", "--raw", str(d / "rec.csv"), "--start", START,
                     "--db", str(d / "damaged.sqlite3"), "--device-id", "2"]) == 0
    _pad_and_damage(str(d / "damaged.sqlite3"))
    foreign(str(d / "foreign.sqlite3"))
    return str(d)


def _pad_and_damage(path):
    """A store whose events pages are overwritten (enough events that there are pages)."""
    from jerklog.events import EVENT_COLUMNS
    from jerklog.store.database import Store
    with Store(path) as store:
        store.add_event_rows([(2, 9, i, i, 1763677800000 + i) + (None,) * len(EVENT_COLUMNS)
                              for i in range(3000)])
        store.commit()
    damage(path)


@contextlib.contextmanager
def _env(values):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# -- arguments --------------------------------------------------------------------------------
def _pool(command, action):
    """(good, odd) values to try for one argument of one command."""
    dest, type_ = action.dest, action.type
    name = getattr(type_, "__name__", "")
    if action.choices:
        return list(action.choices), ["nonsense"]
    if command == "record" and dest == "ports":
        return PORTS
    if command == "simulate" and dest == "minutes":  # a scenario of 30 s plays in a second
        return ["0.5", "0.6"], ["0", "-1", "nan", "1e9", "x"]
    if command == "bench" and dest in ("minutes", "rate", "devices"):
        return ["1", "2", "100"], ODD_NUMBERS
    if dest == "db":
        return STORES
    if dest in ("out", "save_raw"):
        return OUTPUTS
    if dest in ("raw", "path") or "csv" in str(action.metavar).lower():
        return INPUTS
    if dest in ("from_", "to", "time", "start", "edf_start"):
        return TIMES
    if dest == "tz":
        return ZONES
    if dest == "dob" or name == "birth_date_type":
        return DATES
    if name == "region_type":
        return REGIONS
    if dest == "items":
        return ITEMS
    if dest == "id":
        return ["1"], ["0"] + ODD_NUMBERS
    if type_ in (int, float) or name in ("seconds", "number") or dest == "jobs":
        return NUMBERS
    return TEXTS

def _skipped(command, action):
    """Arguments never given: help, and what would wait on a clock (real-time play)."""
    return isinstance(action, (argparse._HelpAction, argparse._VersionAction)) or \
        action.dest == "realtime" or type(action).__name__ == "_ListScenarios"


# Always given: a scenario's own length is up to 8 hours of simulation.
ALWAYS = {("simulate", "minutes")}


# True 19 times in 20 (st.integers would lean to its smallest value)
USUALLY = st.sampled_from([True] * 19 + [False])


@st.composite
def argv_for(draw, command, parser):
    """A command line for one subcommand: each argument given or not (a required one is
    left out now and then), all good values or one odd one."""
    given = []   # (action, how many values)
    for action in parser._actions:
        if _skipped(command, action):
            continue
        if not action.option_strings:  # positional: usually given
            if action.nargs in ("?", "*") and draw(st.booleans()):
                continue
            if draw(USUALLY):  # else missing: a usage error
                given.append((action, draw(st.integers(1, 2)) if action.nargs in ("*", "+")
                              else 1))
        elif (command, action.dest) in ALWAYS or draw(
                USUALLY if action.required else st.booleans()):
            given.append((action, 0 if action.nargs == 0 else 1))
    slots = sum(n for _, n in given)
    odd = draw(st.integers(-1, slots - 1)) if slots and draw(st.booleans()) else -1
    words, positionals, k = [], [], 0
    for action, n in given:
        good, bad = _pool(command, action)
        values = []
        for _ in range(n):
            values.append(draw(st.sampled_from(bad if k == odd or not good else good)))
            k += 1
        if action.option_strings:
            words += [draw(st.sampled_from(action.option_strings))] + values
        else:
            positionals += values
    return list(command.split()) + words + positionals

# -- what must hold ---------------------------------------------------------------------------
def snapshot(d):
    """{relative path: sha256} of every file under d (folders as None)."""
    found = {}
    for root, dirs, files in os.walk(d):
        for name in dirs:
            found[os.path.relpath(os.path.join(root, name), d)] = None
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, d)] = hashlib.sha256(f.read()).hexdigest()
    return found


ERROR_LINE = re.compile(r"^jerklog( [\w-]+)*: (error: \S|interrupted)")
TEMPORARY = re.compile(r"(\.part$|^tmp|\.jls$)")


def runs_until_stopped(parser):
    """A command that runs until Ctrl-C (record, review) says so in its description."""
    return "Ctrl-C" in (parser.description or "")


STOP_AFTER_S = 1.0    # a command that runs until stopped gets Ctrl-C after this
HANG_S = 30.0         # any other command still running after this hangs


def run(argv, d, xdg, limit_s=HANG_S):
    """(exit status, stdout, stderr, stopped) of `jerklog argv` in-process, with Ctrl-C
    (SIGINT) after limit_s; a raised exception fails the test."""
    out, err = io.StringIO(), io.StringIO()
    state = {"running": True, "stopped": False}

    def alarm(*_):
        if state["running"]:
            state["stopped"] = True
            signal.raise_signal(signal.SIGINT)  # as Ctrl-C: the command's own handler runs

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    with _env({"JERKLOG_DB": os.path.join(d, "store.sqlite3"), "XDG_DATA_HOME": xdg}), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as e:  # argparse: 2 for a usage error
            rc = e.code if isinstance(e.code, int) else 1
        except KeyboardInterrupt:  # the alarm landed outside the command's own handling
            rc = 130
        finally:
            state["running"] = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    return rc, out.getvalue(), err.getvalue(), state["stopped"]


OUTCOMES = collections.defaultdict(collections.Counter)  # {command: {exit status: runs}}

# Exit 1 is their verdict, printed on stdout: the store is damaged, rows could not be copied.
VERDICTS = {"store check", "store recover"}


def command_of(argv):
    return next((c for c in sorted(LEAVES, key=len, reverse=True)
                 if argv[:len(c.split())] == c.split()), "")


def check_run(argv, d, xdg, until_stopped=False):
    before = snapshot(d)
    rc, out, err, stopped = run([a.replace("{d}", d) for a in argv], d, xdg,
                                STOP_AFTER_S if until_stopped else HANG_S)
    after = snapshot(d)
    OUTCOMES[command_of(argv)]["stopped" if stopped else rc] += 1
    shown = "jerklog %s -> %s\nstdout: %s\nstderr: %s" % (" ".join(argv), rc, out[-2000:],
                                                        err[-2000:])
    assert "Traceback" not in err + out, shown
    if stopped:
        assert until_stopped, "still running after %.0f s\n%s" % (HANG_S, shown)
        assert rc in (0, 1, 130), shown
        return rc, out, err  # stopped as the user would: its outcome is not a failure
    assert rc in (0, 1, 2), shown
    assert "Traceback" not in err + out, shown
    left = [p for p in after if TEMPORARY.search(os.path.basename(p))]
    assert not left, "temporary files left: %s\n%s" % (left, shown)
    scratch = os.path.join(xdg, "jerklog", "scratch")
    assert not os.path.isdir(scratch) or not os.listdir(scratch), shown
    if rc == 1 and command_of(argv) in VERDICTS:
        assert before == {p: h for p, h in after.items() if p in before}, shown
        return rc, out, err  # a finding, not an error: what was read is unchanged
    if rc != 0:
        lines = err.strip().splitlines()
        assert lines and ERROR_LINE.match(lines[-1]), "no one-line error\n" + shown
        changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
        assert not changed, "a failed command changed %s\n%s" % (changed, shown)
    return rc, out, err


@pytest.fixture(autouse=True)
def _stub_long_work(monkeypatch):
    """bench's workloads run for minutes: every function of jerklog.bench is stubbed, so its
    options are parsed and checked but no benchmark runs here (test_bench.py runs them)."""
    import importlib
    import inspect
    import pkgutil

    import jerklog.bench
    for info in pkgutil.iter_modules(jerklog.bench.__path__):
        module = importlib.import_module("jerklog.bench." + info.name)
        for name, value in vars(module).items():
            if inspect.isfunction(value) and value.__module__ == module.__name__:
                monkeypatch.setattr(module, name, lambda *a, **k: None)


# Examples per command: most take milliseconds; a simulate or a PDF report takes a second.
# JERKLOG_CLI_EXAMPLES=10 runs ten times as many (a longer hunt; about 3 minutes).
SCALE = int(os.environ.get("JERKLOG_CLI_EXAMPLES", "1"))
EXAMPLES = {"simulate": 6, "report": 6, "import": 6, "review": 6, "record": 6}
DEFAULT_EXAMPLES = 20


# Found by this test in commands other developers are writing now (reported to them, not
# mended here); non-strict, so a fix shows as XPASS.
KNOWN = {}  # subcommands expected to fail the property test (with why); none now


@pytest.mark.parametrize("command", [pytest.param(c, marks=pytest.mark.xfail(
    reason=KNOWN[c], strict=False)) if c in KNOWN else c for c in sorted(LEAVES)])
def test_any_command_line_fails_well(command, template, tmp_path):
    counter = iter(range(10 ** 6))

    @settings(max_examples=SCALE * EXAMPLES.get(command.split()[0], DEFAULT_EXAMPLES),
              deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(argv=argv_for(command, LEAVES[command]))
    def inner(argv):
        d = make_folder(tmp_path / ("x%d" % next(counter)), template)
        try:
            check_run(argv, d, str(tmp_path / "xdg"), runs_until_stopped(LEAVES[command]))
        finally:
            shutil.rmtree(d, ignore_errors=True)

    inner()


def test_every_subcommand_is_covered():
    """The enumeration finds the commands the README lists (and any added since)."""
    for name in ("simulate", "analyze", "export", "report", "note add", "note list",
                 "note edit", "note delete", "record", "store check", "store recover",
                 "devices", "deploy", "config set", "config show", "bench"):
        assert name in LEAVES, name



def test_outcomes_of_the_generated_runs(capsys):
    """How the generated runs ended, per command (shown with -s): most must get past argparse
    into the command, or the property says little."""
    with capsys.disabled():
        for command, seen in sorted(OUTCOMES.items()):
            print("%-14s %s" % (command, ", ".join("exit %s: %d" % kv for kv in
                                                   sorted(seen.items(), key=str))))
