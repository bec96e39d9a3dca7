"""Checks of sertiflow's BPMN dialect: what of Camunda 7's extensions it runs, and
what it refuses with what to draw instead.

sertiflow runs Python, not Java: Java delegates, connectors, field injection,
external script resources, DMN and scripts in other languages are refused.
Service tasks, call activities, listeners, ``camunda:in``/``camunda:out``
mappings and loops are checked for what sertiflow needs of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from ...errors import Problem
from ..adhoc import adhoc_problems
from .elements import CAMUNDA_NS, element_of, local, owner_id, q

USE_TOPIC = (
    'sertiflow runs Python, not Java: use camunda:type="external" with '
    'camunda:topic="<topic>" and register a Python handler for that topic'
)

UNSUPPORTED_EXTENSIONS: dict[str, str] = {
    "connector": f"Camunda connectors are not supported; {USE_TOPIC}",
    "field": f"field injection belongs to Java delegates; {USE_TOPIC}",
}

# The listener events sertiflow runs (engine.bpmn.hooks), by listener kind.
LISTENER_EVENTS = {
    "executionListener": ("start", "end", "take"),
    "taskListener": ("create", "assignment", "complete"),
}


def dialect_problems(name: str, process: etree._Element) -> Iterator[Problem]:
    yield from _history_ttl_problems(name, process)
    for el in process.iter():
        tag = local(el.tag)
        element_id = owner_id(el)
        for attr in ("class", "delegateExpression"):
            value = el.get(q(attr, CAMUNDA_NS))
            if value:
                yield Problem(name, f"uses Java (camunda:{attr}=\"{value}\"); {USE_TOPIC}",
                              element_id, el.sourceline)
        if el.tag == q("resource", CAMUNDA_NS) or el.get(q("resource", CAMUNDA_NS)):
            yield Problem(name, "scripts from external resources are not supported: write the "
                          "Python script inside the task", element_id, el.sourceline)
        if el.tag in {q(k, CAMUNDA_NS) for k in UNSUPPORTED_EXTENSIONS}:
            yield Problem(name, UNSUPPORTED_EXTENSIONS[local(el.tag)], element_id,
                          el.sourceline)
        if el.tag in {q(k, CAMUNDA_NS) for k in LISTENER_EVENTS}:
            yield from _listener_problems(name, el)
        if el.tag == q("script", CAMUNDA_NS):
            fmt = (el.get("scriptFormat") or "").strip().lower()
            if fmt != "python":
                yield Problem(name, f"script format '{el.get('scriptFormat') or ''}' is not "
                              'supported: write the script in Python (scriptFormat="python")',
                              element_of(el), el.sourceline)
        if tag == "scriptTask":
            fmt = (el.get("scriptFormat") or "python").strip().lower()
            if fmt != "python":
                yield Problem(name, f"script format '{el.get('scriptFormat')}' is not supported: "
                              'write the script in Python (scriptFormat="python")',
                              element_id, el.sourceline)
        elif tag == "businessRuleTask":
            yield Problem(name, "DMN business rule tasks are not supported: decide with an "
                          "exclusive gateway or a script task", element_id, el.sourceline)
        elif tag in ("serviceTask", "sendTask"):
            yield from _service_task_problems(name, el)
        elif tag == "callActivity":
            yield from _call_activity_problems(name, el)
        elif tag == "signalEventDefinition":
            yield from _mapping_problems(name, el, ("in",))
            if el.find(f"./{q('extensionElements')}/{q('out', CAMUNDA_NS)}") is not None:
                yield Problem(name, "camunda:out has no meaning on a signal: what a signal "
                              "carries is named with camunda:in", element_of(el),
                              el.sourceline)
        elif tag == "adHocSubProcess":
            yield from adhoc_problems(name, el)
        elif tag in _NOT_SUPPORTED:
            yield Problem(name, _NOT_SUPPORTED[tag], element_of(el), el.sourceline)
        elif tag in ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics"):
            yield from _loop_problems(name, el, element_id)
        for attr in ("startQuantity", "completionQuantity"):
            if el.get(attr) not in (None, "1"):
                yield Problem(name, f"{attr}=\"{el.get(attr)}\" is not supported: an "
                              f"activity starts and completes once per token (leave {attr} "
                              "at 1)", element_id, el.sourceline)
        if tag == "conditionExpression":
            language = (el.get("language") or "").lower()
            if language and language not in ("python", "juel", "${}"):
                yield Problem(name, f"condition language '{el.get('language')}' is not "
                              "supported: write a Python or simple JUEL expression",
                              element_id, el.sourceline)


# camunda:historyTimeToLive as Camunda 7 reads it: whole days, or a duration in days.
_HISTORY_TTL = re.compile(r"(?P<days>[0-9]{1,6})|P(?P<duration>[0-9]{1,6})D")


def parse_history_ttl(text: str) -> int:
    """The days of a ``camunda:historyTimeToLive`` value (``180`` or ``P180D``).

    Raises ValueError for anything else: a negative number, hours, months.
    """
    match = _HISTORY_TTL.fullmatch(text.strip())
    if match is None:
        raise ValueError(text)
    return int(match.group("days") or match.group("duration"))


def _history_ttl_problems(name: str, process: etree._Element) -> Iterator[Problem]:
    """The process's history time to live must be days: ``sertiflow archive`` counts them."""
    value = process.get(q("historyTimeToLive", CAMUNDA_NS))
    if not value:
        return
    try:
        parse_history_ttl(value)
    except ValueError:
        yield Problem(name, f'history time to live "{value}" is not a number of days: write '
                      'the days the history of a finished instance is kept, e.g. 180 or '
                      'P180D (the "History cleanup" field of the process in Camunda '
                      'Modeler)', process.get("id"), process.sourceline)


# Constructs refused by their name, with what to draw instead.
_NOT_SUPPORTED: dict[str, str] = {}


_COLLECTION = re.compile(r"\s*[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\s*")


def collection_variable(text: str | None) -> str | None:
    """The variable a ``camunda:collection`` names: ``panel`` or ``${panel}``; else None."""
    if text is None:
        return None
    match = _COLLECTION.fullmatch(text)
    if match:
        return match.group(1)
    return text.strip() if text.strip().isidentifier() else None


def _loop_problems(name: str, loop: etree._Element, element_id: str | None
                   ) -> Iterator[Problem]:
    """A loop cardinality or maximum written as a negative number, a collection that is
    not a variable."""
    collection = loop.get(q("collection", CAMUNDA_NS))
    if collection is not None and collection_variable(collection) is None:
        yield Problem(name, f"camunda:collection '{collection}' must name a variable, e.g. "
                      "${panel} or panel: set the list in a script task or an input "
                      "mapping first", element_id, loop.sourceline)
    if (local(loop.tag) == "standardLoopCharacteristics" and loop.get("loopMaximum") is None
            and loop.find(q("loopCondition")) is None):
        yield Problem(name, "a standard loop needs a loopCondition (it runs the activity again "
                      "while the condition holds) or a loopMaximum: without either it would "
                      "never end", element_id, loop.sourceline)
    numbers = [("loopMaximum", loop.get("loopMaximum"))]
    numbers += [(local(c.tag), (c.text or "").strip()) for c in loop
                if local(c.tag) == "loopCardinality"]
    for what, text in numbers:
        if text and text.lstrip("-").isdigit() and int(text) < 0:
            yield Problem(name, f"{what} is {text}: a loop runs zero or more times, so it "
                          "cannot be negative", element_id, loop.sourceline)



def _service_task_problems(name: str, el: etree._Element) -> Iterator[Problem]:
    if el.get(q("class", CAMUNDA_NS)) or el.get(q("delegateExpression", CAMUNDA_NS)):
        return  # already reported as Java
    if el.find(f"./{q('extensionElements')}/{q('connector', CAMUNDA_NS)}") is not None:
        return  # already reported as a connector
    kind = el.get(q("type", CAMUNDA_NS))
    if kind == "external":
        if not el.get(q("topic", CAMUNDA_NS)):
            yield Problem(name, 'external service task without camunda:topic',
                          el.get("id"), el.sourceline)
    elif kind:
        yield Problem(name, f"service task type '{kind}' is not supported; {USE_TOPIC}",
                      el.get("id"), el.sourceline)
    elif not el.get(q("expression", CAMUNDA_NS)):
        yield Problem(name, 'service task has no implementation: set camunda:type="external" '
                      'with a camunda:topic, or a Python camunda:expression',
                      el.get("id"), el.sourceline)


def _call_activity_problems(name: str, el: etree._Element) -> Iterator[Problem]:
    called = el.get("calledElement") or ""
    if not called:
        yield Problem(name, "call activity names no called process (calledElement)",
                      el.get("id"), el.sourceline)
    elif "${" in called or "#{" in called:
        yield Problem(name, "the called process must be a fixed process id, not an expression",
                      el.get("id"), el.sourceline)
    yield from _mapping_problems(name, el, ("in", "out"))


def _mapping_problems(name: str, el: etree._Element, tags: tuple[str, ...]
                      ) -> Iterator[Problem]:
    """The ``camunda:in``/``camunda:out`` entries of a call activity or signal definition."""
    for tag in tags:
        for mapping in el.iterfind(f"./{q('extensionElements')}/{q(tag, CAMUNDA_NS)}"):
            has_source = bool(mapping.get("source") or mapping.get("sourceExpression"))
            if mapping.get("variables") not in (None, "all"):
                yield Problem(name, f'camunda:{tag} variables="{mapping.get("variables")}" is '
                              'not supported: write variables="all"', element_of(el),
                              mapping.sourceline)
            elif has_source and not mapping.get("target"):
                yield Problem(name, f"camunda:{tag} names a source but no target variable",
                              element_of(el), mapping.sourceline)
            elif not has_source and mapping.get("variables") is None and not (
                    tag == "in" and mapping.get("businessKey")):
                yield Problem(name, f'camunda:{tag} needs source, sourceExpression or '
                              'variables="all"', element_of(el), mapping.sourceline)


def _listener_problems(name: str, listener: etree._Element) -> Iterator[Problem]:
    """A listener's event must be one sertiflow runs, and it must say what to run."""
    kind = local(listener.tag)
    event = listener.get("event") or ""
    owner = listener.getparent().getparent() if listener.getparent() is not None else None
    element_id, line = element_of(listener), listener.sourceline
    supported = LISTENER_EVENTS[kind]
    label = "execution listener" if kind == "executionListener" else "task listener"
    a_label = f"an {label}" if label[0] in "aeiou" else f"a {label}"
    if event not in supported:
        yield Problem(name, f"{a_label} on the event '{event}' is not supported: use one of "
                      f"{', '.join(supported)}", element_id, line)
    elif event == "take" and (owner is None or local(owner.tag) != "sequenceFlow"):
        yield Problem(name, "a 'take' listener belongs on a sequence flow", element_id, line)
    elif kind == "taskListener" and (owner is None or local(owner.tag) != "userTask"):
        yield Problem(name, "task listeners belong on user tasks", element_id, line)
    script = listener.find(q("script", CAMUNDA_NS))
    if script is None and not listener.get("expression") and not (
            listener.get(q("class", CAMUNDA_NS)) or listener.get("class")
            or listener.get("delegateExpression")):
        yield Problem(name, f"the {label} says nothing to run: give it an expression or a "
                      "Python script", element_id, line)
    for attr in ("class", "delegateExpression"):
        if listener.get(attr):
            yield Problem(name, f'uses Java ({attr}="{listener.get(attr)}" on {a_label}); '
                          "write an expression or a Python script instead", element_id, line)
