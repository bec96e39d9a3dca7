"""What sandboxed code runs with: guards, the deadline and the builtins it sees.

The rewrite of :mod:`engine.scripting.restricted` routes risky operators through
the guards here and puts :func:`checkpoint` calls where time is spent; the
builtins a script sees are :data:`SAFE_BUILTINS`, never the real ones.

Why checkpoints and not ``sys.settrace``: CPython 3.11 reports no line events
for a tight loop such as ``while True: pass``, and it removes a trace function
that raises, so a script that catches the timeout once would run on unbounded.
Checkpoints cannot see work done inside one C call (``sum`` over a long list,
``str.ljust``); the process a script runs in is killed at its deadline for that
(:mod:`engine.scripting.isolation`), the checkpoints only make the common case
end sooner and name the line.
"""

from __future__ import annotations

import builtins
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any, TypeVar

from .errors import SandboxViolation

MAX_ITEMS = 10_000_000  # longest str/bytes/list/tuple an operator may build
MAX_INT_BITS = 100_000  # ~30,000 decimal digits, far beyond any business number
MAX_ROUND_DIGITS = 1_000

T = TypeVar("T")


class Deadline(BaseException):
    """Raised at a checkpoint when time is up.

    A BaseException that scripts have no name for, so ``except Exception`` and
    the named exceptions they can see never catch it. A bare ``except:`` can,
    but every later checkpoint raises it again, and a run that swallowed it
    still ends as a timeout.
    """



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
    """Raise Deadline if the current run is past its deadline; otherwise return True."""
    deadline = getattr(_run, "deadline", None)
    if deadline is None:
        # A function a script left in the data, called by code outside the sandbox.
        raise SandboxViolation("sandboxed code can only run inside the sandbox")
    if time.monotonic() > deadline:
        _run.expired = True
        raise Deadline
    return True


def call_with_deadline(function: Callable[[], T], timeout: float) -> tuple[T, bool]:
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


HELPERS: dict[str, Callable[..., Any]] = {
    "__sb_add__": guarded_add,
    "__sb_iadd__": guarded_iadd,
    "__sb_mul__": guarded_mul,
    "__sb_imul__": guarded_imul,
    "__sb_pow__": guarded_pow,
    "__sb_lshift__": guarded_lshift,
    "__sb_checkpoint__": checkpoint,
}


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
    # JUEL's and JSON's literals, as analysts write them in plain conditions too;
    # a process variable of the same name comes first.
    "true": True,
    "false": False,
    "null": None,
    **HELPERS,
}


