"""The firmware on the board's own MicroPython: the MicroPython rp2 image in an emulated
Raspberry Pi Pico (jerklog.sim.pico), with an LSM6DSOX model serving a recording, driven by
the commands a user runs: `jerklog deploy`, `jerklog record` (PortRecorder), `jerklog
analyze`. Skipped where the image or the emulator is absent (docs/boards.md, Emulated Pico).
"""
import csv
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import synthetic_recording
from jerklog import JerklogError
from jerklog.boards import deploy
from jerklog.boards.recorder import PortRecorder
from jerklog.firmware import FIRMWARE_DIR
from jerklog.sim.device import Cable
from jerklog.store.database import Store

# emulated_slow: ~5 minutes together, which the whole suite's 15 minutes cannot hold (a
# clean-clone run with them took 1,033 s); `pytest -m emulated_board` runs them.
pytestmark = [pytest.mark.emulated_board, pytest.mark.emulated_slow]

RATE = 208
PERIOD_MS = 1000.0 / RATE
JERKS = (6.0, 11.5, 17.0)
SECONDS = 22


def mpremote(port, *args, timeout=60):
    """mpremote on the board; tried again while the port is away (the chip resetting)."""
    deadline = time.monotonic() + 30
    while True:
        out = subprocess.run([sys.executable, "-m", "mpremote", "connect", port] + list(args),
                             capture_output=True, text=True, timeout=timeout)
        if out.returncode == 0 or "failed to access" not in out.stderr \
                or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert out.returncode == 0, out.stderr
    return out.stdout


def deploy_to(port, fw_dir=FIRMWARE_DIR, say=lambda s: None):
    return deploy.deploy("pico_lsm6dsox", "left_wrist", port=port, rate_hz=RATE, say=say,
                         fw_dir=fw_dir, timeout=30)


def firmware_with_version(tmp_path, version):
    """A copy of the firmware directory whose version.py says `version` (a changed file)."""
    fw = tmp_path / ("fw-" + version)
    if fw.exists():
        return str(fw)
    shutil.copytree(FIRMWARE_DIR, fw, ignore=shutil.ignore_patterns("__pycache__"))
    path = fw / "jerklog_firmware" / "version.py"
    text = path.read_text()
    path.write_text(text.replace('VERSION = "', 'VERSION = "%s-' % version, 1))
    return str(fw)


def analyze(raw, tmp_path):
    """`jerklog analyze` on the recording: [(t_ms, kind, axis)]."""
    src, out = tmp_path / "rec.csv", tmp_path / "events.csv"
    raw.write_csv(str(src))
    subprocess.run(jerklog("analyze", "--region", "left_wrist", "--out", str(out), str(src)),
                   check=True, capture_output=True)
    with open(out) as f:
        return [(round(float(r["t"]) * 1000), r["kind"], r["axis"]) for r in csv.DictReader(f)]


def wait_emulated(pico, seconds, cap_s=600):
    """Until the emulated board's clock has run `seconds` (the emulator may run slower than
    real time on a loaded machine; the IMU model and the firmware keep emulated time)."""
    deadline = time.monotonic() + cap_s
    while time.monotonic() < deadline:
        shares = pico.cpu_shares()
        if shares and shares[-1][0] >= seconds:
            return
        time.sleep(0.2)
    raise AssertionError("the emulated board did not reach %.1f s" % seconds)


def record(pico, db, seconds, during=None, port=None):
    """PortRecorder (what `jerklog record` runs per port) until the board has run `seconds`
    of emulated time; `during(recorder)` runs meanwhile. Returns the stored events."""
    with Store(db) as store:
        rec = PortRecorder(port or pico.port, store, reconnect=True, retry_s=0.1)
        errors = []

        def run():
            try:
                rec.run()
            except Exception as e:  # reported below, not lost in the thread
                errors.append(e)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        if during:
            during(rec)
        wait_emulated(pico, seconds)
        time.sleep(2.0)  # what the board sent last reaches the store
        rec.stop.set()
        thread.join(60)
        assert not thread.is_alive() and not errors, errors
        return rec, list(store.events())


def assert_same_events(board, expected, period_ms=PERIOD_MS):
    """The board's events are analyze's: same kinds and axes, times within one sample once
    the constant offset between the board's clock origin and its IMU's first sample is
    taken out."""
    got = [(e["t_ms"], e["kind"], e["axis"]) for e in board]
    assert [g[1:] for g in got] == [x[1:] for x in expected], (got, expected)
    offsets = sorted(g[0] - x[0] for g, x in zip(got, expected))
    middle = offsets[len(offsets) // 2]
    assert all(abs(o - middle) <= period_ms for o in offsets), offsets


def test_boots_and_keeps_its_file_system_across_resets_and_restarts(emulated_pico, tmp_path):
    flash = str(tmp_path / "flash.bin")
    pico = emulated_pico(flash)
    out = mpremote(pico.port, "exec", "import sys; print(sys.implementation._machine, "
                   "sys.version)")
    assert "Raspberry Pi Pico with RP2040" in out and "MicroPython v1.28" in out
    mpremote(pico.port, "exec", "f = open('kept.txt', 'w'); f.write('x' * 5000); f.close()",
             "+", "reset")
    assert mpremote(pico.port, "exec", "print(len(open('kept.txt').read()))").split() == ["5000"]
    pico.close()
    again = emulated_pico(flash)  # power off and on: a new emulator on the same flash
    assert mpremote(again.port, "exec", "print(len(open('kept.txt').read()))").split() == ["5000"]
    assert "reset" in pico.log_text()


def jerklog(*args):
    return [os.path.join(os.path.dirname(sys.executable), "jerklog")] + list(args)


def test_jerklog_deploy_then_record_gives_the_events_analyze_finds(emulated_pico, tmp_path):
    """The commands a user types, on the emulated board's port."""
    raw = synthetic_recording(SECONDS, RATE, JERKS, jerk_g=0.6, seed=3)
    pico = emulated_pico(recording=raw)
    out = subprocess.run(jerklog("deploy", "--board", "pico_lsm6dsox", "--region",
                                 "left_wrist", "--rate", str(RATE), pico.port),
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "board pico_lsm6dsox" in out.stdout and "208 Hz" in out.stdout
    # the deploy's resets restarted the FIFO: start the recording again from its beginning
    pico.close()
    pico = emulated_pico(str(tmp_path / "flash.bin"), recording=raw, cpu_every_s=1)
    db = str(tmp_path / "store.sqlite3")
    proc = subprocess.Popen(jerklog("record", "--db", db, pico.port), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    wait_emulated(pico, SECONDS + 4)  # the recording played out, the last events sent
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)  # Ctrl-C: stops with everything stored
    output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, output
    assert "recording ended" in pico.log_text()
    with Store(db) as store:
        events = list(store.events())
    assert_same_events(events, analyze(raw, tmp_path))


def test_deploy_again_with_changed_files_runs_the_new_version(emulated_pico, tmp_path):
    pico = emulated_pico(recording=synthetic_recording(60, RATE))
    _, hello = deploy_to(pico.port, firmware_with_version(tmp_path, "a"))
    assert hello["firmware"].startswith("a-")
    _, hello = deploy_to(pico.port, firmware_with_version(tmp_path, "b"))
    assert hello["firmware"].startswith("b-")
    listing = mpremote(pico.port, "fs", "ls", ":")
    assert "jerklog_firmware.new" not in listing and "jerklog_firmware.old" not in listing


def test_a_reset_in_the_middle_of_a_deploy_leaves_the_previous_firmware(emulated_pico,
                                                                         tmp_path,
                                                                         monkeypatch):
    pico = emulated_pico(recording=synthetic_recording(120, RATE))
    _, hello = deploy_to(pico.port, firmware_with_version(tmp_path, "old"))
    assert hello["firmware"].startswith("old-")
    real = deploy.run_mpremote
    cut = []

    def cut_short(args, timeout=deploy.MPREMOTE_TIMEOUT_S):
        if "cp" in args and not cut:  # the copy: the chip resets (as its watchdog would) in it
            timer = threading.Timer(2.0, pico.reset)
            timer.start()
            cut.append(timer)
        return real(args, timeout)

    monkeypatch.setattr(deploy, "run_mpremote", cut_short)
    with pytest.raises(JerklogError):
        deploy_to(pico.port, firmware_with_version(tmp_path, "new"))
    monkeypatch.setattr(deploy, "run_mpremote", real)
    hello = deploy.check_hello(pico.port, timeout=30)
    assert hello["firmware"].startswith("old-")  # the previous firmware, whole, runs
    # the copy really was cut: a staged package without its marker
    staged = mpremote(pico.port, "exec", "import os; print(os.listdir('jerklog_firmware.new'))")
    assert "complete" not in staged and ".mpy" in staged
    _, hello = deploy_to(pico.port, firmware_with_version(tmp_path, "new"))
    assert hello["firmware"].startswith("new-")


def test_cable_pulled_while_recording_loses_no_event(emulated_pico, tmp_path):
    raw = synthetic_recording(SECONDS, RATE, JERKS, jerk_g=0.6, seed=4)
    pico = emulated_pico()
    deploy_to(pico.port)
    pico.close()
    pico = emulated_pico(str(tmp_path / "flash.bin"), recording=raw, cpu_every_s=1)
    cable = Cable(pico, str(tmp_path / "ttyJERK0"))

    def pull(rec):
        wait_emulated(pico, 4)
        cable.unplug()  # the jerks at 6 and 11.5 s go into the on-board log only
        wait_emulated(pico, 13)
        cable.plug()

    try:
        rec, events = record(pico, str(tmp_path / "store.sqlite3"), SECONDS + 12, pull,
                             port=cable.path)
    finally:
        cable.close()
    assert rec.disconnects >= 1 and rec.connections >= 2
    assert cable.bytes_lost > 0
    assert_same_events(events, analyze(raw, tmp_path))


def test_a_button_held_at_boot_is_no_trigger_mark(emulated_pico, tmp_path):
    """rp2040js has no pull-ups: a button line that reads low at boot (held, or not yet
    pulled up) was one false trigger mark at the start of every boot (issue 14)."""
    pico = emulated_pico()
    deploy_to(pico.port)
    pico.close()
    pico = emulated_pico(str(tmp_path / "flash.bin"), recording=synthetic_recording(20, RATE),
                         button_pressed=True, cpu_every_s=1)
    rec, events = record(pico, str(tmp_path / "store.sqlite3"), 12)
    assert rec.connections >= 1
    assert [e for e in events if e["kind"] == "trigger"] == []


def test_a_pico_with_an_mpu6050_records_the_events_analyze_finds(emulated_pico, tmp_path):
    """The other Pico build: the MPU-6050 model at 0x68, the board's default 200 Hz."""
    raw = synthetic_recording(SECONDS, 200, JERKS, jerk_g=0.6, seed=5)
    pico = emulated_pico(recording=raw, imu="mpu6050")
    _, hello = deploy.deploy("pico_mpu6050", "left_wrist", port=pico.port, say=lambda s: None,
                             timeout=30)
    assert hello["sensor"] == "MPU-6050" and hello["rate_hz"] == 200
    pico.close()
    pico = emulated_pico(str(tmp_path / "flash.bin"), recording=raw, imu="mpu6050",
                         cpu_every_s=1)
    _, events = record(pico, str(tmp_path / "store.sqlite3"), SECONDS + 4)
    assert "recording ended" in pico.log_text()
    assert_same_events(events, analyze(raw, tmp_path), period_ms=5.0)
