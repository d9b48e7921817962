"""The diary: where, how often, in what pattern and when the jerks happened, and how complete
the recording was. One module per analysis; Diary (core.py) runs them over a store."""
from jerklog.diary.config import DiaryConfig
from jerklog.diary.core import Diary

__all__ = ["Diary", "DiaryConfig"]
