"""The store: one SQLite file (stdlib, WAL) per wearer. Only this package speaks SQL."""
from jerklog.store.database import NOTE_KINDS, Store

__all__ = ["NOTE_KINDS", "Store"]
