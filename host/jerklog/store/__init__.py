"""The store: one SQLite file (stdlib, WAL) per wearer. Only this package speaks SQL."""
from jerklog.store.database import NOTE_KINDS, StorageError, Store

__all__ = ["NOTE_KINDS", "StorageError", "Store"]
