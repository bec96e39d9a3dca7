"""Run analysts' Python (script tasks and expressions) in a sandbox.

Process analysts, not developers, write the scripts and conditions, so they are
treated as untrusted. Four layers keep them in their box:

1. A static check of the syntax tree refuses what could reach the interpreter's
   internals: imports, underscore attributes, frame and code attributes,
   ``str.format``, dangerous builtins, classes, generators, ``global``...
2. The syntax tree is rewritten: operators that can explode in one C-level step
   (``**``, ``*``, ``<<``, ``+``) call guards that bound the size of the result,
   and every loop body, comprehension, function and lambda starts with a
   deadline checkpoint.
3. The code runs with a small whitelist of builtins, never the real ones.
4. The checkpoints raise once the run is past its deadline, and again at every
   later checkpoint, so a handler that swallows the timeout cannot keep going.

Why checkpoints and not ``sys.settrace``: CPython 3.11 reports no line events
for a tight loop such as ``while True: pass``, and it removes a trace function
that raises, so a script that catches the timeout once would run on unbounded.

Memory is not bounded beyond the guards of layer 2 (string methods such as
``ljust`` can still allocate a lot); deployments that need a hard limit run the
engine under an OS limit (cgroup, RLIMIT_AS).
"""

from __future__ import annotations

import ast
import builtins
import copy
import math
import threading
import time
import warnings
from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from types import CodeType, ModuleType
from typing import Any, TypeVar, cast

DEFAULT_TIMEOUT = 2.0
MAX_ITEMS = 10_000_000  # longest str/bytes/list/tuple an operator may build
MAX_INT_BITS = 100_000  # ~30,000 decimal digits, far beyond any business number
MAX_ROUND_DIGITS = 1_000
FILENAME = "<script>"

T = TypeVar("T")


class ScriptError(Exception):
    """A script or expression failed; ``line`` is the line in its source, if known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class SandboxViolation(ScriptError):
    """The code tried something the sandbox does not allow."""


class ScriptTimeout(ScriptError):
    """The code ran past its deadline."""


class _Deadline(BaseException):
    """Raised at a checkpoint when time is up.

    A BaseException that scripts have no name for, so ``except Exception`` and
    the named exceptions they can see never catch it. A bare ``except:`` can,
    but every later checkpoint raises it again, and a run that swallowed it
    still ends as a timeout.
    """


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


# -- guards for operators that can explode in one step (layer 2) --------------

_SEQUENCES = (str, bytes, bytearray, list, tuple)


def _too_big(what: str) -> SandboxViolation:
    return SandboxViolation(f"the result of {what} would be too large for a script")


def _check_repeat(seq: Any, count: Any, op: str) -> None:
    if isinstance(count, int) and count > 0 and len(seq) * count > MAX_ITEMS:
        raise _too_big(f"'{op}' ({len(seq)} x {count} items, limit {MAX_ITEMS})")


def _check_mul(a: Any, b: Any, op: str) -> None:
    if isinstance(a, int) and isinstance(b, int):
        if a.bit_length() + b.bit_length() > MAX_INT_BITS:
            raise _too_big(f"'{op}' (integer over {MAX_INT_BITS} bits)")
    elif isinstance(a, _SEQUENCES):
        _check_repeat(a, b, op)
    elif isinstance(b, _SEQUENCES):
        _check_repeat(b, a, op)


def _check_size(result: T, op: str) -> T:
    if isinstance(result, _SEQUENCES) and len(result) > MAX_ITEMS:
        raise _too_big(f"'{op}' ({len(result)} items, limit {MAX_ITEMS})")
    return result


def guarded_add(a: Any, b: Any) -> Any:
    """Return ``a + b``, refusing sequences longer than MAX_ITEMS.

    Doubling a string in a loop would otherwise reach gigabytes in a few steps.
    """
    return _check_size(a + b, "+")


def guarded_iadd(a: Any, b: Any) -> Any:
    """Return ``a += b`` (in place for lists), refusing sequences longer than MAX_ITEMS."""
    a += b
    return _check_size(a, "+=")


def guarded_mul(a: Any, b: Any) -> Any:
    """Return ``a * b`` unless the result would be a huge integer or sequence."""
    _check_mul(a, b, "*")
    return a * b


def guarded_imul(a: Any, b: Any) -> Any:
    """Return ``a *= b`` (in place for lists) unless the result would be huge."""
    _check_mul(a, b, "*=")
    a *= b
    return a


def guarded_pow(base: Any, exp: Any, mod: Any = None) -> Any:
    """Return ``pow(base, exp[, mod])`` unless an integer result would be huge."""
    if isinstance(base, int) and isinstance(exp, int):
        if mod is not None:
            # A modular power costs exp's bits times mod's bits squared.
            size = max(exp.bit_length(), mod.bit_length() if isinstance(mod, int) else 0)
            if size > 4096:
                raise _too_big("pow() with a modulus (operands over 4096 bits)")
        elif exp > 0 and abs(base) > 1 and (
            exp.bit_length() > 64 or exp * math.log2(abs(base)) > MAX_INT_BITS
        ):
            raise _too_big(f"'**' (integer over {MAX_INT_BITS} bits)")
    return pow(base, exp) if mod is None else pow(base, exp, mod)


def guarded_lshift(a: Any, b: Any) -> Any:
    """Return ``a << b`` unless the result would be an integer over MAX_INT_BITS bits."""
    if isinstance(a, int) and isinstance(b, int) and a and a.bit_length() + b > MAX_INT_BITS:
        raise _too_big(f"'<<' (integer over {MAX_INT_BITS} bits)")
    return a << b


def guarded_range(*args: int) -> range:
    """Return ``range(*args)``, refusing more than MAX_ITEMS numbers.

    A range is lazy, but sum(range(10**12)) or list(range(10**12)) loops in C,
    where no checkpoint runs.
    """
    numbers = range(*args)
    try:
        size = len(numbers)
    except OverflowError:
        size = MAX_ITEMS + 1
    if size > MAX_ITEMS:
        raise SandboxViolation(f"range() of more than {MAX_ITEMS} numbers is not allowed")
    return numbers


def guarded_round(number: Any, ndigits: int | None = None) -> Any:
    """Return ``round(number, ndigits)``; round(5, -10**8) would compute 10**10**8."""
    if ndigits is None:
        return round(number)
    if isinstance(ndigits, int) and abs(ndigits) > MAX_ROUND_DIGITS:
        raise SandboxViolation(f"round() to more than {MAX_ROUND_DIGITS} digits is not allowed")
    return round(number, ndigits)


def guarded_map(function: Callable[..., Any], *iterables: Any) -> Iterator[Any]:
    """Yield like map(), passing a checkpoint per item.

    The builtin loops in C, so map(items.append, items) would grow a list
    forever without reaching a checkpoint; filter() is wrapped for the same reason.
    """
    for args in zip(*iterables, strict=False):
        checkpoint()
        yield function(*args)


def guarded_filter(function: Callable[[Any], Any] | None, iterable: Any) -> Iterator[Any]:
    """Yield like filter(), passing a checkpoint per item."""
    for item in iterable:
        checkpoint()
        if (item if function is None else function(item)):
            yield item


# -- the deadline (layer 4) -------------------------------------------------------

# The deadline of the run in progress on this thread; code runs synchronously,
# so a thread-local is enough.
_run = threading.local()


def checkpoint() -> bool:
    """Raise _Deadline if the current run is past its deadline; otherwise return True."""
    deadline = getattr(_run, "deadline", None)
    if deadline is None:
        # A function a script left in the data, called by code outside the sandbox.
        raise SandboxViolation("sandboxed code can only run inside the sandbox")
    if time.monotonic() > deadline:
        _run.expired = True
        raise _Deadline
    return True


def _call_with_deadline(function: Callable[[], T], timeout: float) -> tuple[T, bool]:
    """Call ``function`` with checkpoints armed; return its result and whether time ran out."""
    outer, outer_expired = getattr(_run, "deadline", None), getattr(_run, "expired", False)
    deadline = time.monotonic() + timeout
    # A helper that runs a nested script must not extend its caller's deadline.
    _run.deadline = deadline if outer is None else min(outer, deadline)
    _run.expired = False
    try:
        result = function()
        return result, _run.expired
    finally:
        _run.deadline, _run.expired = outer, outer_expired


# -- the rewrite (layer 2) ----------------------------------------------------------

_BINOP_GUARDS: dict[type[ast.operator], tuple[str, str]] = {
    # operator: (guard for a op b, guard for a op= b)
    ast.Add: ("__sb_add__", "__sb_iadd__"),
    ast.Mult: ("__sb_mul__", "__sb_imul__"),
    ast.Pow: ("__sb_pow__", "__sb_pow__"),
    ast.LShift: ("__sb_lshift__", "__sb_lshift__"),
}
_HELPERS: dict[str, Callable[..., Any]] = {
    "__sb_add__": guarded_add,
    "__sb_iadd__": guarded_iadd,
    "__sb_mul__": guarded_mul,
    "__sb_imul__": guarded_imul,
    "__sb_pow__": guarded_pow,
    "__sb_lshift__": guarded_lshift,
    "__sb_checkpoint__": checkpoint,
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

    Raises ``SyntaxError`` or ``SandboxViolation`` like :func:`check`.
    """
    tree = check(source, mode)
    try:
        rewritten = ast.fix_missing_locations(_Rewriter().visit(tree))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            code: CodeType = compile(rewritten, FILENAME, mode)
    except (RecursionError, MemoryError) as exc:
        raise SandboxViolation("the code is nested too deeply") from exc
    return code


# -- the builtins a script sees (layer 3) ----------------------------------------

def _ignore_print(*args: Any, **kwargs: Any) -> None:
    """Accept print() so scripts written for plain Python run, but show nothing."""


SAFE_BUILTINS: Mapping[str, Any] = {
    **{name: getattr(builtins, name) for name in (
        "abs", "all", "any", "bool", "chr", "dict", "divmod", "enumerate", "float",
        "frozenset", "int", "isinstance", "len", "list", "max", "min", "ord", "repr",
        "reversed", "set", "sorted", "str", "sum", "tuple", "zip",
        # No BaseException: scripts must not be able to name the timeout's base class.
        "Exception", "ArithmeticError", "AssertionError", "AttributeError", "IndexError",
        "KeyError", "LookupError", "NameError", "OverflowError", "RecursionError",
        "RuntimeError", "TypeError", "ValueError", "ZeroDivisionError",
    )},
    "map": guarded_map,
    "filter": guarded_filter,
    "pow": guarded_pow,
    "range": guarded_range,
    "round": guarded_round,
    "print": _ignore_print,
    "date": date,
    "datetime": datetime,
    "timedelta": timedelta,
    "timezone": timezone,
    **_HELPERS,
}


# -- running ------------------------------------------------------------------------

def _script_line(exc: BaseException) -> int | None:
    """Return the innermost line of sandboxed code in ``exc``'s traceback."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _timed_out(exc: BaseException) -> bool:
    """Tell whether ``exc`` is, or was raised while handling, a timeout."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, _Deadline):
            return True
        seen = seen.__context__
    return False


class Sandbox:
    """Runs scripts and evaluates expressions with one timeout and one set of helpers.

    ``extra_globals`` adds names (helper functions, constants) next to the safe
    builtins; process variables with the same name take precedence, as in
    SpiffWorkflow's own environment.
    """

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT,
                 extra_globals: Mapping[str, Any] | None = None) -> None:
        self.timeout = timeout
        self._builtins = self._merge(extra_globals)
        self._globals = {"__builtins__": self._builtins}

    @staticmethod
    def _merge(extra: Mapping[str, Any] | None) -> dict[str, Any]:
        merged = dict(SAFE_BUILTINS)
        if extra:
            merged.update(extra)
        return merged

    def run(self, source: str, variables: dict[str, Any], *,
            extra: Mapping[str, Any] | None = None) -> None:
        """Run a script with ``variables`` as its global namespace.

        Top-level assignments update ``variables``; functions, modules, classes
        and new names starting with "_" are removed afterwards, since they are
        not process data. ``extra`` adds names for this call only.
        """
        try:
            code = compile_restricted(source, "exec")
        except SyntaxError as exc:
            raise ScriptError(f"SyntaxError: {exc.msg}", exc.lineno) from exc
        known = set(variables)
        variables["__builtins__"] = self._merge(extra) if extra else self._builtins
        try:
            self._guarded(lambda: exec(code, variables), "exec")
        finally:
            _clean(variables, known)

    def evaluate(self, expression: str | CodeType, variables: Mapping[str, Any], *,
                 extra: Mapping[str, Any] | None = None) -> Any:
        """Evaluate a Python expression (source text or code from compile_restricted)."""
        if isinstance(expression, CodeType):
            code = expression
        else:
            try:
                code = compile_restricted(expression.strip(), "eval")
            except SyntaxError as exc:
                raise ScriptError(f"SyntaxError: {exc.msg}", exc.lineno) from exc
        if not any(isinstance(const, CodeType) for const in code.co_consts):
            # Hot path. Without lambdas or comprehensions, names are read with
            # LOAD_NAME, which looks in the locals mapping: no copy of the variables.
            names: Mapping[str, Any] = variables
            if extra:
                # ChainMap only reads here; its MutableMapping signature is too strict.
                names = ChainMap(cast(dict[str, Any], variables), cast(dict[str, Any], extra))
            return self._guarded(lambda: eval(code, self._globals, names), "eval")
        # Nested scopes read globals only, so they need one merged dict.
        namespace = {**(extra or {}), **variables,
                     "__builtins__": self._merge(extra) if extra else self._builtins}
        return self._guarded(lambda: eval(code, namespace), "eval")

    def _guarded(self, function: Callable[[], T], mode: str) -> T:
        """Call ``function`` under the deadline, turning whatever escapes into a ScriptError."""
        try:
            result, expired = _call_with_deadline(function, self.timeout)
        except _Deadline as exc:
            raise self._timeout(mode, _script_line(exc)) from None
        except ScriptError as exc:
            if exc.line is None:
                exc.line = _script_line(exc)
            raise
        except Exception as exc:
            if _timed_out(exc):
                raise self._timeout(mode, _script_line(exc)) from None
            raise _runtime_error(exc, mode) from exc
        if expired:  # the code swallowed the timeout and finished anyway
            raise self._timeout(mode, None)
        return result

    def _timeout(self, mode: str, line: int | None) -> ScriptTimeout:
        what = "the script" if mode == "exec" else "the expression"
        return ScriptTimeout(f"{what} exceeded the time limit of {self.timeout:g} s", line)


def _runtime_error(exc: Exception, mode: str) -> ScriptError:
    line = _script_line(exc)
    if isinstance(exc, NameError) and exc.name and hasattr(builtins, exc.name):
        return SandboxViolation(f"the builtin '{exc.name}' is not available {_where(mode)}",
                                line)
    return ScriptError(f"{type(exc).__name__}: {exc}", line)


def _clean(variables: MutableMapping[str, Any], known: set[str]) -> None:
    """Remove what a run leaves in the namespace that is not process data."""
    variables.pop("__builtins__", None)
    leftovers = [
        name for name, value in variables.items()
        if callable(value) or isinstance(value, ModuleType)
        or (name.startswith("_") and name not in known)
    ]
    for name in leftovers:
        del variables[name]


_DEFAULT = Sandbox()


def _sandbox(timeout: float, extra_globals: Mapping[str, Any] | None) -> Sandbox:
    if timeout == DEFAULT_TIMEOUT and not extra_globals:
        return _DEFAULT
    return Sandbox(timeout=timeout, extra_globals=extra_globals)


def run_script(source: str, variables: dict[str, Any], *, timeout: float = DEFAULT_TIMEOUT,
               extra_globals: Mapping[str, Any] | None = None) -> None:
    """Run a script task's source on ``variables``; see :meth:`Sandbox.run`."""
    _sandbox(timeout, extra_globals).run(source, variables)


def evaluate(expression: str | CodeType, variables: Mapping[str, Any], *,
             timeout: float = DEFAULT_TIMEOUT,
             extra_globals: Mapping[str, Any] | None = None) -> Any:
    """Evaluate a Python expression on ``variables``; see :meth:`Sandbox.evaluate`."""
    return _sandbox(timeout, extra_globals).evaluate(expression, variables)
