"""A checker for the boards' 31-bit small ints, run under CPython.

On the boards (rp2, nrf, esp32: MicroPython's object representation A) a small int holds
-2**30 .. 2**30-1; any int outside that range is a long int on the heap. The unix port's small
ints have 63 bits, so its heap-lock test cannot see such allocations. This module loads the
firmware package from source under another name with every arithmetic step rewritten (ast) to
go through a check, and records each place where, while the check is on:

- an arithmetic operation (binary, unary, augmented) has an operand or a result outside the
  31-bit range: on a board that operation makes a long int (MicroPython computes with a long
  operand in its big-int code, which puts the result on the heap even when it would fit);
- an item read (``a[i]``) or a call returns an int outside it (a board boxes it).

Comparisons are not rewritten: comparing with a long constant allocates nothing. Augmented
assignments are rewritten as ``target = target op value``, which reads the target twice; the
firmware's targets (names, attributes, items of names) have no side effects.
"""
import ast
import importlib.abc
import importlib.util
import operator
import os
import sys

SMALL_MIN = -(1 << 30)
SMALL_MAX = (1 << 30) - 1

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
        ast.LShift: operator.lshift, ast.RShift: operator.rshift, ast.BitOr: operator.or_,
        ast.BitXor: operator.xor, ast.BitAnd: operator.and_, ast.Div: operator.truediv,
        ast.MatMult: operator.matmul}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}


def _big(v):
    return type(v) is int and not SMALL_MIN <= v <= SMALL_MAX


class Checker:
    """The check the rewritten code calls. ``active`` turns it on (imports and set-up may
    allocate on a board: only the path under test is checked); ``hits`` maps a site
    (module, line, source text) to the largest offending magnitude seen there."""

    def __init__(self):
        self.active = False
        self.sites = []   # (module, line, source text) of every rewritten step
        self.ops = []     # its operator function (None for a read or a call)
        self.hits = {}

    def site(self, module, node, text, op=None):
        self.sites.append((module, node.lineno, text))
        self.ops.append(op)
        return len(self.sites) - 1

    def _hit(self, site, v):
        key = self.sites[site]
        self.hits[key] = max(self.hits.get(key, 0), abs(v))

    def binop(self, site, a, b):
        r = self.ops[site](a, b)
        if self.active:
            for v in (a, b, r):
                if _big(v):
                    self._hit(site, v)
                    break
        return r

    def unary(self, site, a):
        r = self.ops[site](a)
        if self.active:
            for v in (a, r):
                if _big(v):
                    self._hit(site, v)
                    break
        return r

    def value(self, site, v):
        if self.active and _big(v):
            self._hit(site, v)
        return v

    def report(self):
        """One line per site: module:line: source (largest magnitude seen)."""
        return ["%s:%d: %s  (|v| up to %d)" % (m, line, text, v)
                for (m, line, text), v in sorted(self.hits.items())]


class _Rewrite(ast.NodeTransformer):
    def __init__(self, checker, module, source):
        self.c = checker
        self.module = module
        self.source = source

    def _call(self, method, node, *args, op=None):
        text = ast.get_source_segment(self.source, node) or ""
        site = self.c.site(self.module, node, " ".join(text.split()), op)
        func = ast.Attribute(ast.Name("__smallints__", ast.Load()), method, ast.Load())
        return ast.copy_location(ast.Call(func, [ast.Constant(site)] + list(args), []), node)

    def visit_BinOp(self, node):
        self.generic_visit(node)
        return self._call("binop", node, node.left, node.right, op=_OPS[type(node.op)])

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return node
        return self._call("unary", node, node.operand, op=_UNARY[type(node.op)])

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        load = _as_load(node.target)
        value = self._call("binop", node, load, node.value, op=_OPS[type(node.op)])
        return ast.copy_location(ast.Assign([node.target], value), node)

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            return self._call("value", node, node)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        return self._call("value", node, node)


def _as_load(target):
    """The expression that reads an assignment target."""
    t = ast.parse(ast.unparse(target), mode="eval").body
    return ast.copy_location(t, target)


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, name, package_dir, checker):
        self.name = name
        self.dir = package_dir
        self.checker = checker

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name and not fullname.startswith(self.name + "."):
            return None
        rel = fullname[len(self.name) + 1:]
        is_pkg = not rel
        path = os.path.join(self.dir, "__init__.py" if is_pkg else rel + ".py")
        if not os.path.exists(path):
            return None
        spec = importlib.util.spec_from_file_location(
            fullname, path, loader=self,
            submodule_search_locations=[self.dir] if is_pkg else None)
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        path = module.__spec__.origin
        with open(path) as f:
            source = f.read()
        tree = _Rewrite(self.checker, os.path.basename(path), source).visit(ast.parse(source))
        ast.fix_missing_locations(tree)
        module.__dict__["__smallints__"] = self.checker
        exec(compile(tree, path, "exec"), module.__dict__)


def load_package(package_dir, name="jerklog_firmware_31bit"):
    """Import the firmware package at package_dir, rewritten, as `name`; return (package,
    checker). Its modules import each other relatively, so they load rewritten too."""
    checker = Checker()
    finder = _Finder(name, package_dir, checker)
    sys.meta_path.insert(0, finder)
    try:
        package = importlib.import_module(name)
    finally:
        sys.meta_path.remove(finder)
    package.__smallints_finder__ = finder
    return package, checker


def import_module(package, module):
    """Import package.module through the package's rewriting finder."""
    finder = package.__smallints_finder__
    sys.meta_path.insert(0, finder)
    try:
        return importlib.import_module(package.__name__ + "." + module)
    finally:
        sys.meta_path.remove(finder)


def unload(package):
    """Forget the rewritten package and its modules."""
    for key in [k for k in sys.modules if k == package.__name__
                or k.startswith(package.__name__ + ".")]:
        del sys.modules[key]
