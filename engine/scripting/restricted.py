"""Check and rewrite analysts' Python before it runs.

Process analysts, not developers, write the scripts and conditions, so they are
untrusted. This module is the first two of the sandbox's layers (see
:mod:`engine.scripting`):

1. A static check of the syntax tree refuses what could reach the interpreter's
   internals: imports, underscore attributes, frame and code attributes,
   ``str.format``, dangerous builtins, classes, generators, ``global``...
2. The syntax tree is rewritten: operators that can explode in one C-level step
   (``**``, ``*``, ``<<``, ``+``) call guards that bound the size of the result,
   and every loop body, comprehension, function and lambda starts with a
   deadline checkpoint (:mod:`engine.scripting.guards`).

It also tells which expressions are *plain* (no calls beyond a few bounded
builtins, no loops, no operator that can build a large value), which the
engine evaluates in its own process, and which names a script reads or writes,
the only variables it is given.
"""

from __future__ import annotations

import ast
import copy
import warnings
import weakref
from collections.abc import Iterator
from functools import lru_cache
from types import CodeType

from .errors import SandboxViolation

FILENAME = "<script>"

# -- the static check (layer 1) ------------------------------------------------

# Builtins refused wherever they appear. Names that are also common variable
# names (type, id, input, format) are only left out of the builtins, so task
# data may still use them; reaching for the builtin gives a clear error then.
FORBIDDEN_NAMES = frozenset({
    "exec", "eval", "compile", "open", "globals", "locals", "vars", "getattr",
    "setattr", "delattr", "breakpoint", "memoryview", "object", "super",
    "classmethod", "staticmethod", "property", "dir", "help", "exit", "quit",
})

# Attributes without a leading underscore that still lead to frames, code
# objects or arbitrary attribute lookups (str.format reads "{0.__class__}").
FORBIDDEN_ATTRIBUTES = frozenset({
    "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await",
    "cr_origin", "ag_frame", "ag_code", "ag_await", "f_globals", "f_locals",
    "f_builtins", "f_back", "f_code", "f_trace", "tb_frame", "tb_next", "co_code",
    "co_consts", "co_names", "func_globals", "func_code", "im_func", "im_self",
    "mro", "format", "format_map",
})

# Constructs refused outright, with the reason analysts see.
_REFUSED_NODES: dict[type[ast.AST], str] = {
    ast.Import: "import is not allowed",
    ast.ImportFrom: "import is not allowed",
    # Names outside the script's own namespace are none of its business.
    ast.Global: "'global' statements are not allowed",
    ast.Nonlocal: "'nonlocal' statements are not allowed",
    # A class body can define __getattr__, metaclasses, descriptors...
    ast.ClassDef: "class definitions are not allowed",
    # Coroutines and generator functions hand out objects with live frames and
    # run code when they are closed by the garbage collector.
    ast.AsyncFunctionDef: "async code is not allowed",
    ast.Await: "async code is not allowed",
    ast.AsyncFor: "async code is not allowed",
    ast.AsyncWith: "async code is not allowed",
    ast.Yield: "generators (yield) are not allowed",
    ast.YieldFrom: "generators (yield) are not allowed",
}


def _where(mode: str) -> str:
    return "in a script task" if mode == "exec" else "in an expression"


def _problems(tree: ast.AST, mode: str) -> Iterator[tuple[int, str]]:
    """Yield (line, message) for each construct the sandbox refuses."""
    where = _where(mode)
    # ast.walk is iterative, so a deeply nested tree cannot overflow the stack here.
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        reason = _REFUSED_NODES.get(type(node))
        if reason:
            yield line, f"{reason} {where}"
        elif isinstance(node, ast.Attribute):
            yield from _attribute_problems(line, node.attr)
        elif isinstance(node, ast.MatchClass):
            # `case int(__class__=c)` reads an attribute without an Attribute node.
            for attr in node.kwd_attrs:
                yield from _attribute_problems(line, attr)
        elif isinstance(node, ast.NamedExpr) and mode == "eval":
            # An expression must not write into the process variables.
            yield line, "assignment expressions (:=) are not allowed in an expression"
        elif (name := _bound_name(node)) is not None:
            if name.startswith("__"):
                yield line, f"use of the name '{name}' is not allowed"
            elif name in FORBIDDEN_NAMES:
                yield line, f"use of '{name}' is not allowed {where}"


def _bound_name(node: ast.AST) -> str | None:
    """Return the name a node reads or binds, for the kinds of node that carry one."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.arg):
        return node.arg
    if isinstance(node, ast.FunctionDef | ast.ExceptHandler | ast.MatchAs | ast.MatchStar):
        return node.name
    if isinstance(node, ast.MatchMapping):
        return node.rest
    return None


def _attribute_problems(line: int, attr: str) -> Iterator[tuple[int, str]]:
    if attr.startswith("_") or attr in FORBIDDEN_ATTRIBUTES:
        yield line, f"access to attribute '{attr}' is not allowed"


def check(source: str, mode: str = "exec") -> ast.AST:
    """Parse ``source`` and refuse what the sandbox does not allow.

    ``mode`` is "exec" for scripts and "eval" for expressions. Raises
    ``SyntaxError`` for code that does not parse (compile-time warnings such as
    invalid escapes count as syntax errors) and ``SandboxViolation`` for the
    first refused construct.
    """
    try:
        # Warnings become errors: they are mistakes the analyst should see now,
        # not noise in the engine's log on every deployment.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            tree = ast.parse(source, FILENAME, mode)
    except (RecursionError, MemoryError) as exc:
        raise SandboxViolation("the code is nested too deeply") from exc
    found = sorted(_problems(tree, mode))
    if found:
        line, message = found[0]
        raise SandboxViolation(message, line or None)
    return tree


def check_script(source: str) -> ast.AST:
    """Check a script task's source; see :func:`check`."""
    return check(source, "exec")


# -- the rewrite (layer 2) ----------------------------------------------------------

_BINOP_GUARDS: dict[type[ast.operator], tuple[str, str]] = {
    # operator: (guard for a op b, guard for a op= b)
    ast.Add: ("__sb_add__", "__sb_iadd__"),
    ast.Mult: ("__sb_mul__", "__sb_imul__"),
    ast.Pow: ("__sb_pow__", "__sb_pow__"),
    ast.LShift: ("__sb_lshift__", "__sb_lshift__"),
}


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(ast.Name(name, ast.Load()), list(args), [])


class _Rewriter(ast.NodeTransformer):
    """Route risky operators through guards and put checkpoints where time is spent.

    Helper names start with "__", which the static check refuses in user code,
    so scripts can neither call nor replace them.
    """

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        guard = _BINOP_GUARDS.get(type(node.op))
        if guard is None:
            return node
        return ast.copy_location(_call(guard[0], node.left, node.right), node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        guard = _BINOP_GUARDS.get(type(node.op))
        if guard is None:
            return node
        # x op= y  ->  x = guard(x, y); a subscript target is evaluated twice.
        value = ast.copy_location(_call(guard[1], _as_load(node.target), node.value), node)
        return ast.copy_location(ast.Assign([node.target], value), node)

    def visit_While(self, node: ast.While) -> ast.AST:
        return self._checkpoint_first(node)

    def visit_For(self, node: ast.For) -> ast.AST:
        return self._checkpoint_first(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return self._checkpoint_first(node)  # bounds recursion as well as loops

    def _checkpoint_first(self, node: ast.While | ast.For | ast.FunctionDef) -> ast.AST:
        self.generic_visit(node)
        first = ast.copy_location(ast.Expr(_call("__sb_checkpoint__")), node.body[0])
        node.body.insert(0, first)
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        self.generic_visit(node)
        # checkpoint() returns True, so "checkpoint() and body" is the body's value.
        node.body = ast.copy_location(
            ast.BoolOp(ast.And(), [_call("__sb_checkpoint__"), node.body]), node.body)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        self.generic_visit(node)
        node.ifs.insert(0, _call("__sb_checkpoint__"))  # runs once per element
        return node


def _as_load(target: ast.expr) -> ast.expr:
    """Return a copy of an assignment target that reads the value instead."""
    load = copy.deepcopy(target)
    for node in ast.walk(load):
        if hasattr(node, "ctx"):
            node.ctx = ast.Load()
    return load


@lru_cache(maxsize=4096)
def compile_restricted(source: str, mode: str = "exec") -> CodeType:
    """Check, rewrite and compile ``source``; cached by source text.

    What :func:`facts` tells about the code is recorded on the way. Raises
    ``SyntaxError`` or ``SandboxViolation`` like :func:`check`.
    """
    tree = check(source, mode)
    found = CodeFacts(source, plain=mode == "eval" and _is_plain(tree), names=_names(tree))
    try:
        rewritten = ast.fix_missing_locations(_Rewriter().visit(tree))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            code: CodeType = compile(rewritten, FILENAME, mode)
    except (RecursionError, MemoryError) as exc:
        raise SandboxViolation("the code is nested too deeply") from exc
    _FACTS[code] = found
    return code


# -- what the engine needs to know about checked code ----------------------------------

class CodeFacts:
    """What the static check learnt about one piece of code.

    ``plain``: an expression whose cost is bounded by the size of the data it
    reads (see :data:`PLAIN_NODES`), safe to evaluate in the engine's own
    process. ``names``: every name the code reads, writes or deletes; code in
    the sandbox has no way to reach a variable it does not name (no
    ``globals()``, ``vars()`` or ``getattr``), so these are all the process
    variables it needs.
    """

    __slots__ = ("names", "plain", "source")

    def __init__(self, source: str, *, plain: bool, names: frozenset[str]) -> None:
        self.source = source
        self.plain = plain
        self.names = names


# Code objects of compile_restricted, weakly: its cache decides how long they live.
_FACTS: weakref.WeakKeyDictionary[CodeType, CodeFacts] = weakref.WeakKeyDictionary()


def facts(code: CodeType) -> CodeFacts | None:
    """What :func:`compile_restricted` learnt about ``code``; None for code it did not make."""
    return _FACTS.get(code)


# The nodes of a plain expression. Each step costs at most a pass over the data
# it reads (comparisons, lookups, slices, set and dict union): nothing loops,
# nothing calls code, nothing repeats a value (no *, **, <<, + or % which is
# also string formatting, no f-string with a width).
PLAIN_NODES = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.Attribute, ast.Subscript,
    ast.Slice, ast.Compare, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub,
    ast.UAdd, ast.Invert, ast.IfExp, ast.List, ast.Tuple, ast.Set, ast.Dict,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In,
    ast.NotIn, ast.BinOp, ast.Sub, ast.Div, ast.FloorDiv, ast.BitAnd, ast.BitOr,
    ast.BitXor, ast.RShift, ast.Call,
)
# Builtins a plain expression may call: linear in their argument at worst.
# (JUEL's `empty` is translated into a call of isinstance.)
PLAIN_CALLS = frozenset({
    "isinstance", "len", "bool", "int", "float", "str", "abs", "min", "max", "any", "all",
})


def _is_plain(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if not isinstance(node, PLAIN_NODES):
            return False
        if isinstance(node, ast.BinOp) and not isinstance(node.op, PLAIN_NODES):
            return False
        if isinstance(node, ast.Call) and not (
                isinstance(node.func, ast.Name) and node.func.id in PLAIN_CALLS
                and not node.keywords
                and not any(isinstance(arg, ast.Starred) for arg in node.args)):
            return False
    return True


def _names(tree: ast.AST) -> frozenset[str]:
    return frozenset(name for name in map(_bound_name, ast.walk(tree)) if name is not None)
