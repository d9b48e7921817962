"""jerklog firmware: the package a board runs, under the same name on the board and the host.

On a board it sits at /jerklog_firmware/ (as .mpy files where mpy-cross was available) beside
the boot file /main.py; the host imports the very same detector, protocol and config. Modules
import each other relatively (``from . import protocol``) only. See docs/deploy.md."""
