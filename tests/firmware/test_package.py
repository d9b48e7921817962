"""The firmware is one package, jerklog_firmware, that runs as it is on the board and the host:
its modules import each other relatively and only so (no shims for a flat layout), every
module imports under MicroPython with a board-sized heap, and the protocol's sizes are derived
from its formats once, at import."""
import ast
import os
import struct

from conftest import run_micropython
from jerklog.firmware import PACKAGE_DIR
from jerklog_firmware import eventlog, protocol

MODULES = sorted(n[:-3] for n in os.listdir(PACKAGE_DIR) if n.endswith(".py"))


def test_modules_import_each_other_relatively_and_only_so():
    for name in MODULES:
        path = os.path.join(PACKAGE_DIR, name + ".py")
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module.split(".")[0]]
            else:
                continue
            assert not set(names) & (set(MODULES) | {"jerklog_firmware"}), (name, names)


def test_every_module_imports_under_micropython():
    # gc.collect() between imports: compiling source needs contiguous room that the garbage of
    # the module before may still hold (a board loads .mpy files: docs/deploy.md).
    out = run_micropython("import gc\nimport jerklog_firmware\n"
                          + "".join("from jerklog_firmware import %s\ngc.collect()\n" % m
                                    for m in MODULES if m != "__init__")
                          + "print('ok')\n")
    assert out.strip() == b"ok"


def test_sizes_are_derived_from_the_formats():
    sizes = {"HEADER": 13, "EVENT": 17, "HEARTBEAT": 16, "HELLO": 12, "GOODBYE": 17,
             "COMMAND": 9, "LOG_STATUS": 29, "RAW": 7, "RAW_SAMPLE": 12}
    for name, size in sizes.items():
        assert getattr(protocol, name + "_SIZE") == struct.calcsize(
            getattr(protocol, name + "_FMT")) == size, name
    assert eventlog.STATE_SIZE == struct.calcsize(eventlog.STATE_FMT) + protocol.CRC_SIZE == 18
    assert eventlog.MIN_PAYLOAD == protocol.HEADER_SIZE
    out = run_micropython("from jerklog_firmware import protocol, eventlog\n"
                          "print(%s, eventlog.STATE_SIZE)\n"
                          % ", ".join("protocol.%s_SIZE" % n for n in sizes))
    assert list(map(int, out.split())) == list(sizes.values()) + [18]


def test_every_module_compiles_with_the_native_emitter():
    """`jerklog import` runs the board's loop on the unix port with -X emit=native, which
    compiles every function to machine code and rejects what it cannot (a bare `raise` in an
    except clause: 'NotImplementedError: native raise'), so every module must compile so."""
    import subprocess

    from jerklog.firmware import FIRMWARE_DIR
    from jerklog.sim.device import find_micropython
    for name in MODULES:
        if name == "__init__":
            continue
        proc = subprocess.run([find_micropython(), "-X", "heapsize=512k", "-X", "emit=native",
                               "-c", "import jerklog_firmware.%s" % name], cwd=FIRMWARE_DIR,
                              env=dict(os.environ, MICROPYPATH=FIRMWARE_DIR),
                              capture_output=True, timeout=60)
        assert proc.returncode == 0, (name, proc.stdout[-300:], proc.stderr[-300:])
