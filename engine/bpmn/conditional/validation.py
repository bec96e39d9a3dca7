"""Checking a deployment's conditional events: what sertiflow refuses in them."""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from engine.scripting.expressions import ExpressionError, compile_expression

from ...errors import Problem
from .definition import BPMN_NS, CAMUNDA_NS, NO_CONDITION, variable_events

VARIABLE_EVENTS = ("create", "update", "delete")
LANGUAGES = ("", "python", "juel", "${}")


def problems(file_name: str, root: etree._Element, process: etree._Element
             ) -> Iterator[Problem]:
    """What sertiflow refuses in the conditional events of ``process``."""
    shared = {el.get("id"): el for el in root
              if el.tag == f"{{{BPMN_NS}}}conditionalEventDefinition"}
    found = [(d, _owner(d)) for d in process.iter(f"{{{BPMN_NS}}}conditionalEventDefinition")]
    for ref in process.iter(f"{{{BPMN_NS}}}eventDefinitionRef"):
        definition = shared.get((ref.text or "").strip())
        if definition is not None:
            found.append((definition, _owner(ref)))
    for definition, owner in found:
        yield from _definition_problems(file_name, definition, owner)
    yield from _start_event_problems(file_name, process)


def _definition_problems(file_name: str, definition: etree._Element,
                         owner: etree._Element | None) -> Iterator[Problem]:
    element = owner.get("id") if owner is not None else None
    condition = definition.find(f"{{{BPMN_NS}}}condition")
    text = (condition.text or "").strip() if condition is not None else ""
    events = variable_events(definition.get(f"{{{CAMUNDA_NS}}}variableEvents"))
    wrong = [e for e in events if e not in VARIABLE_EVENTS]
    if wrong:
        yield Problem(file_name, f"camunda:variableEvents names {', '.join(map(repr, wrong))}: "
                      "use create, update and/or delete, separated by commas",
                      element, definition.sourceline)
    if condition is None or not text:
        yield Problem(file_name, NO_CONDITION, element, definition.sourceline)
        return
    language = (condition.get("language") or "").strip().lower()
    if language not in LANGUAGES or condition.get(f"{{{CAMUNDA_NS}}}resource"):
        yield Problem(file_name, f"condition language '{condition.get('language')}' is not "
                      "supported: write the condition as a JUEL ${...} or Python expression",
                      element, condition.sourceline)
        return
    try:
        compile_expression(text)
    except ExpressionError as exc:
        yield Problem(file_name, f"the condition does not compile: {exc}", element,
                      condition.sourceline)


def _start_event_problems(file_name: str, process: etree._Element) -> Iterator[Problem]:
    starts = process.findall(f"{{{BPMN_NS}}}startEvent")
    conditional = [s for s in starts
                   if s.find(f"{{{BPMN_NS}}}conditionalEventDefinition") is not None]
    if conditional and len(starts) > 1:
        for start in conditional:
            yield Problem(file_name, "a process with a conditional start event may have no "
                          "other start event here: POST /engine-rest/condition starts it at "
                          "its conditional start event, and a plain start would take both; "
                          "draw a second process for the other way in",
                          start.get("id"), start.sourceline)


def _owner(el: etree._Element) -> etree._Element | None:
    node = el.getparent()
    while node is not None and not node.get("id"):
        node = node.getparent()
    return node
