"""jerklog: record, store and summarise myoclonic jerks measured by wearable IMU boards."""
__version__ = "0.1.0"


class JerklogError(Exception):
    """An error the user can act on; the CLI prints it as one line and exits non-zero."""
