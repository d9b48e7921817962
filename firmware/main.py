"""The boot file: MicroPython runs /main.py at boot (never a main.mpy), so this stays a small
source file and the firmware is the package beside it, /jerklog_firmware/ (docs/deploy.md).

Before starting the firmware it finishes a deploy, so that a board only ever runs one whole
version: `jerklog deploy` copies the new package to jerklog_firmware.new/ (and the boot file
and config as main.py.new, config.json.new), then writes the marker
jerklog_firmware.new/complete naming those root files, then resets. Here the complete package
takes the old one's place by renames, then the root files; every step can be cut by a reset
and is taken up again at the next boot. A package without its marker (a copy cut short) is
ignored: the previous firmware runs.

A file jerklog_deploy (written by deploy just before a reset) makes one boot start neither the
firmware nor its watchdog, so deploy copies with no 8 s watchdog running; the file is removed
at once, so the boot after that runs the firmware again whatever deploy does.
Paths are relative: at boot the working directory is the root of the board's file system.
"""
import os

CUR = "jerklog_firmware"
NEW = CUR + ".new"
OLD = CUR + ".old"
MARKER = "/complete"
DEPLOY_FLAG = "jerklog_deploy"


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _rmtree(path):
    if not _exists(path):
        return
    if os.stat(path)[0] & 0x4000:  # a directory
        for name in os.listdir(path):
            _rmtree(path + "/" + name)
        os.rmdir(path)
    else:
        os.remove(path)


def finish_deploy():
    """Put a completely copied package in place, then the root files it names. Idempotent:
    a reset anywhere in here leaves a state the next call completes."""
    if _exists(NEW + MARKER):
        _rmtree(OLD)          # left over from an earlier deploy
        if _exists(CUR):
            os.rename(CUR, OLD)
        os.rename(NEW, CUR)   # from here on the new package is the one that runs
    if _exists(CUR + MARKER):
        with open(CUR + MARKER) as f:
            names = f.read().split()
        for name in names:
            if _exists(name + ".new"):
                os.rename(name + ".new", name)
        os.remove(CUR + MARKER)
    _rmtree(OLD)


def boot():
    """True when the firmware is to start: not in the one boot a deploy asked for."""
    if _exists(DEPLOY_FLAG):
        os.remove(DEPLOY_FLAG)
        print("jerklog: deploy mode, firmware not started")
        return False
    finish_deploy()
    return True


if boot():
    from jerklog_firmware import main

    main.main_board()
