"""The boot file (firmware/main.py) finishes a deploy whole whatever resets cut it: a reset
before each file-system change it makes, in turn, and the boots after it still end with the
whole new firmware, boot file and config in place; a staged package without its marker is
never put in place. Run under CPython (the boot file is plain Python) with os patched to
reset the board at the Nth change; the same boot file runs on MicroPython in test_deploy."""
import os
import runpy
import sys
import types

from jerklog.firmware import FIRMWARE_DIR

BOOT = os.path.join(FIRMWARE_DIR, "main.py")


class Reset(Exception):
    pass


def boot(root, monkeypatch, cut_at=None):
    """Run the boot file with root as the board's file system; the firmware is a stand-in.
    cut_at=N: the board resets instead of making its Nth file-system change. Returns
    whether the firmware started, and how many changes the boot made."""
    started = []
    package = types.ModuleType("jerklog_firmware")
    package.main = types.SimpleNamespace(main_board=lambda: started.append(True))
    changes = [0]

    def change(real):
        def f(*args):
            changes[0] += 1
            if changes[0] == cut_at:
                raise Reset()
            return real(*args)
        return f

    with monkeypatch.context() as m:
        m.chdir(root)
        m.setitem(sys.modules, "jerklog_firmware", package)
        for name in ("rename", "remove", "rmdir"):
            m.setattr(os, name, change(getattr(os, name)))
        try:
            runpy.run_path(BOOT, run_name="__main__")
        except Reset:
            return False, changes[0]
    return bool(started), changes[0]


def board(root, version, staged=None, marker=True):
    """A board running `version`, with `staged` copied by a deploy (and its marker)."""
    (root / "jerklog_firmware").mkdir(parents=True)
    for name in ("a.mpy", "b.mpy", "gone.mpy"):
        (root / "jerklog_firmware" / name).write_text(version)
    (root / "main.py").write_text("boot " + version)
    (root / "config.json").write_text("config " + version)
    if staged:
        (root / "jerklog_firmware.new").mkdir()
        for name in ("a.mpy", "b.mpy", "new.mpy"):
            (root / "jerklog_firmware.new" / name).write_text(staged)
        (root / "main.py.new").write_text("boot " + staged)
        (root / "config.json.new").write_text("config " + staged)
        if marker:
            (root / "jerklog_firmware.new" / "complete").write_text("main.py config.json")


def state(root):
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file()}


def whole(version):
    return {"config.json": "config " + version, "main.py": "boot " + version,
            **{"jerklog_firmware/" + n: version for n in ("a.mpy", "b.mpy", "new.mpy")}}


def test_a_complete_deploy_is_put_in_place_and_started(tmp_path, monkeypatch):
    board(tmp_path, "v1", "v2")
    started, changes = boot(tmp_path, monkeypatch)
    assert started and state(tmp_path) == whole("v2")
    assert boot(tmp_path, monkeypatch) == (True, 0)  # later boots change nothing


def test_a_reset_at_any_step_of_the_swap_still_ends_whole(tmp_path, monkeypatch):
    board(tmp_path / "count", "v1", "v2")
    _, n = boot(tmp_path / "count", monkeypatch)
    assert n >= 6  # old out, new in, two root files, marker, old package removed
    for cut in range(1, n + 1):
        root = tmp_path / str(cut)
        board(root, "v1", "v2")
        started, _ = boot(root, monkeypatch, cut_at=cut)
        assert not started
        # whatever the cut left, the package in place is v1's or v2's entirely (never a mix
        # of their files); and no boot starts a firmware before the swap is finished
        present = {k: v for k, v in state(root).items()
                   if k.startswith("jerklog_firmware/") and k.endswith(".mpy")}
        assert len(set(present.values())) <= 1, cut
        assert boot(root, monkeypatch)[0], cut  # the next boot finishes and starts it
        assert state(root) == whole("v2"), cut


def test_a_staged_package_without_its_marker_is_ignored(tmp_path, monkeypatch):
    board(tmp_path, "v1", "v2", marker=False)
    before = state(tmp_path)
    assert boot(tmp_path, monkeypatch) == (True, 0)
    assert state(tmp_path) == before  # v1 runs; the next deploy clears the staging


def test_the_deploy_flag_gives_one_boot_without_the_firmware(tmp_path, monkeypatch, capsys):
    board(tmp_path, "v1", "v2")
    (tmp_path / "jerklog_deploy").write_text("")
    assert boot(tmp_path, monkeypatch)[0] is False  # no firmware, so no watchdog either
    assert "deploy mode" in capsys.readouterr().out
    assert not (tmp_path / "jerklog_deploy").exists()
    assert (tmp_path / "jerklog_firmware.new" / "complete").exists()  # nothing swapped yet
    assert boot(tmp_path, monkeypatch)[0] is True  # the boot after it runs the firmware
    assert state(tmp_path) == whole("v2")


def test_an_old_package_left_by_a_cut_clean_up_is_removed(tmp_path, monkeypatch):
    leftover = "jerklog_firmware.old"
    board(tmp_path, "v1")
    (tmp_path / leftover).mkdir()
    (tmp_path / leftover / "x.mpy").write_text("v0")
    assert boot(tmp_path, monkeypatch)[0]
    assert not (tmp_path / leftover).exists()
