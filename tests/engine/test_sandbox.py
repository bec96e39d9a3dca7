"""The sandbox for script tasks and expressions: escapes refused, limits enforced."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from engine.scripting import (
    Sandbox,
    SandboxViolation,
    ScriptError,
    ScriptMemoryError,
    ScriptTimeout,
    UnstorableValue,
    check_script,
    compile_restricted,
    evaluate,
    run_script,
)

TIMEOUT = 0.3


def _run(source: str, **variables: Any) -> dict[str, Any]:
    run_script(source, variables, timeout=TIMEOUT)
    return variables


def _refused(source: str) -> SandboxViolation:
    with pytest.raises(SandboxViolation) as caught:
        _run(source)
    return caught.value


# (script, the message it is refused with): known ways out of a Python sandbox.
ESCAPES = [
    ("import os", "line 1: import is not allowed in a script task"),
    ("x = 1\n\nfrom os import path", "line 3: import is not allowed in a script task"),
    ("__import__('os')", "line 1: use of the name '__import__' is not allowed"),
    ("().__class__.__bases__[0].__subclasses__()",
     "line 1: access to attribute '__bases__' is not allowed"),
    ("getattr((), '__class__')", "line 1: use of 'getattr' is not allowed in a script task"),
    ("open('/etc/passwd').read()", "line 1: use of 'open' is not allowed in a script task"),
    ("exec('1')", "line 1: use of 'exec' is not allowed in a script task"),
    ("eval('1')", "line 1: use of 'eval' is not allowed in a script task"),
    ("compile('1', 'x', 'exec')", "line 1: use of 'compile' is not allowed in a script task"),
    ("g = globals()", "line 1: use of 'globals' is not allowed in a script task"),
    ("v = vars()", "line 1: use of 'vars' is not allowed in a script task"),
    ("f = (lambda: 0).__globals__", "line 1: access to attribute '__globals__' is not allowed"),
    ("g = (x for x in [1])\nf = g.gi_frame.f_globals",
     "line 2: access to attribute 'f_globals' is not allowed"),
    ("s = '{0.__class__}'.format(1)", "line 1: access to attribute 'format' is not allowed"),
    ("s = '{x}'.format_map({})", "line 1: access to attribute 'format_map' is not allowed"),
    ("m = str.mro()", "line 1: access to attribute 'mro' is not allowed"),
    ("b = __builtins__", "line 1: use of the name '__builtins__' is not allowed"),
    ("class Meta(type):\n    pass", "line 1: class definitions are not allowed in a script task"),
    ("def f():\n    global x\n    x = 1",
     "line 2: 'global' statements are not allowed in a script task"),
    ("def g():\n    yield 1", "line 2: generators (yield) are not allowed in a script task"),
    ("async def f():\n    pass", "line 1: async code is not allowed in a script task"),
    ("try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    t = e.__traceback__.tb_frame",
     "line 4: access to attribute '__traceback__' is not allowed"),
    ("match 1:\n    case int(__class__=c):\n        pass",
     "line 2: access to attribute '__class__' is not allowed"),
    ("o = object", "line 1: use of 'object' is not allowed in a script task"),
    ("s = super()", "line 1: use of 'super' is not allowed in a script task"),
]


@pytest.mark.parametrize(("source", "message"), ESCAPES)
def test_escape_is_refused(source: str, message: str) -> None:
    error = _refused(source)
    assert str(error) == message
    assert error.line == int(message.split(":")[0].removeprefix("line "))


@pytest.mark.parametrize(("source", "name"), [("t = type(1)", "type"), ("i = id(1)", "id"),
                                              ("s = input()", "input")])
def test_missing_builtins_give_a_clear_error(source: str, name: str) -> None:
    # These names stay usable as process variables, so they are refused at run time.
    error = _refused(source)
    assert str(error) == f"line 1: the builtin '{name}' is not available in a script task"
    assert _run(f"x = {name}", **{name: "invoice"})["x"] == "invoice"


@pytest.mark.parametrize(("source", "message"), [
    ("x = 10 ** 10 ** 10", "'**' (integer over 100000 bits)"),
    ("x = pow(10, 10 ** 10)", "'**' (integer over 100000 bits)"),
    ("x = 'a' * 10 ** 12", "'*' (1 x 1000000000000 items, limit 10000000)"),
    ("x = [0] * 10 ** 11", "'*' (1 x 100000000000 items, limit 10000000)"),
    ("x = 1 << 10 ** 10", "'<<' (integer over 100000 bits)"),
    ("x = 2\nx **= 10 ** 9", "'**' (integer over 100000 bits)"),
    ("s = 'ab'\ns *= 10 ** 9", "'*=' (2 x 1000000000 items, limit 10000000)"),
    ("s = 'a'\nwhile True:\n    s = s + s", "'+' (16777216 items, limit 10000000)"),
])
def test_explosive_operators_are_bounded(source: str, message: str) -> None:
    error = _refused(source)
    assert str(error).endswith(f"the result of {message} would be too large for a script")
    assert error.line == source.count("\n") + 1


@pytest.mark.parametrize(("source", "message"), [
    ("x = list(range(10 ** 12))", "line 1: range() of more than 10000000 numbers is not allowed"),
    ("x = sum(range(10 ** 12))", "line 1: range() of more than 10000000 numbers is not allowed"),
    ("x = round(5, -10 ** 8)", "line 1: round() to more than 1000 digits is not allowed"),
])
def test_c_level_loops_are_bounded(source: str, message: str) -> None:
    assert str(_refused(source)) == message


ENDLESS = [
    "while True:\n    pass",
    "x = 0\nwhile True:\n    x += 1",
    # Handlers that try to swallow the timeout: it is raised again at every checkpoint.
    "while True:\n    try:\n        while True: pass\n    except BaseException:\n        pass",
    "while True:\n    try:\n        while True: pass\n    except:\n        pass",
    "while True:\n    try:\n        while True: pass\n    except Exception:\n        pass",
    "try:\n    while True: pass\nfinally:\n    while True: pass",
    "def f():\n    try:\n        f()\n    except:\n        f()\nf()",
    "x = [1 for a in range(10 ** 7) for b in range(10 ** 7)]",
    "x = sorted(range(10 ** 5), key=lambda i: sum(1 for j in range(10 ** 7)))",
    # C-level loops that feed themselves: map and filter pass a checkpoint per item.
    "items = [1]\nany(map(items.append, items))",
    "items = [1]\nx = list(filter(items.append, items))",
    "f = lambda: f()\nwhile True:\n    try:\n        f()\n    except RecursionError:\n        pass",
]


@pytest.mark.parametrize("source", ENDLESS)
def test_endless_code_hits_the_deadline(source: str) -> None:
    started = time.monotonic()
    with pytest.raises(ScriptTimeout) as caught:
        _run(source)
    # Unbounded, each of these runs for hours; stopping within seconds shows the
    # deadline works. The margin absorbs a loaded CI machine and the C-level
    # steps (such as building a 10**7 list) that run between two checkpoints.
    assert time.monotonic() - started < TIMEOUT + 10
    assert "the script exceeded the time limit of 0.3 s" in str(caught.value)


def test_swallowed_timeout_still_fails_the_script() -> None:
    with pytest.raises(ScriptTimeout, match=r"^the script exceeded the time limit"):
        _run("try:\n    while True: pass\nexcept:\n    done = True")


def test_deadline_works_in_another_thread() -> None:
    errors: list[BaseException] = []

    def target() -> None:
        try:
            _run("while True:\n    pass")
        except ScriptError as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(TIMEOUT + 10)
    assert not thread.is_alive()
    assert [type(e) for e in errors] == [ScriptTimeout]


def test_functions_left_in_data_never_leave_the_script() -> None:
    variables: dict[str, Any] = {}
    with pytest.raises(UnstorableValue, match=r"variable fs\[0\] holds a function"):
        run_script("fs = [lambda: 1]", variables, timeout=TIMEOUT)
    assert variables == {}


# -- what scripts may do ---------------------------------------------------------

def test_arithmetic_loops_and_comprehensions() -> None:
    source = (
        "total = 0\n"
        "for item in items:\n"
        "    if item['qty'] > 1:\n"
        "        total += item['qty'] * item['price']\n"
        "names = sorted({item['name'] for item in items}, key=lambda n: -len(n))\n"
        "by_name = {item['name']: item['qty'] for item in items}\n"
        "big = any(i['price'] > 50 for i in items)\n"
        "labels = list(map(str, filter(None, [0, 1, 2])))\n"
        "n = 0\n"
        "while n < 10:\n"
        "    n += 3\n"
        "q, r = divmod(17, 5)\n"
        "avg = round(sum(i['price'] for i in items) / len(items), 2)\n"
    )
    items = [{"name": "bolt", "qty": 3, "price": 2.5},
             {"name": "washer", "qty": 1, "price": 60.0}]
    result = _run(source, items=items)
    assert result["total"] == 7.5
    assert result["names"] == ["washer", "bolt"]
    assert result["by_name"] == {"bolt": 3, "washer": 1}
    assert result["big"] is True
    assert result["labels"] == ["1", "2"]
    assert result["n"] == 12
    assert (result["q"], result["r"]) == (3, 2)
    assert result["avg"] == 31.25


def test_lists_and_dicts_changed_in_place_reach_the_variables() -> None:
    result = _run("docs.append('b')\ndocs += ['c']\nmeta['count'] = len(docs)\n"
                  "meta['tags'] *= 2", docs=["a"], meta={"tags": ["x"]})
    assert result["docs"] == ["a", "b", "c"]
    assert result["meta"] == {"count": 3, "tags": ["x", "x"]}


def test_dates_and_strings() -> None:
    result = _run(
        "due = datetime(2027, 1, 31, 9, 0) + timedelta(days=14)\n"
        "label = f'{applicant.upper()} due {due.date().isoformat()}'\n"
        "weekday = date(2027, 1, 1).weekday()\n"
        "parts = 'a,b'.split(',')\n",
        applicant="pt maju",
    )
    assert result["due"] == datetime(2027, 1, 31, 9, 0) + timedelta(days=14)
    assert result["label"] == "PT MAJU due 2027-02-14"
    assert result["weekday"] == 4
    assert result["parts"] == ["a", "b"]


def test_scripts_raise_and_catch_named_exceptions() -> None:
    source = ("try:\n    x = {}['missing']\nexcept KeyError:\n    x = 'default'\n"
              "try:\n    int('x')\nexcept (TypeError, ValueError) as exc:\n    why = str(exc)\n")
    result = _run(source)
    assert result["x"] == "default"
    assert result["why"].startswith("invalid literal for int()")


def test_raising_value_error_reports_the_line() -> None:
    with pytest.raises(ScriptError) as caught:
        _run("amount = -5\nif amount < 0:\n    raise ValueError('amount must be positive')")
    error = caught.value
    assert str(error) == "line 3: ValueError: amount must be positive"
    assert error.line == 3
    assert isinstance(error.__cause__, ValueError)
    assert not isinstance(error, SandboxViolation)


@pytest.mark.parametrize(("source", "message"), [
    ("x = 1\ny = 0\nz = x / y", "line 3: ZeroDivisionError: division by zero"),
    ("x = missing + 1", "line 1: NameError: name 'missing' is not defined"),
    ("def f(d):\n    return d['k']\n\nf({})", "line 2: KeyError: 'k'"),
])
def test_runtime_errors_carry_the_line(source: str, message: str) -> None:
    with pytest.raises(ScriptError) as caught:
        _run(source)
    assert str(caught.value) == message
    assert caught.value.__cause__ is not None


def test_syntax_errors() -> None:
    with pytest.raises(ScriptError, match=r"^line 2: SyntaxError: "):
        _run("x = 1\nx = = 2")
    with pytest.raises(SyntaxError):
        check_script("if x\n    pass")


def test_helpers_and_scratch_names_are_not_left_in_the_variables() -> None:
    result = _run(
        "def double(v):\n    return v * 2\n"
        "halve = lambda v: v / 2\n"
        "f = len\n"
        "_scratch = double(4)\n"
        "value = halve(_scratch)\n"
        "print('ignored')\n",
        _kept=1,
    )
    assert result == {"_kept": 1, "value": 4.0}


def test_extra_names_are_visible_read_only_and_variables_take_precedence() -> None:
    """SpiffWorkflow passes data objects as extra names: readable, never stored."""
    variables: dict[str, Any] = {"rate": 2}
    Sandbox(timeout=TIMEOUT).run("a = fee + 1\nb = rate", variables,
                                 extra={"fee": 10, "rate": 99})
    assert variables == {"rate": 2, "a": 11, "b": 2}


# -- expressions ---------------------------------------------------------------

def test_evaluate_expressions() -> None:
    data = {"approved": True, "amount": 150, "docs": ["a", "b"]}
    assert evaluate("approved == True", data) is True
    assert evaluate("amount + 50 > 100 and len(docs) == 2", data) is True
    assert evaluate("[d.upper() for d in docs if amount > 100]", data) == ["A", "B"]
    assert Sandbox().evaluate("fee + amount // 10", data, extra={"fee": 1}) == 16
    assert data == {"approved": True, "amount": 150, "docs": ["a", "b"]}


def test_expressions_cannot_assign() -> None:
    with pytest.raises(SandboxViolation, match=r"assignment expressions \(:=\)"):
        evaluate("(approved := False)", {"approved": True})


def test_expression_timeout() -> None:
    with pytest.raises(ScriptTimeout, match=r"the expression exceeded the time limit of 0\.2 s"):
        evaluate("[1 for a in range(10 ** 7) for b in range(10 ** 7)]", {}, timeout=0.2)


def test_simple_condition_reads_variables_without_copying_them() -> None:
    """The hot path looks names up in the caller's mapping; it never copies it.

    (Its speed is measured in bench/, not asserted here.)
    """

    class CountingVariables(dict[str, object]):
        iterations = 0

        def __iter__(self):  # type: ignore[no-untyped-def]
            CountingVariables.iterations += 1
            return super().__iter__()

        def keys(self):  # type: ignore[no-untyped-def]
            CountingVariables.iterations += 1
            return super().keys()

        def items(self):  # type: ignore[no-untyped-def]
            CountingVariables.iterations += 1
            return super().items()

    code = compile_restricted("approved == True", "eval")
    data = CountingVariables({"approved": True, **{f"v{i}": i for i in range(500)}})
    assert evaluate(code, data) is True
    assert CountingVariables.iterations == 0


# -- the memory budget and where code runs ------------------------------------------

def test_memory_budget_is_configured_and_applied(tmp_path: Any) -> None:
    from engine.config import ConfigError, load_settings

    base = {"SERTIFLOW_INSTANCE_PATH": str(tmp_path), "SERTIFLOW_SECRET_KEY": "x"}
    assert load_settings(base).script_memory_mb == 64
    assert load_settings({**base, "SERTIFLOW_SCRIPT_MEMORY_MB": "16"}).script_memory_mb == 16
    with pytest.raises(ConfigError, match="SERTIFLOW_SCRIPT_MEMORY_MB"):
        load_settings({**base, "SERTIFLOW_SCRIPT_MEMORY_MB": "lots"})
    source = "x = len([0] * (3 * 10 ** 6))"  # 24 MB of list
    small: dict[str, Any] = {}
    with pytest.raises(ScriptMemoryError, match="more than the 16 MB of memory"):
        Sandbox(timeout=TIMEOUT, memory_mb=16).run(source, small)
    assert small == {}
    large: dict[str, Any] = {}
    Sandbox(timeout=TIMEOUT, memory_mb=64).run(source, large)
    assert large == {"x": 3 * 10 ** 6}


def test_plain_conditions_run_in_place_and_others_in_a_child() -> None:
    """Told apart by a value that is not data: only this process can see it."""
    data = {"handle": object(), "items": [3, 1]}
    assert evaluate("handle is not None and len(items) == 2", data) is True
    with pytest.raises(ScriptError, match=r"variable handle holds .*cannot be given"):
        evaluate("sorted([handle])", data)
    copied = evaluate("sorted(items)", data)
    assert copied == [1, 3] and data["items"] == [3, 1]


def test_variables_a_script_does_not_name_are_not_sent() -> None:
    variables = {"used": 1, "unused": object()}  # not data: sending it would fail
    run_script("total = used + 1", variables, timeout=TIMEOUT)
    assert variables["total"] == 2
