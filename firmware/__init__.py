"""jerklog firmware. On a board these modules are flat files; on the host this directory is
the package `jerklog_firmware`, so the host imports the very same detector and protocol."""
