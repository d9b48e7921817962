"""The optional parts of jerklog (pyproject's extras): a clear line when one is missing."""
import importlib
from types import ModuleType

from jerklog import JerklogError


def require(module: str, extra: str, what: str) -> ModuleType:
    """Import `module` for `what` ("the report"); a JerklogError naming the extra if absent."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise JerklogError("%s needs %s, which is not installed: pip install 'jerklog[%s]'"
                           % (what, module.split(".")[0], extra)) from None
