"""The firmware modules the host shares (one source of truth), and where the firmware lives."""
import os

import jerklog_firmware
from jerklog_firmware import detector, protocol, rawcsv  # noqa: F401  (re-exported)

FIRMWARE_DIR = os.path.dirname(os.path.abspath(jerklog_firmware.__file__))
