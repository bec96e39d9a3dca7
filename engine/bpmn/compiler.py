"""Turn checked BPMN documents into the spec dicts a definition version stores."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import UserTask

from engine.identity.access import default_task_roles

from ..errors import Problem
from .parser import SertiflowParser, read_mappings_and_listeners
from .rewrites import rewrite
from .serializer import spec_to_dict
from .validation import BPMN_NS, CAMUNDA_NS, BpmnDocument


@dataclass(frozen=True)
class CompiledProcess:
    key: str
    name: str | None
    resource_name: str
    stored_spec: dict[str, Any]
    called_keys: frozenset[str]
    warnings: tuple[str, ...] = ()


def compile_processes(
    docs: list[BpmnDocument], deployed: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, CompiledProcess], list[Problem]]:
    """Parse the documents together (so they may call each other) into stored specs.

    :param deployed: stored specs of already deployed processes, by key, for call
        activities whose target is not part of this deployment.
    """
    parser = SertiflowParser()
    by_key: dict[str, BpmnDocument] = {}
    problems: list[Problem] = []
    renamed: dict[str, str] = {}
    for doc in docs:
        root, aliases = _without_reserved_ids(doc.root)
        root = rewrite(root)
        renamed.update(aliases)
        try:
            parser.add_bpmn_xml(root, doc.name)
        except ValidationException as exc:
            problems.append(_problem(doc, exc))
            continue
        for key in doc.executable:
            by_key[key] = doc
    compiled: dict[str, CompiledProcess] = {}
    for key, doc in by_key.items():
        try:
            spec = parser.get_spec(key)
            local = parser.get_subprocess_specs(key, require_call_activity_specs=False)
        except ValidationException as exc:
            problems.append(_problem(doc, exc))
            continue
        subprocess_specs: dict[str, Any] = {}
        called: set[str] = set()
        _restore_ids([spec, *(s for s in local.values() if s is not None)], renamed)
        for process_spec in (spec, *(s for s in local.values() if s is not None)):
            _add_process_listeners(process_spec, docs)
        for name, sub in local.items():
            if sub is not None:
                subprocess_specs[name] = spec_to_dict(sub)
                continue
            if name not in deployed:
                problems.append(Problem(doc.name, f"calls process '{name}', which is neither "
                                        "in this deployment nor deployed before"))
                continue
            called.add(name)
            subprocess_specs[name] = deployed[name]["spec"]
            subprocess_specs.update(deployed[name]["subprocess_specs"])
        called.update(n for n in local if n in by_key and n != key)
        starters = _starters(doc, key)
        compiled[key] = CompiledProcess(
            warnings=_unassigned_warnings(spec, starters["groups"]),
            key=key,
            name=doc.root.xpath("string(//*[local-name()='process'][@id=$k]/@name)", k=key)
            or None,
            resource_name=doc.name,
            stored_spec={"spec": spec_to_dict(spec), "subprocess_specs": subprocess_specs,
                         "starters": starters,
                         "properties": _process_properties(doc, key)},
            called_keys=frozenset(called),
        )
    return compiled, problems


def _add_process_listeners(spec: Any, docs: list[BpmnDocument]) -> None:
    """Keep a process's own listeners on SpiffWorkflow's start task (engine.bpmn.hooks)."""
    for doc in docs:
        for process in doc.root.iter(f"{{{BPMN_NS}}}process"):
            if process.get("id") != spec.name:
                continue
            extension = process.find(f"{{{BPMN_NS}}}extensionElements")
            found = read_mappings_and_listeners(extension) if extension is not None else {}
            if found.get("listeners") and "Start" in spec.task_specs:
                spec.task_specs["Start"].extensions = {"listeners": found["listeners"]}
            return


# Task spec names SpiffWorkflow gives its own tasks in every process.
RESERVED_IDS = frozenset({"Start", "End", "Root"})
# Attributes and elements whose value names an element by its id.
_REFERENCE_ATTRIBUTES = ("sourceRef", "targetRef", "attachedToRef", "default", "bpmnElement")
_REFERENCE_ELEMENTS = frozenset({"flowNodeRef", "incoming", "outgoing", "sourceRef",
                                 "targetRef"})


def _without_reserved_ids(root: Any) -> tuple[Any, dict[str, str]]:
    """A copy of ``root`` in which elements with a reserved id have another one.

    An analyst may call a start event ``Start``; SpiffWorkflow names its own
    start task so, and the two would be one. The copy goes to the parser; the
    element keeps its id everywhere else (see :func:`_restore_ids`).
    Returns the copy (or ``root`` itself when nothing is reserved) and new -> old ids.
    """
    ids = {str(e.get("id")) for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    clashing = {i for i in ids if i in RESERVED_IDS or i.endswith(".EndJoin")}
    if not clashing:
        return root, {}
    new_ids = {}
    for old in sorted(clashing):
        new = f"{old}_element"
        while new in ids:
            new += "_"
        new_ids[old] = new
    copied = copy.deepcopy(root)
    for element in copied.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute in ("id", *_REFERENCE_ATTRIBUTES):
            value = element.get(attribute)
            if value in new_ids:
                element.set(attribute, new_ids[value])
        if etree.QName(element).localname in _REFERENCE_ELEMENTS and element.text:
            text = element.text.strip()
            if text in new_ids:
                element.text = new_ids[text]
    return copied, {new: old for old, new in new_ids.items()}


def _restore_ids(specs: list[Any], renamed: Mapping[str, str]) -> None:
    """Give the task specs of renamed elements their own ids back, as ``bpmn_id``."""
    if not renamed:
        return
    for spec in specs:
        for task_spec in spec.task_specs.values():
            original = renamed.get(getattr(task_spec, "bpmn_id", None) or "")
            if original is not None:
                task_spec.bpmn_id = original


def _unassigned_warnings(spec: Any, starter_groups: list[str]) -> tuple[str, ...]:
    """A warning for each user task that names no lane, candidate or assignee."""
    roles = default_task_roles(starter_groups)
    goes_to = (f"the roles that start the process ({', '.join(roles)})"
               if starter_groups else ", ".join(roles))
    found = []
    for task_spec in spec.task_specs.values():
        if not isinstance(task_spec, UserTask) or getattr(task_spec, "lane", None):
            continue
        camunda = (getattr(task_spec, "extensions", None) or {}).get("camunda", {})
        if not any(camunda.get(a) for a in ("candidateGroups", "candidateUsers", "assignee")):
            element = getattr(task_spec, "bpmn_id", None) or task_spec.name
            found.append(f"user task '{element}' names no lane, candidate group, candidate "
                         f"user or assignee; it goes to {goes_to}")
    return tuple(sorted(found))


def _process_properties(doc: BpmnDocument, key: str) -> dict[str, str]:
    """The process's own ``camunda:properties`` (for example ``serviceTimeTarget``)."""
    found = doc.root.xpath(
        "//*[local-name()='process'][@id=$k]/*[local-name()='extensionElements']"
        "/*[local-name()='properties']/*[local-name()='property']", k=key)
    return {str(p.get("name")): str(p.get("value", "")) for p in found if p.get("name")}


def _starters(doc: BpmnDocument, key: str) -> dict[str, list[str]]:
    """Who may start the process: ``camunda:candidateStarterGroups`` / ``...Users``."""
    found = doc.root.xpath("//*[local-name()='process'][@id=$k]", k=key)
    process = found[0] if found else None

    def names(attribute: str) -> list[str]:
        value = process.get(f"{{{CAMUNDA_NS}}}{attribute}") if process is not None else None
        return [n.strip() for n in (value or "").split(",") if n.strip()]

    return {"groups": names("candidateStarterGroups"), "users": names("candidateStarterUsers")}


# SpiffWorkflow's own wording for some refusals, said the way an analyst can act on.
CLEARER = {
    "Multiple outgoing flows are not supported": (
        "has several outgoing sequence flows; add a gateway after it to split the flow "
        "(a parallel gateway to take all paths, an exclusive gateway to choose one)"),
    "Time Specification Error. Unknown Time Specification": (
        "the timer has no date, duration or cycle; set one in the Modeler's Timer section"),
    "Non-default exclusive outgoing sequence flow without condition": (
        "this flow leaves an exclusive gateway without a condition and is not the "
        "gateway's default flow: give it a condition, or make it the default flow"),
    "No start event found": (
        "the process has no start event: draw one where the process begins"),
}


def _problem(doc: BpmnDocument, exc: ValidationException) -> Problem:
    element = getattr(exc, "id", None) or None
    message = str(exc.args[0]) if exc.args else str(exc)
    for prefix, clearer in CLEARER.items():
        if message.startswith(prefix):
            message = clearer
    return Problem(doc.name, message, element, doc.line_of(element))
