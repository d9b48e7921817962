"""jerklog: record, store and summarise myoclonic jerks measured by wearable IMU boards.

The package is laid out along the data path (docs/architecture.md): boards/ -> store/ ->
diary/ -> exports/, with recordings/ (files from loggers), sim/ (a board in software),
bench/ and cli/ (the `jerklog` command)."""
from jerklog_firmware.version import VERSION as __version__

__all__ = ["JerklogError", "__version__"]


class JerklogError(Exception):
    """An error the user can act on; the CLI prints it as one line and exits non-zero."""


class StorageError(JerklogError):
    """The store could not be written (locked too long, disk full, damaged, read-only). What
    was being written was rolled back: records in it must not be acknowledged to a board."""
