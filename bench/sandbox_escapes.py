"""Known ways out of a Python sandbox, and ways to exhaust it, tried against sertiflow's.

Run: ``.venv/bin/python bench/sandbox_escapes.py [--timeout S] [--memory-mb M]``

Each attempt is a script task's source, run with :func:`engine.scripting.run_script`
exactly as the engine runs one (its own process, the time limit, the memory
budget). An attempt *held* when the sandbox stopped it: the script failed with
one of the sandbox's errors, within the time limit plus a second, without this
process's peak memory growing by more than 64 MiB, and without reaching what it
went for (a variable holding what should be out of reach). The script prints
one line per attempt and the number that held; it exits with status 1 when one
did not.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.scripting import ScriptError, run_script


@dataclass(frozen=True)
class Attempt:
    kind: str
    what: str
    source: str
    # For attempts that may end without an error: tells whether they got out.
    escaped: Callable[[dict[str, Any]], bool] | None = None


def _has(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda variables: name in variables


ATTEMPTS = [
    # -- imports ---------------------------------------------------------------------
    Attempt("import", "import statement", "import os\nx = os.getcwd()"),
    Attempt("import", "from-import", "from subprocess import run"),
    Attempt("import", "__import__ builtin", "x = __import__('os').getcwd()"),
    Attempt("import", "__builtins__ lookup", "x = __builtins__['__import__']('os')"),
    Attempt("import", "importlib through a subclass walk",
            "x = [c for c in ().__class__.__base__.__subclasses__() "
            "if c.__name__ == 'BuiltinImporter'][0].load_module('os')"),
    # -- dunder walks ------------------------------------------------------------------
    Attempt("dunder", "object subclasses", "x = ().__class__.__bases__[0].__subclasses__()"),
    Attempt("dunder", "function globals", "x = (lambda: 0).__globals__"),
    Attempt("dunder", "builtin function's module", "x = len.__self__.open"),
    Attempt("dunder", "helper's globals", "x = map.__globals__"),
    Attempt("dunder", "class dict", "x = datetime.__dict__"),
    Attempt("dunder", "mro() without underscores", "x = str.mro()"),
    Attempt("dunder", "getattr with a string", "x = getattr((), '__cl' + 'ass__')"),
    Attempt("dunder", "vars() of a helper", "x = vars(map)"),
    Attempt("dunder", "match class pattern reads an attribute",
            "match 1:\n    case int(__class__=c):\n        x = c"),
    Attempt("dunder", "class body with a metaclass", "class M(type):\n    pass"),
    Attempt("dunder", "the sandbox's own guards by name", "x = __sb_checkpoint__"),
    # -- format attribute walks -----------------------------------------------------------
    Attempt("format", "str.format field walk", "x = '{0.__class__.__base__}'.format(1)"),
    Attempt("format", "format_map field walk", "x = '{a.__class__}'.format_map({'a': 1})"),
    Attempt("format", "f-string attribute", "x = f'{len.__self__}'"),
    Attempt("format", "bound format method fetched by name",
            "f = '{0.__init__.__globals__}'\nx = f.format"),
    # -- frames and tracebacks --------------------------------------------------------------
    Attempt("frames", "generator frame", "g = (i for i in [1])\nx = g.gi_frame.f_back"),
    Attempt("frames", "traceback frame globals",
            "try:\n    1 / 0\nexcept Exception as e:\n    x = e.__traceback__.tb_frame.f_globals"),
    Attempt("frames", "traceback without underscores",
            "try:\n    1 / 0\nexcept Exception as e:\n    x = e.with_traceback(None).tb_frame"),
    Attempt("frames", "generator code object", "g = (i for i in [1])\nx = g.gi_code.co_consts"),
    # -- unicode identifiers (NFKC folds them to the ASCII names) ---------------------------
    Attempt("unicode", "fullwidth __class__", "x = ().__\uff43\uff4c\uff41\uff53\uff53__"),
    Attempt("unicode", "fullwidth eval", "x = \uff45\uff56\uff41\uff4c('1')"),
    Attempt("unicode", "mathematical-italic open",
            "x = \U0001d45c\U0001d45d\U0001d452\U0001d45b('/etc/passwd').read()"),
    # -- dangerous builtins ---------------------------------------------------------------
    Attempt("builtins", "open a file", "x = open('/etc/passwd').read()"),
    Attempt("builtins", "exec", "exec('import os')"),
    Attempt("builtins", "compile", "x = compile('1', 'f', 'eval')"),
    Attempt("builtins", "type() to build classes", "x = type('X', (), {})"),
    Attempt("builtins", "globals()", "x = globals()"),
    Attempt("builtins", "breakpoint", "breakpoint()"),
    Attempt("builtins", "decorator naming exec", "@exec\ndef f():\n    pass"),
    # -- state between runs -------------------------------------------------------------------
    Attempt("state", "attribute left on a helper by an earlier run",
            "x = map.secret + print.secret", _has("x")),
    # -- CPU ----------------------------------------------------------------------------------
    Attempt("cpu", "endless loop", "while True:\n    pass"),
    Attempt("cpu", "endless loop swallowing the timeout",
            "while True:\n    try:\n        while True: pass\n    except:\n        pass"),
    Attempt("cpu", "one long C call (sum concatenating lists)",
            "x = len(sum([[1]] * 300000, []))"),
    Attempt("cpu", "nested comprehension", "x = [1 for a in range(10**7) for b in range(10**7)]"),
    Attempt("cpu", "map() feeding itself", "items = [1]\nany(map(items.append, items))"),
    # -- memory -----------------------------------------------------------------------------
    Attempt("memory", "str.ljust to 1e9", "x = 'x'.ljust(10 ** 9)"),
    Attempt("memory", "join to 1e9", "x = ''.join(['y' * 1000] * 10 ** 6)"),
    Attempt("memory", "%-format width 1e9", "x = '%1000000000s' % ''"),
    Attempt("memory", "f-string width 1e9", "x = f'{0:1000000000}'"),
    Attempt("memory", "string repetition 1e9", "x = 'ab' * 10 ** 9"),
    Attempt("memory", "a list of ten million", "x = [0] * 10 ** 7"),
    Attempt("memory", "a dict of ten million", "x = {i: i for i in range(10 ** 7)}"),
    Attempt("memory", "doubling a string in a loop",
            "x = 'x'\nwhile True:\n    x = x + x"),
    # -- recursion ----------------------------------------------------------------------------
    Attempt("recursion", "unbounded recursion", "def f(n):\n    return f(n + 1)\nx = f(0)"),
    Attempt("recursion", "recursion swallowing RecursionError",
            "f = lambda: f()\nwhile True:\n    try:\n        f()\n"
            "    except RecursionError:\n        pass"),
    Attempt("recursion", "source nested too deeply to parse",
            "x = " + "[" * 100_000 + "]" * 100_000),
    Attempt("recursion", "data nested too deeply to store",
            "x = []\nfor _ in range(100000):\n    x = [x]"),
    # -- big integers ---------------------------------------------------------------------------
    Attempt("bigint", "power tower", "x = 10 ** 10 ** 10"),
    Attempt("bigint", "pow() builtin", "x = pow(7, 10 ** 12)"),
    Attempt("bigint", "left shift", "x = 1 << 10 ** 12"),
    Attempt("bigint", "round() to a huge negative digit count", "x = round(5, -10 ** 8)"),
    Attempt("bigint", "modular pow with huge operands", "x = pow(3, 10 ** 5000, 10 ** 5000)"),
    Attempt("bigint", "int from 100,000 digits", "x = int('9' * 100000)"),
]


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def attempt(one: Attempt, *, timeout: float, memory_mb: int) -> tuple[bool, str, float]:
    """Run one attempt; return (held, what stopped it, seconds)."""
    peak = _peak_mib()
    variables: dict[str, Any] = {}
    began = time.monotonic()
    try:
        run_script(one.source, variables, timeout=timeout, memory_mb=memory_mb)
        outcome = "ran to the end"
        stopped = False
    except ScriptError as exc:
        outcome = f"{type(exc).__name__}: {exc}"
        stopped = True
    took = time.monotonic() - began
    grown = _peak_mib() - peak
    held = ((stopped or (one.escaped is not None and not one.escaped(variables)))
            and took <= timeout + 1 and grown <= 64)
    if grown > 64:
        outcome += f" (this process grew by {grown:.0f} MiB)"
    return held, outcome, took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=2.0, help="script time limit, s")
    parser.add_argument("--memory-mb", type=int, default=64, help="script memory budget")
    args = parser.parse_args(argv)
    # Something for the "state between runs" attempt to find, if runs shared state.
    with contextlib.suppress(ScriptError):
        run_script("map.secret = 'a'\nprint.secret = 'b'", {}, timeout=args.timeout,
                   memory_mb=args.memory_mb)
    print(f"sandbox escape and exhaustion attempts (time limit {args.timeout:g} s, "
          f"memory budget {args.memory_mb} MB)")
    held_count = 0
    kinds: dict[str, tuple[int, int]] = {}  # kind: (attempts, held)
    for one in ATTEMPTS:
        held, outcome, took = attempt(one, timeout=args.timeout, memory_mb=args.memory_mb)
        held_count += held
        total, good = kinds.get(one.kind, (0, 0))
        kinds[one.kind] = (total + 1, good + held)
        print(f"  {'held' if held else 'FAILED':6} {one.kind:9} {one.what:50.50} "
              f"{took * 1000:7.0f} ms  {outcome[:90]}")
    print("by kind: " + ", ".join(f"{kind} {good}/{total}"
                                  for kind, (total, good) in kinds.items()))
    print(f"held: {held_count} of {len(ATTEMPTS)}")
    return 0 if held_count == len(ATTEMPTS) else 1


if __name__ == "__main__":
    sys.exit(main())
