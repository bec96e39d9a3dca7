"""JUEL (Camunda 7's ${...}) translated into sandboxed Python by engine.bpmn.juel."""

from __future__ import annotations

from typing import Any

import pytest

from engine import scripting
from engine.scripting import juel
from engine.scripting.expressions import (
    ExpressionError,
    compile_expression,
    translate,
    translate_template,
)
from engine.scripting.local import LocalSandbox

# (a whole-field JUEL expression, the Python it becomes)
TRANSLATIONS = [
    # literals
    ("${true}", "True"),
    ("${false}", "False"),
    ("${null}", "None"),
    ("${42}", "42"),
    ("${007}", "7"),
    ("${0}", "0"),
    ("${000}", "0"),
    ("${1.5}", "1.5"),
    ("${1e3}", "1e3"),
    ("${2.5E-2}", "2.5E-2"),
    ("${.5}", ".5"),
    ("${1.}", "1."),
    ("${'text'}", "'text'"),
    ('${"text"}', "'text'"),
    ("${'it\\'s'}", '"it\'s"'),
    ('${"say \\"hi\\""}', "'say \"hi\"'"),
    ("${'back\\\\slash'}", "'back\\\\slash'"),
    ("${'\\n stays'}", "'\\\\n stays'"),
    ("${'a && b || !c'}", "'a && b || !c'"),
    # names, whitespace, both delimiters
    ("${approved}", "approved"),
    ("#{approved}", "approved"),
    ("\n   ${ approved }  \n", "approved"),
    ("${android}", "android"),
    ("${orderId}", "orderId"),
    ("${nilai_akhir}", "nilai_akhir"),
    # every binary operator, symbol and word
    ("${a || b}", "(a or b)"),
    ("${a or b}", "(a or b)"),
    ("${a && b}", "(a and b)"),
    ("${a and b}", "(a and b)"),
    ("${a == b}", "(a == b)"),
    ("${a eq b}", "(a == b)"),
    ("${a != b}", "(a != b)"),
    ("${a ne b}", "(a != b)"),
    ("${a < b}", "(a < b)"),
    ("${a lt b}", "(a < b)"),
    ("${a > b}", "(a > b)"),
    ("${a gt b}", "(a > b)"),
    ("${a <= b}", "(a <= b)"),
    ("${a le b}", "(a <= b)"),
    ("${a >= b}", "(a >= b)"),
    ("${a ge b}", "(a >= b)"),
    ("${a + b}", "(a + b)"),
    ("${a - b}", "(a - b)"),
    ("${a * b}", "(a * b)"),
    ("${a / b}", "(a / b)"),
    ("${a div b}", "(a / b)"),
    ("${a % b}", "(a % b)"),
    ("${a mod b}", "(a % b)"),
    # unary operators
    ("${-a}", "(-a)"),
    ("${- -a}", "(-(-a))"),
    ("${!a}", "(not a)"),
    ("${not a}", "(not a)"),
    ("${empty a}", "(not a and not isinstance(a, (int, float)))"),
    ("${not empty a}", "(not (not a and not isinstance(a, (int, float))))"),
    ("${empty a.b}", "(not a['b'] and not isinstance(a['b'], (int, float)))"),
    # precedence and associativity
    ("${a || b && c}", "(a or (b and c))"),
    ("${a && b || c}", "((a and b) or c)"),
    ("${a == b && c != d}", "((a == b) and (c != d))"),
    ("${a < b == c}", "((a < b) == c)"),
    ("${a == b < c}", "(a == (b < c))"),
    ("${a + b < c * d}", "((a + b) < (c * d))"),
    ("${a + b * c}", "(a + (b * c))"),
    ("${(a + b) * c}", "((a + b) * c)"),
    ("${a - b - c}", "((a - b) - c)"),
    ("${a / b * c}", "((a / b) * c)"),
    ("${!a == b}", "((not a) == b)"),
    ("${!(a == b)}", "(not (a == b))"),
    ("${-a * b}", "((-a) * b)"),
    ("${empty a || b}", "((not a and not isinstance(a, (int, float))) or b)"),
    ("${a ? b : c}", "(b if a else c)"),
    ("${a ? b ? 1 : 2 : 3}", "((1 if b else 2) if a else 3)"),
    ("${a ? 1 : b ? 2 : 3}", "(1 if a else (2 if b else 3))"),
    ("${a || b ? 'y' : 'n'}", "('y' if (a or b) else 'n')"),
    ("${amount gt 100 and approved}", "((amount > 100) and approved)"),
    ("${a lt 1 or b ge 2}", "((a < 1) or (b >= 2))"),
    ("${10 div 4 mod 2}", "((10 / 4) % 2)"),
    # properties and indexes: maps and lists
    ("${order.total}", "order['total']"),
    ("${order.customer.name}", "order['customer']['name']"),
    ("${order['total']}", "order['total']"),
    ("${items[0]}", "items[0]"),
    ("${items[i + 1].name}", "items[(i + 1)]['name']"),
    ("${x.__class__}", "x['__class__']"),
    ("${order.class}", "order['class']"),
    # methods on strings, lists and maps
    ("${name.length()}", "len(name)"),
    ("${items.size()}", "len(items)"),
    ("${items.isEmpty()}", "(len(items) == 0)"),
    ("${name.contains('PT')}", "('PT' in name)"),
    ("${data.containsKey('npwp')}", "('npwp' in data)"),
    ("${name.startsWith('PT')}", "name.startswith('PT')"),
    ("${name.endsWith('Tbk')}", "name.endswith('Tbk')"),
    ("${status.equals('OK')}", "(status == 'OK')"),
    ("${status.equalsIgnoreCase('ok')}", "(str(status).lower() == str('ok').lower())"),
    ("${name.toUpperCase()}", "name.upper()"),
    ("${name.toLowerCase()}", "name.lower()"),
    ("${name.trim()}", "name.strip()"),
    ("${code.substring(3)}", "code[3:]"),
    ("${code.substring(0, 2)}", "code[0:2]"),
    ("${code.indexOf('-')}", "(code.index('-') if '-' in code else -1)"),
    ("${code.charAt(0)}", "code[0]"),
    ("${first.concat(last)}", "(first + last)"),
    ("${code.replace('-', '')}", "code.replace('-', '')"),
    ("${data.get('npwp')}", "data['npwp']"),
    ("${count.toString()}", "str(count)"),
    ("${(5).toString()}", "str(5)"),
    ("${(5).toUpperCase()}", "(5).upper()"),
    ("${name.trim().toLowerCase().startsWith('pt')}", "name.strip().lower().startswith('pt')"),
    ("${order.items.size() > 0}", "(len(order['items']) > 0)"),
    # Camunda's context objects
    ("${execution.getVariable('x')}", "execution.getVariable('x')"),
    ('${execution.setVariable("ok", true)}', "execution.setVariable('ok', True)"),
    ("${execution.getVariables()}", "execution.getVariables()"),
    ("${execution.processInstanceId}", "execution.getProcessInstanceId()"),
    ("${execution.businessKey}", "execution.getBusinessKey()"),
    ("${execution.eventName}", "execution.getEventName()"),
    ("${execution.currentActivityId}", "execution.getCurrentActivityId()"),
    ("${execution.variables.x}", "execution.getVariables()['x']"),
    ("${execution.getVariable('order').total}", "execution.getVariable('order')['total']"),
    ("${task.assignee}", "task.getAssignee()"),
    ("${task.name}", "task.getName()"),
    ("${task.id}", "task.getId()"),
    ("${task.eventName == 'create'}", "(task.getEventName() == 'create')"),
    ("${task.priority}", "task.getPriority()"),
    ("${task.dueDate}", "task.getDueDate()"),
    ("${task.taskDefinitionKey}", "task.getTaskDefinitionKey()"),
    ("${task.setAssignee(reviewer)}", "task.setAssignee(reviewer)"),
    ("${task.addCandidateGroup('panel')}", "task.addCandidateGroup('panel')"),
    ("${task.execution}", "execution"),
    ("${task.execution.processBusinessKey}", "execution.getProcessBusinessKey()"),
    ("${task.execution.getVariable('x')}", "execution.getVariable('x')"),
    ("${(execution).id}", "execution.getId()"),
    # functions the engine provides
    ("${now()}", "now()"),
    ("${now() > deadline}", "(now() > deadline)"),
]


@pytest.mark.parametrize(("text", "python"), TRANSLATIONS)
def test_translation(text: str, python: str) -> None:
    assert translate(text) == python


@pytest.mark.parametrize(("text", "python"), TRANSLATIONS)
def test_every_translation_passes_the_sandbox_check(text: str, python: str) -> None:
    compile_expression(text)  # raises ExpressionError if the sandbox refuses it


# (a text field, the Python that builds its value)
TEMPLATES = [
    ("Hello ${name}!",
     "('Hello ' + ('' if name is None else str(name).lower() if isinstance(name, bool) "
     "else str(name)) + '!')"),
    ("${a}${b}",
     "(('' if a is None else str(a).lower() if isinstance(a, bool) else str(a)) + "
     "('' if b is None else str(b).lower() if isinstance(b, bool) else str(b)))"),
    ("#{n * 2} units",
     "(('' if (n * 2) is None else str((n * 2)).lower() if isinstance((n * 2), bool) "
     "else str((n * 2))) + ' units')"),
    ("${x}", "x"),
    ("  ${x}\n", "x"),
    ("${order.total}", "order['total']"),
    ("plain text", "'plain text'"),
    ("", "''"),
    ("it's {not} JUEL", '"it\'s {not} JUEL"'),
    ("costs \\${price}", "'costs ${price}'"),
]


@pytest.mark.parametrize(("text", "python"), TEMPLATES)
def test_template_translation(text: str, python: str) -> None:
    assert translate_template(text) == python
    scripting.compile_restricted(python, "eval")


# (field, variables, value): the meaning, checked by evaluating in the sandbox.
MEANINGS: list[tuple[str, dict[str, Any], Any]] = [
    ("${name.startsWith('PT')}", {"name": "PT Maju"}, True),
    ("${name.startsWith('PT')}", {"name": "CV Maju"}, False),
    ("${name.endsWith('Maju')}", {"name": "PT Maju"}, True),
    ("${name.length()}", {"name": "abc"}, 3),
    ("${items.size()}", {"items": [1, 2]}, 2),
    ("${data.size()}", {"data": {"a": 1}}, 1),
    ("${items.isEmpty()}", {"items": []}, True),
    ("${name.isEmpty()}", {"name": "x"}, False),
    ("${name.contains('Maju')}", {"name": "PT Maju"}, True),
    ("${items.contains(2)}", {"items": [1, 2]}, True),
    ("${data.containsKey('a')}", {"data": {"a": 1}}, True),
    ("${data.containsKey('b')}", {"data": {"a": 1}}, False),
    ("${status.equals('OK')}", {"status": "OK"}, True),
    ("${status.equalsIgnoreCase('ok')}", {"status": "OK"}, True),
    ("${name.toUpperCase()}", {"name": "pt maju"}, "PT MAJU"),
    ("${name.toLowerCase()}", {"name": "PT Maju"}, "pt maju"),
    ("${name.trim()}", {"name": "  x "}, "x"),
    ("${code.substring(3)}", {"code": "SNI-123"}, "-123"),
    ("${code.substring(0, 3)}", {"code": "SNI-123"}, "SNI"),
    ("${code.indexOf('-')}", {"code": "SNI-123"}, 3),
    ("${code.indexOf('/')}", {"code": "SNI-123"}, -1),
    ("${items.indexOf('b')}", {"items": ["a", "b"]}, 1),
    ("${code.charAt(0)}", {"code": "SNI"}, "S"),
    ("${first.concat(' ').concat(last)}", {"first": "Budi", "last": "Santoso"}, "Budi Santoso"),
    ("${code.replace('-', '')}", {"code": "SNI-123"}, "SNI123"),
    ("${data.get('a')}", {"data": {"a": 1}}, 1),
    ("${items.get(1)}", {"items": ["a", "b"]}, "b"),
    ("${count.toString()}", {"count": 5}, "5"),
    ("${empty list}", {"list": []}, True),
    ("${empty list}", {"list": [0]}, False),
    ("${empty x}", {"x": None}, True),
    ("${empty x}", {"x": ""}, True),
    ("${empty x}", {"x": {}}, True),
    ("${empty x}", {"x": 0}, False),  # JUEL: numbers are never empty
    ("${empty x}", {"x": 0.0}, False),
    ("${empty x}", {"x": False}, False),  # nor are booleans
    ("${empty null}", {}, True),
    ("${empty ''}", {}, True),
    ("${a < b == c}", {"a": 1, "b": 2, "c": True}, True),
    ("${a < b == c}", {"a": 1, "b": 2, "c": False}, False),
    ("${a || b && c}", {"a": True, "b": False, "c": False}, True),
    ("${!a && b}", {"a": False, "b": True}, True),
    ("${not a == b}", {"a": False, "b": True}, True),
    ("${1 + 2 * 3 - 4 / 2}", {}, 5.0),
    ("${10 % 3}", {}, 1),
    ("${7 div 2}", {}, 3.5),
    ("${-2 - -3}", {}, 1),
    ("${007 + 1}", {}, 8),
    ("${1e3}", {}, 1000.0),
    ("${.5 + 1.}", {}, 1.5),
    ("${'it\\'s'}", {}, "it's"),
    ('${"say \\"hi\\""}', {}, 'say "hi"'),
    ("${'back\\\\slash'}", {}, "back\\slash"),
    ("${order.customer.name}", {"order": {"customer": {"name": "Budi"}}}, "Budi"),
    ("${items[1]}", {"items": ["a", "b"]}, "b"),
    ("${items[i + 1]}", {"items": ["a", "b"], "i": 0}, "b"),
    ("${x > 1 ? 'big' : 'small'}", {"x": 5}, "big"),
    ("${a ? 1 : b ? 2 : 3}", {"a": False, "b": False}, 3),
    ("${amount gt 100 and approved}", {"amount": 150, "approved": True}, True),
    ("${amount ge 100 and amount le 200}", {"amount": 200}, True),
    ("${null == x}", {"x": None}, True),
]


@pytest.mark.parametrize(("text", "variables", "value"), MEANINGS)
def test_meaning(text: str, variables: dict[str, Any], value: Any) -> None:
    result = LocalSandbox().evaluate(compile_expression(text), variables)
    assert result == value
    assert type(result) is type(value)


# (text field, variables, value)
TEMPLATE_MEANINGS: list[tuple[str, dict[str, Any], Any]] = [
    ("Hello ${name}!", {"name": "Budi"}, "Hello Budi!"),
    ("Hello ${name}!", {"name": None}, "Hello !"),  # JUEL: null is ""
    ("Approved: ${ok}", {"ok": True}, "Approved: true"),  # JUEL's boolean text
    ("Total ${n * 2} units", {"n": 3}, "Total 6 units"),
    ("${a}${b}", {"a": 1, "b": "x"}, "1x"),
    ("${a} / #{b}", {"a": 1.5, "b": 2}, "1.5 / 2"),
    ("${x}", {"x": 5}, 5),  # one whole ${...} keeps its value
    ("plain", {}, "plain"),
    ("costs \\${price}", {}, "costs ${price}"),
]


@pytest.mark.parametrize(("text", "variables", "value"), TEMPLATE_MEANINGS)
def test_template_meaning(text: str, variables: dict[str, Any], value: Any) -> None:
    code = scripting.compile_restricted(translate_template(text), "eval")
    assert LocalSandbox().evaluate(code, variables) == value


# (field, a fragment of the reason it is refused with)
REFUSED = [
    # not JUEL 2.2, or no meaning here
    ("${x -> x + 1}", "unexpected '->' at position 5: lambda expressions are not supported"),
    ("${(x, y) -> x + y}", "lambda expressions are not supported"),
    ("${a instanceof b}", "'instanceof' is not supported"),
    ("${instanceof}", "'instanceof' is a JUEL keyword"),
    ("${a; b}", "unexpected ';' at position 4: several expressions"),
    ("${a = 1}", "unexpected '=' at position 5: assignment is not supported"),
    ("${a += 'x'}", "'+=' of EL 3.0 is not supported"),
    ("${ {1, 2} }", "unexpected '{' at position 4: set, list and map literals {...} of EL 3.0 are not supported"),
    ("${ {'a': 1} }", "literals {...} of EL 3.0 are not supported"),
    ("${[1, 2]}", "unexpected '[' at position 3: list literals [...] of EL 3.0 are not supported"),
    ("${x == [1]}", "list literals [...] of EL 3.0 are not supported"),
    ("${$name}", "the name '$name' contains '$'"),
    ("${a$b > 1}", "the name 'a$b' contains '$'"),
    ("${lambda}", "'lambda' is a Python keyword and cannot be a variable name"),
    ("${class == 1}", "'class' is a Python keyword and cannot be a variable name"),
    ("${None}", "'None' is a Python keyword"),
    ("${div}", "'div' is a JUEL keyword and cannot be a variable name"),
    # fields that are not one whole expression
    ("${}", "the expression is empty"),
    ("${   }", "the expression is empty"),
    ("${a} ${b}", "only one ${...} per field is supported; write the whole condition inside it"),
    ("${a}${b}", "only one ${...} per field is supported"),
    ("${a} and more", "only one ${...} per field is supported"),
    ("${a", "the '${' at position 1 is never closed with '}'"),
    ("${ ${a} }", "unexpected '${' at position 4: an expression cannot hold another ${...}"),
    ("${'abc}", "unterminated string starting at position 3"),
    # methods and functions
    ("${bean.method()}", "the method call 'bean.method()' is not supported: 'method' is not one of the JUEL methods"),
    ("${exampleBean.invoke()}", "write a Python expression over the process variables instead"),
    ("${name.matches('[0-9]+')}", "'matches' is not one of the JUEL methods"),
    ("${name.length(1)}", "the method 'length' takes no arguments, not 1 (in 'name.length(1)')"),
    ("${name.substring()}", "the method 'substring' takes 1 or 2 arguments, not 0"),
    ("${name.substring(1, 2, 3)}", "the method 'substring' takes 1 or 2 arguments, not 3"),
    ("${name.startsWith()}", "the method 'startsWith' takes 1 argument, not 0"),
    ("${name.replace('a')}", "the method 'replace' takes 2 arguments, not 1"),
    ("${dateTime().plusDays(2)}", "Camunda's dateTime() (Joda-Time) is not available"),
    ("${foo(1)}", "the function 'foo' is not available in JUEL here"),
    ("${now(1)}", "the function 'now' takes no arguments, not 1"),
    ("${fn:length(x)}", "unexpected ':' at position 5"),
    # Camunda's context objects
    ("${execution.getEngineServices()}",
     "'execution.getEngineServices()' is not available: sertiflow's execution object knows only"),
    ("${task.complete()}", "'task.complete()' is not available: sertiflow's task object knows only"),
    ("${execution.processEngine}", "sertiflow's execution object has the properties"),
    ("${execution.variable}", "'execution.variable' is not available"),
    ("${task.candidateGroups}", "'task.candidateGroups' is not available"),
    ("${execution['x']}", "'execution[...]' is not supported: execution is Camunda's execution object, not a map"),
    # syntax, with the position
    ("${a + )}", "unexpected ')' at position 7"),
    ("  \n ${a + )}", "unexpected ')' at position 7"),
    ("${a b}", "unexpected 'b' at position 5"),
    ("${a & b}", "unexpected '&' at position 5 (JUEL's 'and' is && or and)"),
    ("${a | b}", "JUEL's 'or' is || or or"),
    ("${a @ b}", "unexpected '@' at position 5"),
    ("${.}", "unexpected '.' at position 3"),
    ("${a +}", "the expression ends too early: a value is missing after '+'"),
    ("${not}", "the expression ends too early: a value is missing after 'not'"),
    ("${a.}", "the expression ends too early: a name is missing after '.'"),
    ("${(a}", "the expression ends too early: ')' is missing"),
    ("${f(a}", "the expression ends too early: ')' is missing"),
    ("${x[1}", "the expression ends too early: ']' is missing"),
    ("${a ? b}", "the expression ends too early: ':' of a ? b : c is missing"),
    # nesting
    ("${" + "(" * 500 + "x" + ")" * 500 + "}", "nested too deeply"),
    ("${" + "-" * 5000 + "x}", "nested too deeply"),
    ("${" + "!" * 100 + "x}", "nested too deeply"),
    ("${" + "a.b(" * 300 + ")" * 300 + "}", "nested too deeply"),
]


@pytest.mark.parametrize(("text", "reason"), REFUSED)
def test_refused(text: str, reason: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        translate(text)
    assert reason in caught.value.reason
    assert caught.value.expression == text


LARK_WORDS = ("Token(", "Expected one of", "__ANON", "$END", "RPAR", "LPAR", "NAME", "lark")


@pytest.mark.parametrize(("text", "reason"), REFUSED)
def test_reasons_never_show_the_parser_internals(text: str, reason: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        translate(text)
    assert not any(word in caught.value.reason for word in LARK_WORDS)


def test_a_condition_refuses_text_around_the_expression_but_a_template_takes_it() -> None:
    with pytest.raises(ExpressionError, match=r"only one \$\{\.\.\.\} per field"):
        translate("${name} here")
    # Not starting with ${, the field is Python, which does not compile.
    with pytest.raises(ExpressionError, match="JUEL is only understood when"):
        compile_expression("Hello ${name}")
    assert translate_template("${name} here").endswith(" + ' here')")
    assert translate_template("Hello ${name}").startswith("('Hello ' + ")


def test_template_errors_point_into_the_whole_field() -> None:
    with pytest.raises(ExpressionError) as caught:
        translate_template("Dear ${a + )}")
    assert "unexpected ')' at position 12" in caught.value.reason


def test_python_and_timer_fields_are_left_to_python() -> None:
    assert translate("amount > 100 and approved") == "amount > 100 and approved"
    assert translate("P2D") == "'P2D'"
    with pytest.raises(ExpressionError, match="JUEL is only understood when"):
        compile_expression("total == ${a}")


def test_deep_but_reasonable_nesting_translates_and_compiles() -> None:
    text = "${" + " || ".join(f"x{i}" for i in range(60)) + "}"
    code = compile_expression(text)
    variables = {f"x{i}": i == 59 for i in range(60)}
    assert LocalSandbox().evaluate(code, variables) is True


def test_juel_properties_cannot_reach_python_attributes() -> None:
    code = compile_expression("${x.__class__}")
    with pytest.raises(scripting.ScriptError, match="KeyError: '__class__'"):
        LocalSandbox().evaluate(code, {"x": {}})


def test_context_methods_are_exported_for_the_runtime_objects() -> None:
    assert isinstance(juel.EXECUTION_METHODS, frozenset)
    assert isinstance(juel.TASK_METHODS, frozenset)
    assert {"getVariable", "setVariable", "getProcessInstanceId"} <= juel.EXECUTION_METHODS
    assert {"getAssignee", "setAssignee", "addCandidateGroup"} <= juel.TASK_METHODS
    assert juel.CONTEXT_OBJECTS == {"execution": juel.EXECUTION_METHODS,
                                    "task": juel.TASK_METHODS}


@pytest.mark.parametrize(("context", "method"), sorted(
    (context, method) for context, methods in juel.CONTEXT_OBJECTS.items() for method in methods))
def test_every_context_method_translates_and_compiles(context: str, method: str) -> None:
    text = f"${{{context}.{method}('x')}}"
    assert translate(text) == f"{context}.{method}('x')"
    compile_expression(text)


def test_translations_are_cached() -> None:
    assert compile_expression("${a && b}") is compile_expression("${a && b}")
    juel.translate_field("${cached && twice}")
    hits = juel.translate_field.cache_info().hits
    juel.translate_field("${cached && twice}")
    assert juel.translate_field.cache_info().hits == hits + 1
