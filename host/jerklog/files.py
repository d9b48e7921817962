"""Where jerklog keeps its data, and how it writes files that only the user may read."""
import contextlib
import errno
import os
import shutil
import sys
import tempfile

APP = "jerklog"
DB_ENV = "JERKLOG_DB"
DB_NAME = "jerklog.sqlite3"


def data_dir() -> str:
    """The user's platform data directory for jerklog (not created here)."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser(r"~\AppData\Local")
    elif sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Application Support")
    else:
        base = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return os.path.join(base, APP)


def default_db_path() -> str:
    """--db wins over $JERKLOG_DB, which wins over the platform data directory."""
    return os.environ.get(DB_ENV) or os.path.join(data_dir(), DB_NAME)


def private_dir(path: str) -> None:
    """Create path (and parents) as needed; a directory jerklog creates is mode 0700."""
    if path and not os.path.isdir(path):
        os.makedirs(path, mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process: leave its files alone
    return True


def sweep_dead(directory, prefix, suffix=""):
    """Remove what a killed jerklog left in directory: names prefix + PID + '.' ... + suffix
    whose process is gone (files, or folders with their contents). Never raises."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        pid = name[len(prefix):].split(".", 1)[0].split("-", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        path = os.path.join(directory, name)
        with contextlib.suppress(OSError):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)


def scratch_dir(what):
    """A private folder for this process's large temporary files (a simulation's sample
    streams), under the data dir rather than the system's temporary folder, named by pid so
    that the next run removes it if this process is killed. The caller removes it when done."""
    root = os.path.join(data_dir(), "scratch")
    private_dir(root)
    sweep_dead(root, what + "-")
    return tempfile.mkdtemp(prefix="%s-%d-" % (what, os.getpid()), dir=root)


@contextlib.contextmanager
def scratch(what):
    """`with scratch("simulate") as folder:` a scratch_dir removed at the end of the block."""
    path = scratch_dir(what)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# A write into the output that fails for room (a full disk, a quota, a file-size limit):
# one line, whatever part of an export or report was writing.
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


@contextlib.contextmanager
def atomic_output(path, mode="w", newline=None):
    """Write to a private temporary file beside path and rename it into place on success.

    On any error the temporary file is removed, so a half-written output never appears.
    """
    from jerklog import JerklogError
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise JerklogError("cannot write %s: directory %s does not exist" % (path, directory))
    if os.path.isdir(path):
        raise JerklogError("cannot write %s: it is a directory" % path)
    base = ".%s." % os.path.basename(path)
    sweep_dead(directory, base, ".part")  # left by a jerklog that was killed while writing
    try:
        fd, tmp = tempfile.mkstemp(prefix="%s%d." % (base, os.getpid()), suffix=".part",
                                   dir=directory)
    except OSError as e:
        raise JerklogError("cannot write %s: %s" % (path, e.strerror or e))
    try:
        os.fchmod(fd, 0o600)
        kwargs = {} if "b" in mode else {"encoding": "utf-8", "newline": newline}
        try:
            with os.fdopen(fd, mode, **kwargs) as f:
                yield f
        except OSError as e:
            if e.errno not in _FULL:
                raise
            raise JerklogError("cannot write %s: %s; nothing was written (make room, or "
                               "write elsewhere)" % (path, e.strerror or e)) from None
        try:
            os.replace(tmp, path)
        except OSError as e:
            raise JerklogError("cannot write %s: %s" % (path, e.strerror or e))
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


STORE_COMPANIONS = ("", "-wal", "-shm", "-journal")  # SQLite's files beside a store


def _same_file(a, b):
    try:
        sa, sb = os.stat(a), os.stat(b)
    except (OSError, ValueError):
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def refuse_overwrite(out, inputs=(), stores=(), what="--out"):
    """Refuse, before any work, an output path that would replace something the command
    reads: an input file or a store (with its -wal, -shm and -journal files), by any path that
    reaches it (the same device and inode: a hard link, a symlink, another spelling; or the
    same resolved path for a file that does not exist yet). A JerklogError says which."""
    from jerklog import JerklogError
    targets = [(path, "the input %s" % path) for path in inputs if path]
    for store in stores:
        if store:
            targets += [(store + tail, "the store %s" % store if not tail else
                         "the store's %s file %s" % (tail, store + tail))
                        for tail in STORE_COMPANIONS]
    real = os.path.normcase(os.path.realpath(out))
    for path, label in targets:
        if _same_file(out, path) or os.path.normcase(os.path.realpath(path)) == real:
            raise JerklogError("%s %s is %s: it would be overwritten; write to another file"
                               % (what, out, label))
