"""The firmware on the board's own MicroPython: an emulated Raspberry Pi Pico (rp2040js) with
an LSM6DSOX model, behind a pty (emulator.py)."""
