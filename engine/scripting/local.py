"""Run checked code in this process, under the deadline, with the safe builtins.

This is the inner runner. The engine uses it for plain expressions only (see
:func:`engine.scripting.restricted.facts`); scripts and every other expression
reach it inside a process of their own, forked for that one run
(:mod:`engine.scripting.zygote`).
"""

from __future__ import annotations

import builtins
from collections import ChainMap
from collections.abc import Callable, Mapping, MutableMapping
from types import CodeType, ModuleType
from typing import Any, TypeVar, cast

from .errors import SandboxViolation, ScriptError, ScriptMemoryError, ScriptTimeout
from .guards import SAFE_BUILTINS, Deadline, call_with_deadline
from .restricted import FILENAME, compile_restricted

DEFAULT_TIMEOUT = 2.0

T = TypeVar("T")


class LocalSandbox:
    """Runs scripts and evaluates expressions in this process with one timeout."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self._builtins = dict(SAFE_BUILTINS)
        self._globals = {"__builtins__": self._builtins}

    def run(self, source: str, variables: dict[str, Any], *,
            extra: Mapping[str, Any] | None = None) -> None:
        """Run a script with ``variables`` as its global namespace.

        Top-level assignments update ``variables``; functions, modules, classes
        and new names starting with "_" are removed afterwards, since they are
        not process data. ``extra`` adds read-only names for this call.
        """
        code = compile_source(source, "exec")
        known = set(variables)
        variables["__builtins__"] = {**self._builtins, **extra} if extra else self._builtins
        try:
            self._guarded(lambda: exec(code, variables), "exec")
        finally:
            clean(variables, known)

    def evaluate(self, expression: str | CodeType, variables: Mapping[str, Any], *,
                 extra: Mapping[str, Any] | None = None) -> Any:
        """Evaluate a Python expression (source text or code from compile_restricted)."""
        code = expression if isinstance(expression, CodeType) else compile_source(
            expression.strip(), "eval")
        if not any(isinstance(const, CodeType) for const in code.co_consts):
            # Hot path. Without lambdas or comprehensions, names are read with
            # LOAD_NAME, which looks in the locals mapping: no copy of the variables.
            names: Mapping[str, Any] = variables
            if extra:
                # ChainMap only reads here; its MutableMapping signature is too strict.
                names = ChainMap(cast(dict[str, Any], variables), cast(dict[str, Any], extra))
            return self._guarded(lambda: eval(code, self._globals, names), "eval")
        # Nested scopes read globals only, so they need one merged dict.
        namespace = {**(extra or {}), **variables, "__builtins__": self._builtins}
        return self._guarded(lambda: eval(code, namespace), "eval")

    def _guarded(self, function: Callable[[], T], mode: str) -> T:
        """Call ``function`` under the deadline, turning whatever escapes into a ScriptError."""
        try:
            result, expired = call_with_deadline(function, self.timeout)
        except Deadline as exc:
            raise timeout_error(mode, self.timeout, script_line(exc)) from None
        except ScriptError as exc:
            if exc.line is None:
                exc.line = script_line(exc)
            raise
        except Exception as exc:
            if _timed_out(exc):
                raise timeout_error(mode, self.timeout, script_line(exc)) from None
            raise _runtime_error(exc, mode) from exc
        if expired:  # the code swallowed the timeout and finished anyway
            raise timeout_error(mode, self.timeout, None)
        return result


def compile_source(source: str, mode: str) -> CodeType:
    """compile_restricted, with a syntax error as a ScriptError naming its line."""
    try:
        return compile_restricted(source, mode)
    except SyntaxError as exc:
        raise ScriptError(f"SyntaxError: {exc.msg}", exc.lineno) from exc


def timeout_error(mode: str, timeout: float, line: int | None) -> ScriptTimeout:
    what = "the script" if mode == "exec" else "the expression"
    return ScriptTimeout(f"{what} exceeded the time limit of {timeout:g} s", line)


def script_line(exc: BaseException) -> int | None:
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
        if isinstance(seen, Deadline):
            return True
        seen = seen.__context__
    return False


def _runtime_error(exc: Exception, mode: str) -> ScriptError:
    line = script_line(exc)
    if isinstance(exc, MemoryError):
        what = "the script" if mode == "exec" else "the expression"
        return ScriptMemoryError(f"{what} needed more memory than it may use", line)
    if isinstance(exc, NameError) and exc.name and hasattr(builtins, exc.name):
        where = "in a script task" if mode == "exec" else "in an expression"
        return SandboxViolation(f"the builtin '{exc.name}' is not available {where}", line)
    return ScriptError(f"{type(exc).__name__}: {exc}", line)


def clean(variables: MutableMapping[str, Any], known: set[str]) -> None:
    """Remove what a run leaves in the namespace that is not process data."""
    variables.pop("__builtins__", None)
    leftovers = [
        name for name, value in variables.items()
        if callable(value) or isinstance(value, ModuleType)
        or (name.startswith("_") and name not in known)
    ]
    for name in leftovers:
        del variables[name]
