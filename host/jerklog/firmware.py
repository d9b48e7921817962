"""The firmware modules the host shares (one source of truth), and where the firmware lives.

FIRMWARE_DIR is the board's root as the repository holds it: the boot file main.py and the
package jerklog_firmware (PACKAGE_DIR). MicroPython runs the firmware with FIRMWARE_DIR in
MICROPYPATH; deploy copies from it (docs/deploy.md)."""
import os

import jerklog_firmware
from jerklog_firmware import app, detector, protocol, rawcsv  # noqa: F401  (re-exported)

PACKAGE = "jerklog_firmware"
PACKAGE_DIR = os.path.dirname(os.path.abspath(jerklog_firmware.__file__))
FIRMWARE_DIR = os.path.dirname(PACKAGE_DIR)
