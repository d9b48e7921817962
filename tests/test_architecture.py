"""The house rules of docs/architecture.md, read from the code's own imports.

- The parts import along the data path only: nothing imports a part after it (cli/ may use
  all), so there are no circles between parts.
- No circle between modules either, lazy (in-function) imports included.
- Only store/ speaks SQL; the board's package imports nothing of the host's.
"""
import ast
import os
import re

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
HOST = os.path.join(REPO, "host")
FIRMWARE = os.path.join(REPO, "firmware")

# Rank of each part on the data path; a module may import its own part and lower ranks.
# "" is the package's top-level modules (errors, files, localtime, events, regions, ...).
RANK = {"": 0, "boards": 1, "store": 1, "recordings": 1, "diary": 2, "sim": 2, "judge": 2,
        "exports": 3, "bench": 4, "cli": 5}


def _modules(root, package):
    out = {}
    for dirpath, _, files in os.walk(os.path.join(root, package)):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(dirpath, name)
                mod = os.path.relpath(path, root)[:-3].replace(os.sep, ".")
                out[mod[:-len(".__init__")] if mod.endswith(".__init__") else mod] = path
    return out


def _imports(path, mod, is_package):
    """Every module `mod` imports (absolute names), wherever in the file the import is."""
    found = set()
    base = mod if is_package else mod.rpartition(".")[0]
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = base.split(".")
                parent = ".".join(parts[:len(parts) - node.level + 1])
                target = parent + ("." + node.module if node.module else "")
            else:
                target = node.module
            found.add(target)
            found.update(target + "." + a.name for a in node.names)
    return found


def _graph(root, package):
    mods = _modules(root, package)
    graph = {}
    for mod, path in mods.items():
        names = _imports(path, mod, path.endswith("__init__.py"))
        graph[mod] = {n for n in names if n in mods and n != mod}
    return graph


def _part(mod):
    parts = mod.split(".")
    if mod == "jerklog.__main__":  # `python -m jerklog` is the command line
        return "cli"
    if len(parts) > 1 and os.path.isdir(os.path.join(HOST, "jerklog", parts[1])):
        return parts[1]
    return ""


def test_every_part_has_a_rank():
    parts = {_part(m) for m in _graph(HOST, "jerklog")}
    assert parts <= set(RANK), "a new part needs its place on the data path: %s" % (
        parts - set(RANK))


def test_parts_import_only_parts_before_them_on_the_data_path():
    bad = []
    for mod, deps in _graph(HOST, "jerklog").items():
        for dep in deps:
            a, b = _part(mod), _part(dep)
            if a != b and RANK[b] >= RANK[a] and not (a == "" and dep == "jerklog"):
                bad.append("%s -> %s" % (mod, dep))
    # The package's top level may re-export nothing from a part: it is the bottom floor.
    assert not bad, "imports against the data path:\n" + "\n".join(sorted(bad))


@pytest.mark.parametrize("root, package", [(HOST, "jerklog"), (FIRMWARE, "jerklog_firmware")])
def test_no_import_circles(root, package):
    graph = _graph(root, package)
    # Tarjan's strongly connected components; a component of two or more is a circle.
    index, low, stack, on, circles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                circles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    # A package's __init__ that re-exports its own modules is not a circle of ideas.
    circles = [c for c in circles if not all(m.startswith(c[0]) for m in c)]
    assert not circles


SQL = re.compile(r"\.execute(many|script)?\(|(?<![.\w])sqlite3\b|\b(SELECT|INSERT|UPDATE|DELETE)\s+"
                 r"(\*|[a-z_]+\s*(,|FROM|INTO|SET)|FROM|INTO)")


def test_only_the_store_speaks_sql():
    offenders = []
    roots = [os.path.join(HOST, "jerklog"), os.path.join(REPO, "bench")]
    for root in roots:
        for dirpath, _, files in os.walk(root):
            if os.path.join("jerklog", "store") in dirpath:
                continue
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(dirpath, name)
                    for k, line in enumerate(open(path, encoding="utf-8"), 1):
                        if SQL.search(line.split("#")[0]):
                            offenders.append("%s:%d: %s" % (os.path.relpath(path, REPO), k,
                                                            line.strip()))
    assert not offenders, "\n".join(offenders)


def test_the_board_package_imports_nothing_of_the_host():
    for mod, deps in _graph(FIRMWARE, "jerklog_firmware").items():
        path = _modules(FIRMWARE, "jerklog_firmware")[mod]
        names = _imports(path, mod, path.endswith("__init__.py"))
        assert not any(n == "jerklog" or n.startswith("jerklog.") for n in names), mod
