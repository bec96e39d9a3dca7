"""Camunda expressions (JUEL, ISO 8601 timer literals, Python) translated to Python."""

from __future__ import annotations

from typing import Any

import pytest

from engine import scripting as sandbox
from engine.scripting.expressions import (
    ExpressionError,
    compile_expression,
    is_timer_literal,
    translate,
)

# (as written in the BPMN file, the Python it becomes)
TRANSLATIONS = [
    ("${approved}", "approved"),
    ("  #{ approved }\n", "approved"),
    ("${!approved}", "(not approved)"),
    ("${x != 1}", "(x != 1)"),
    ("${a == 'x' && !b}", "((a == 'x') and (not b))"),
    # The string is re-quoted by Python's repr; && inside it stays text.
    ('${name == "a && b"}', "(name == 'a && b')"),
    ("${name == '!x || null'}", "(name == '!x || null')"),
    ("${amount gt 100 and ok}", "((amount > 100) and ok)"),
    ("${a lt 1 or b ge 2}", "((a < 1) or (b >= 2))"),
    ("${a eq b || c ne d}", "((a == b) or (c != d))"),
    ("${x le 3}", "(x <= 3)"),
    ("${10 div 4 mod 2}", "((10 / 4) % 2)"),
    ("${true}", "True"),
    ("${false || null == x}", "(False or (None == x))"),
    ("${order.total > 5}", "(order['total'] > 5)"),
    ("${items[0] == 'a'}", "(items[0] == 'a')"),
    ("${x > 1 ? 'big' : 'small'}", "('big' if (x > 1) else 'small')"),
    # Camunda's execution object: calls are kept for the engine's own object.
    ('${execution.getVariable("x")}', "execution.getVariable('x')"),
    ("${execution.processInstanceId == 'x'}", "(execution.getProcessInstanceId() == 'x')"),
    ("PT1H", "'PT1H'"),
    ("P14D", "'P14D'"),
    ("R2/P6M", "'R2/P6M'"),
    ("2027-01-01T00:00:00+07:00", "'2027-01-01T00:00:00+07:00'"),
    ("\n  PT0S  \n", "'PT0S'"),
    ("'PT1H'", "'PT1H'"),
    ("amount > 100 and approved", "amount > 100 and approved"),
    ("{'a': 1}['a'] == x", "{'a': 1}['a'] == x"),
]


@pytest.mark.parametrize(("text", "python"), TRANSLATIONS)
def test_translation(text: str, python: str) -> None:
    assert translate(text) == python


# (expression, variables, value): the meaning, checked by evaluating in the sandbox.
MEANINGS: list[tuple[str, dict[str, Any], Any]] = [
    ("${approved}", {"approved": True}, True),
    ("${!approved}", {"approved": True}, False),
    ("${a == 'x' && !b}", {"a": "x", "b": False}, True),
    ("${a == 'x' && !b}", {"a": "x", "b": True}, False),
    ('${name == "a && b"}', {"name": "a && b"}, True),
    ("${x != 1}", {"x": 1}, False),
    ("${empty docs}", {"docs": []}, True),
    ("${empty docs}", {"docs": None}, True),
    ("${empty docs}", {"docs": ""}, True),
    ("${empty docs}", {"docs": {}}, True),
    ("${empty docs}", {"docs": ["a"]}, False),
    ("${empty docs}", {"docs": 0}, False),  # JUEL: a number is never empty
    ("${not empty docs}", {"docs": ["a"]}, True),
    ("${!empty docs && ok}", {"docs": [], "ok": True}, False),
    ("${amount gt 100 and ok}", {"amount": 150, "ok": True}, True),
    ("${amount gt 100 and ok}", {"amount": 50, "ok": True}, False),
    ("${null == x}", {"x": None}, True),
    # JUEL binds ! tighter than ==; Python's "not a == b" would mean not (a == b).
    ("${!a == b}", {"a": True, "b": False}, True),
    # JUEL compares left to right; Python would chain a < b and b == c.
    ("${a < b == c}", {"a": 1, "b": 2, "c": True}, True),
    ("${1 + 2 * 3}", {}, 7),
    ("${-x + 1}", {"x": 3}, -2),
    ("${7 div 2}", {}, 3.5),
    ("${7 mod 2}", {}, 1),
    ("${007 == 7}", {}, True),
    ("${order.total > 5}", {"order": {"total": 6}}, True),
    ("${x > 1 ? 'big' : 'small'}", {"x": 0}, "small"),
    ("${a ? b ? 1 : 2 : 3}", {"a": True, "b": False}, 2),
    ("P14D", {}, "P14D"),
    ("R3/2027-01-01T00:00:00Z/P1D", {}, "R3/2027-01-01T00:00:00Z/P1D"),
    ("len(docs) >= 2", {"docs": [1, 2]}, True),
]


@pytest.mark.parametrize(("text", "variables", "value"), MEANINGS)
def test_meaning(text: str, variables: dict[str, Any], value: Any) -> None:
    result = sandbox.evaluate(compile_expression(text), variables)
    assert result == value
    assert type(result) is type(value)


@pytest.mark.parametrize("text", [
    "PT1H", "P14D", "P1Y2M3DT4H5M6S", "PT0.5S", "P2W", "R2/P6M", "R/PT1H",
    "R3/2027-01-01T00:00:00Z/P1D", "2027-01-01T00:00:00+07:00", "2027-01-01T09:00:00Z",
    "2027-01-01T09:00:00", "2027-01-01", " PT5M ",
])
def test_timer_literals(text: str) -> None:
    assert is_timer_literal(text)
    assert translate(text) == repr(text.strip())


@pytest.mark.parametrize("text", [
    "P", "PT", "P1", "PT1D", "pt1h", "'PT1H'", "approved", "P1H", "2027-1-1", "R2",
])
def test_not_timer_literals(text: str) -> None:
    assert not is_timer_literal(text)


@pytest.mark.parametrize(("text", "message"), [
    ("${execution.getEngineServices()}",
     "'execution.getEngineServices()' is not available: sertiflow's execution object knows only"),
    ("${bean.method()}", "the method call 'bean.method()' is not supported"),
    ("${execution.processEngine == 'x'}",
     "'execution.processEngine' is not available: sertiflow's execution object has the properties"),
    ("${a} and ${b}", "only one ${...} per field is supported"),
    ("${a} == ${b}x", "only one ${...} per field is supported"),
    ("${}", "the expression is empty"),
    ("${a +}", "the expression ends too early: a value is missing after '+'"),
    ("${'abc}", "unterminated string"),
    ("${a = 1}", "unexpected '=' at position 5"),
    ("${x -> x + 1}", "unexpected '->' at position 5"),
    ("${(a}", "the expression ends too early: ')' is missing"),
    ("${class}", "'class' is a Python keyword"),
    ("${" + "(" * 500 + "x" + ")" * 500 + "}", "nested too deeply"),
])
def test_untranslatable_juel_is_refused(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        translate(text)
    assert message in str(caught.value)
    assert caught.value.expression == text


def test_method_call_message_says_what_to_write_instead() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression('${exampleBean.invoke("x")}')
    text = str(caught.value)
    assert "write a Python expression over the process variables instead" in text
    assert """(in expression '${exampleBean.invoke("x")}')""" in text


@pytest.mark.parametrize(("text", "message"), [
    ("().__class__", "access to attribute '__class__' is not allowed"),
    ("x ==", "syntax error: invalid syntax"),
    ("x == ${b}", "JUEL is only understood when ${...} is the whole field"),
    ("(x := 1)", "assignment expressions (:=) are not allowed in an expression"),
    ("eval('1')", "use of 'eval' is not allowed in an expression"),
    ("x is 1", 'syntax error: "is" with a literal'),
    ("   ", "the expression is empty"),
])
def test_compile_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text)
    assert message in str(caught.value)
    assert caught.value.expression == text


def test_juel_properties_are_map_keys_not_attributes() -> None:
    # JUEL's x.__class__ is a map lookup, so it cannot reach Python's attributes.
    assert translate("${x.__class__}") == "x['__class__']"
    with pytest.raises(sandbox.ScriptError, match="KeyError: '__class__'"):
        sandbox.evaluate(compile_expression("${x.__class__}"), {"x": {}})


def test_compiled_code_is_cached() -> None:
    assert compile_expression("${approved}") is compile_expression("${approved}")


def test_guards_apply_to_expressions() -> None:
    with pytest.raises(sandbox.SandboxViolation, match="would be too large"):
        sandbox.evaluate(compile_expression("10 ** 10 ** 10 > 1"), {})
