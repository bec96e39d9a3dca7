"""Checks of a process's structure: ids and the links between elements, link events,
shared event definitions, and elements no path reaches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lxml import etree

from ...errors import Problem
from ..compensation import linked_handler_ids
from .elements import (
    FLOW_NODE_TAGS,
    element_of,
    label_of,
    link_name,
    local,
    nested_containers,
    q,
)


def identity_problems(name: str, process: etree._Element) -> Iterator[Problem]:
    """Report elements without an id and links (flows, boundary events, defaults) to none.

    SpiffWorkflow would skip an element without an id, and a flow to a missing
    element only shows as everything after it being unreachable.
    """
    for container in [process, *nested_containers(process)]:
        ids = {c.get("id") for c in container if c.get("id")}
        for child in container:
            tag = local(child.tag)
            if tag not in FLOW_NODE_TAGS and tag != "sequenceFlow":
                continue
            label = label_of(tag)
            if not child.get("id"):
                yield Problem(name, f"a {label} has no id; every element needs one (the "
                              "Modeler gives each an id: draw it again or set the id)",
                              None, child.sourceline)
                continue
            links = {"sequenceFlow": ("sourceRef", "targetRef"),
                     "boundaryEvent": ("attachedToRef",)}.get(tag, ("default",))
            for attribute in links:
                target = child.get(attribute)
                if tag == "sequenceFlow" and not target:
                    yield Problem(name, f"sequence flow '{child.get('id')}' has no {attribute}",
                                  child.get("id"), child.sourceline)
                elif target and target not in ids:
                    yield Problem(name, f"{label} '{child.get('id')}' names '{target}' as its "
                                  f"{attribute}, but there is no element with that id here",
                                  child.get("id"), child.sourceline)



def _links(container: etree._Element) -> tuple[list[etree._Element], dict[str, list[str]]]:
    """The link throw events of a (sub)process, and its catch events' ids by link name."""
    throws: list[etree._Element] = []
    catches: dict[str, list[str]] = {}
    for node in container:
        name = link_name(node)
        if name is None:
            continue
        if local(node.tag) == "intermediateThrowEvent":
            throws.append(node)
        else:
            catches.setdefault(name, []).append(str(node.get("id")))
    return throws, catches


def link_problems(name: str, process: etree._Element) -> Iterator[Problem]:
    """A link throw event needs exactly one catch event of its name in its (sub)process."""
    for container in [process, *nested_containers(process)]:
        throws, catches = _links(container)
        for event in throws:
            link = link_name(event)
            found = catches.get(link or "", [])
            if len(found) != 1:
                what = ("no link catch event" if not found else
                        f"{len(found)} link catch events ({', '.join(found)})")
                yield Problem(name, f"link '{link}' has {what} of the same name in its "
                              "process or sub-process: a link jumps to exactly one",
                              event.get("id"), event.sourceline)


def shared_definition_problems(name: str, root: etree._Element, process: etree._Element
                                ) -> Iterator[Problem]:
    """An ``eventDefinitionRef`` must name an event definition at the top of the file."""
    shared = {el.get("id") for el in root if local(el.tag).endswith("EventDefinition")}
    for ref in process.iter(q("eventDefinitionRef")):
        target = (ref.text or "").strip()
        if target not in shared:
            yield Problem(name, f"eventDefinitionRef '{target}' names no event definition at "
                          "the top of this file", element_of(ref), ref.sourceline)


def reachability_problems(name: str, process: etree._Element) -> Iterator[Problem]:
    """Report flow nodes that no path from a start event reaches."""
    handlers = linked_handler_ids(process)  # compensation handlers are reached by none
    for container in [process, *nested_containers(process)]:
        nodes = {c.get("id"): c for c in container if local(c.tag) in FLOW_NODE_TAGS}
        flows: dict[str, list[str]] = {}
        for flow in container.iterfind(q("sequenceFlow")):
            flows.setdefault(flow.get("sourceRef", ""), []).append(flow.get("targetRef", ""))
        attached: dict[str, list[str]] = {}
        for node_id, node in nodes.items():
            if local(node.tag) == "boundaryEvent":
                attached.setdefault(node.get("attachedToRef", ""), []).append(node_id)
        roots = [i for i, n in nodes.items() if local(n.tag) == "startEvent"]
        if (not roots or local(container.tag) == "adHocSubProcess") and nodes and (
                container.get("triggeredByEvent") != "true"):
            # An ad-hoc subprocess or a process started by its first activity.
            roots = [i for i, n in nodes.items() if not any(i in t for t in flows.values())
                     and local(n.tag) != "boundaryEvent"]
        throws, catches = _links(container)
        for event in throws:  # a link throw event continues at its catch event
            flows.setdefault(str(event.get("id")), []).extend(
                catches.get(link_name(event) or "", []))
        successors = {i: [*flows.get(i, []), *attached.get(i, [])] for i in nodes}
        reached = _walk(roots, successors)
        for node_id, node in nodes.items():
            if (node_id not in reached and not _is_event_subprocess(node)
                    and node.get("isForCompensation") != "true" and node_id not in handlers):
                yield Problem(name, f"{local(node.tag)} cannot be reached from a start event",
                              node_id, node.sourceline)



def _is_event_subprocess(node: etree._Element) -> bool:
    return local(node.tag) == "subProcess" and node.get("triggeredByEvent") == "true"


def _walk(roots: Iterable[str], successors: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack.extend(successors.get(current, []))
    return seen
