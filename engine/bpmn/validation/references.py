"""What a diagram names that it does not hold itself.

:func:`check_references` looks beyond the file, at what the deployment and the
engine provide: handlers for topics, forms, called processes.
:func:`event_reference_problems` looks inside it: each message, signal, error
or escalation an event names must be defined in the same file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml import etree

from ...errors import Problem
from .elements import CAMUNDA_NS, element_of, local, q

if TYPE_CHECKING:
    from .document import BpmnDocument


@dataclass
class References:
    """What a file may refer to beyond itself, for the reference checks."""

    process_keys: set[str] = field(default_factory=set)
    form_ids: set[str] = field(default_factory=set)
    form_files: set[str] = field(default_factory=set)
    topics: set[str] = field(default_factory=set)


def check_references(doc: BpmnDocument, refs: References) -> list[Problem]:
    """Report forms, topics and called processes that ``refs`` does not provide."""
    problems = []
    for process in doc.root.iterfind(q("process")):
        if process.get("isExecutable") != "true":
            continue
        for el in process.iter():
            tag = local(el.tag)
            problem = None
            if tag in ("serviceTask", "sendTask"):
                topic = el.get(q("topic", CAMUNDA_NS))
                if topic and topic not in refs.topics:
                    known = ", ".join(sorted(refs.topics)) or "none"
                    problem = f"no handler is registered for topic '{topic}' (known: {known})"
            elif tag in ("userTask", "startEvent"):
                problem = _form_reference_problem(el, refs)
            elif tag == "callActivity":
                called = el.get("calledElement")
                if called and called not in refs.process_keys:
                    problem = (f"calls process '{called}', which is neither in this "
                               "deployment nor deployed before")
            if problem:
                problems.append(Problem(doc.name, problem, el.get("id"), el.sourceline))
    return problems


def _form_reference_problem(task: etree._Element, refs: References) -> str | None:
    form_ref = task.get(q("formRef", CAMUNDA_NS))
    form_key = task.get(q("formKey", CAMUNDA_NS))
    if form_ref:
        if form_ref not in refs.form_ids:
            return f"links form id '{form_ref}' (camunda:formRef), which is not deployed"
        return None
    if not form_key:
        return None
    for prefix in ("camunda-forms:deployment:", "camunda-forms:app:"):
        if form_key.startswith(prefix):
            file_name = form_key.removeprefix(prefix).rsplit("/", 1)[-1]
            if file_name not in refs.form_files:
                return f"links form '{file_name}' ({form_key}), which is not deployed"
            return None
    return (f"form key '{form_key}' is an embedded or external form, which sertiflow cannot "
            "show: draw a Camunda Form (.form) and link it with camunda:formRef")


EVENT_REFERENCES = {
    "messageEventDefinition": ("messageRef", "message"),
    "signalEventDefinition": ("signalRef", "signal"),
    "errorEventDefinition": ("errorRef", "error"),
    "escalationEventDefinition": ("escalationRef", "escalation"),
    "receiveTask": ("messageRef", "message"),
    "sendTask": ("messageRef", "message"),
}


def event_reference_problems(name: str, root: etree._Element) -> Iterator[Problem]:
    """Report event definitions that name a message, signal, error or escalation not defined."""
    for tag, (attribute, target) in EVENT_REFERENCES.items():
        defined = {el.get("id") for el in root.iter(q(target))}
        for definition in root.iter(q(tag)):
            ref = definition.get(attribute)
            if ref and ref not in defined:
                yield Problem(name, f"refers to {target} '{ref}', which this file does not "
                              f"define (add it under the diagram's {target.title()}s)",
                              element_of(definition), definition.sourceline)
            elif not ref and tag == "messageEventDefinition":
                yield Problem(name, "message event without a message: pick or create one in "
                              "the Modeler's Message section", element_of(definition),
                              definition.sourceline)
