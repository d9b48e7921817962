"""Board management (jerklog.deploy): mpremote command construction, config validation, port
selection and the lock, and the hello check against a simulated board on a pty."""
import argparse
import json
import os
import pty
import sys

import pytest

from jerklog import JerklogError

from jerklog.boards import deploy
from jerklog.cli import board as board_cli
from jerklog.sim.device import SimDevice

from conftest import synthetic_recording

PORT = "/dev/ttyACM7"
OLD = {"board": "xiao_nrf52840_sense", "region": "trunk", "name": "night-1", "rate_hz": 104}


@pytest.fixture(autouse=True)
def _private_locks(monkeypatch, tmp_path):
    monkeypatch.setenv("JERKLOG_LOCK_DIR", str(tmp_path / "locks"))


class FakeMpremote:
    """Stands in for run_mpremote: records every command (with the config file's content as
    it was when copied) and answers `fs cat` with the board's config."""

    def __init__(self, board_config=None):
        self.board_config = board_config
        self.calls = []
        self.written = None

    def __call__(self, args, timeout=None):
        args = list(args)
        self.calls.append(args)
        if args[2:4] == ["fs", "cat"]:
            if self.board_config is None:
                raise JerklogError("mpremote connect %s fs cat :config.json failed (exit 1): "
                                   "mpremote: cat: ENOENT: No such file or directory." % PORT)
            return json.dumps(self.board_config)
        if args[-1] == ":config.json":
            with open(args[-2]) as f:
                self.written = json.load(f)
        return ""


def hello(region="left_wrist", rate_hz=104):
    return {"type": "hello", "device_id": 9, "boot_id": 1, "seq": 0, "protocol": 1,
            "rate_hz": rate_hz, "flags": 1, "epoch_ms": 0, "firmware": "0.1.0",
            "board": "xiao_nrf52840_sense", "sensor": "LSM6DS3TR-C", "region": region}


@pytest.fixture
def board(monkeypatch):
    """A fake board on PORT: find_boards finds it, mpremote is faked, the hello is canned."""
    fake = FakeMpremote(dict(OLD))
    monkeypatch.setattr(deploy, "run_mpremote", fake)
    monkeypatch.setattr("jerklog.boards.discovery.find_boards", lambda: [(PORT, "Seeed XIAO")])
    answers = []
    monkeypatch.setattr(deploy, "check_hello", lambda port, timeout=None: answers.pop(0))
    fake.answers = answers
    return fake


# -- what is copied ----------------------------------------------------------------------
def test_firmware_files_leave_host_only_files_behind_and_end_with_main(tmp_path):
    for name in ("__init__.py", "app.py", "board_sim.py", "rawcsv.py", "fake_imu.py",
                 "fake_clock.py", "test_x.py", "x_test.py", "conftest.py", "config.py",
                 "main.py", "protocol.py", "notes.txt"):
        (tmp_path / name).write_text("")
    names = [os.path.basename(p) for p in deploy.firmware_files(str(tmp_path))]
    assert names == ["app.py", "config.py", "protocol.py", "main.py"]


def test_the_real_firmware_directory_gives_the_board_modules():
    names = [os.path.basename(p) for p in deploy.firmware_files()]
    assert names[-1] == "main.py"
    assert {"protocol.py", "detector.py", "app.py", "config.py"} <= set(names)
    assert not {"__init__.py", "board_sim.py", "fake_imu.py"} & set(names)


def test_a_firmware_directory_without_main_is_refused(tmp_path):
    (tmp_path / "app.py").write_text("")
    with pytest.raises(JerklogError, match="no main.py"):
        deploy.firmware_files(str(tmp_path))


# -- deploy ------------------------------------------------------------------------------
def test_deploy_stops_copies_writes_config_resets_then_checks_the_hello(board):
    board.answers.append(hello("left_wrist", 104))
    cfg, rec = deploy.deploy("xiao_nrf52840_sense", "left_wrist", say=lambda _t: None)
    files = deploy.firmware_files()
    copy = ["connect", PORT]
    for i, path in enumerate(files):
        copy += (["+"] if i else []) + ["fs", "cp", path, ":" + os.path.basename(path)]
    assert board.calls[0] == ["connect", PORT, "fs", "cat", ":config.json"]  # stops main.py
    assert board.calls[1] == copy
    assert board.calls[2][:4] == ["connect", PORT, "fs", "cp"]
    assert board.calls[2][-1] == ":config.json"
    assert board.calls[3] == ["connect", PORT, "reset"]
    assert len(board.calls) == 4
    # The old name and rate are kept; board and region are the ones given.
    assert board.written == cfg == dict(OLD, region="left_wrist")
    assert rec["firmware"] == "0.1.0"


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
    assert [c[2:] for c in board.calls] == [["fs", "cat", ":config.json"],
                                            board.calls[1][2:], ["reset"]]
    assert board.calls[1][2:4] == ["fs", "cp"]
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
