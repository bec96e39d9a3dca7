"""Checks that every expression, template and script of a process compiles.

Conditions, timers, loop expressions, listener expressions and the
``${...}`` attributes of user tasks must compile as expressions; input and
output mappings as templates; scripts must pass the sandbox's check. A cron
timer cycle is refused with the ISO 8601 interval to write instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from engine.scripting.expressions import ExpressionError, compile_expression, compile_template

from ...errors import Problem
from ...scripting import SandboxViolation, check_script
from .elements import CAMUNDA_NS, element_of, label_of, local, owner_id, q

CRON = re.compile(r"^\S+(\s+\S+){4,6}$")


def expression_problems(name: str, process: etree._Element) -> Iterator[Problem]:
    for el, text, what in _expressions(process):
        if what == "timer cycle" and CRON.match(text):
            yield Problem(name, f"cron expression '{text}' is not supported: write an ISO 8601 "
                          "repeating interval such as R/PT5M or R/2027-01-01T08:00:00+07:00/P1D",
                          element_of(el), el.sourceline)
            continue
        try:
            compile_expression(text)
        except ExpressionError as exc:
            yield Problem(name, f"{what} does not compile: {exc}", element_of(el),
                          el.sourceline)
    for script in process.iter(q("script")):
        task = script.getparent()
        fmt = (task.get("scriptFormat") or "python").strip().lower() if task is not None else ""
        if fmt != "python" or not (script.text or "").strip():
            if fmt == "python":
                yield Problem(name, "script task has no script", owner_id(script),
                              script.sourceline)
            continue
        yield from _script_problems(name, script, "script", owner_id(script))
    for script in process.iter(q("script", CAMUNDA_NS)):
        if (script.get("scriptFormat") or "").strip().lower() != "python":
            continue  # refused as a format already
        what = f"{label_of(local(script.getparent().tag))} script"
        if not (script.text or "").strip():
            yield Problem(name, f"{what} is empty", element_of(script), script.sourceline)
            continue
        yield from _script_problems(name, script, what, element_of(script))
    for el, text, what in _templates(process):
        try:
            compile_template(text)
        except ExpressionError as exc:
            yield Problem(name, f"{what} does not compile: {exc}", element_of(el),
                          el.sourceline)


def _script_problems(name: str, script: etree._Element, what: str, element_id: str | None
                     ) -> Iterator[Problem]:
    try:
        check_script(script.text or "")
    except SandboxViolation as exc:
        line = script.sourceline + (exc.line - 1 if exc.line else 0)
        yield Problem(name, f"{what} is refused: {exc}", element_id, line)
    except SyntaxError as exc:
        line = script.sourceline + ((exc.lineno or 1) - 1)
        yield Problem(name, f"{what} has a syntax error: {exc.msg}", element_id, line)


def _templates(process: etree._Element) -> Iterator[tuple[etree._Element, str, str]]:
    """Yield the mapping values written as text: constants, ``${...}``, or both mixed."""
    for tag, what in (("inputParameter", "input"), ("outputParameter", "output")):
        for parameter in process.iter(q(tag, CAMUNDA_NS)):
            label = f"{what} parameter '{parameter.get('name')}'"
            for el in (parameter, *parameter.iter(q("value", CAMUNDA_NS),
                                                  q("entry", CAMUNDA_NS))):
                if len(el) == 0 and (el.text or "").strip():
                    yield el, el.text or "", label
    for tag in ("in", "out"):
        for mapping in process.iter(q(tag, CAMUNDA_NS)):
            for attr in ("sourceExpression", "businessKey"):
                if mapping.get(attr):
                    yield mapping, str(mapping.get(attr)), f"camunda:{tag} {attr}"


def _expressions(process: etree._Element) -> Iterator[tuple[etree._Element, str, str]]:
    """Yield every expression the engine will evaluate, with a label for messages."""
    text_tags = {
        "conditionExpression": "condition",
        "timeDuration": "timer duration",
        "timeDate": "timer date",
        "timeCycle": "timer cycle",
        "loopCardinality": "loop cardinality",
        "completionCondition": "completion condition",
        "activationCondition": "activation condition",
        "loopCondition": "loop condition",
    }
    for el in process.iter():
        what = text_tags.get(local(el.tag))
        if what and (el.text or "").strip():
            yield el, el.text.strip(), what
        for attr in ("expression", "dueDate", "followUpDate"):
            value = el.get(q(attr, CAMUNDA_NS))
            if value:
                yield el, value, f"camunda:{attr}"
        listener = el.tag in (q("executionListener", CAMUNDA_NS), q("taskListener", CAMUNDA_NS))
        if listener and el.get("expression"):
            yield el, str(el.get("expression")), f"{label_of(local(el.tag))} expression"
        for attr in ("assignee", "candidateUsers", "candidateGroups", "priority"):
            value = el.get(q(attr, CAMUNDA_NS)) or ""
            if "${" in value or "#{" in value:
                yield el, value, f"camunda:{attr}"
