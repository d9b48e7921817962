"""The boot file: MicroPython runs /main.py at boot (never a main.mpy), so this stays a small
source file and the firmware is the package beside it, /jerklog_firmware/ (docs/deploy.md)."""
from jerklog_firmware import main

main.main_board()
