"""What the pages read from a deployed BPMN file: element names, kinds and flow order.

The pages speak of a process's steps by the names the analysts gave them
(``name`` attributes), not by their ids, and the customer's progress view
(:mod:`.progress`) needs the elements in the order the flow reaches them and
their ``camunda:property`` extension properties. The file was checked when
it was deployed; it is read here with the same safe parser (no DTD, no
entity, no network). Outlines are kept per definition id: a deployed version
never changes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree

from engine.bpmn.validation.safe_xml import xml_parser

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
_B = f"{{{BPMN_NS}}}"
# Children of a process that are not flow nodes.
_NOT_NODES = frozenset({"sequenceFlow", "laneSet", "documentation", "extensionElements",
                        "dataObject", "dataObjectReference", "dataStoreReference",
                        "association", "textAnnotation", "ioSpecification", "property",
                        "messageFlow", "group", "category"})


@dataclass(frozen=True)
class Element:
    """One flow node of a process: its id, name, BPMN kind and what the pages need of it."""

    id: str
    name: str | None
    kind: str  # the BPMN tag without namespace: userTask, callActivity, ...
    called: str | None = None  # a call activity's calledElement
    attached_to: str | None = None  # a boundary event's activity
    timer: bool = False  # a timer event
    form: str | None = None  # a user task's camunda:formRef
    message: str | None = None  # the name of the message a message event waits for
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outline:
    """The elements of one process, in the order its flow reaches them."""

    key: str
    elements: dict[str, Element]
    order: tuple[str, ...]

    def name(self, element_id: str | None) -> str | None:
        found = self.elements.get(element_id or "")
        return found.name if found else None


def _properties(node: etree._Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for prop in node.iterfind(f"{_B}extensionElements/{{{CAMUNDA_NS}}}properties/"
                              f"{{{CAMUNDA_NS}}}property"):
        name, value = prop.get("name"), prop.get("value")
        if name and value is not None:
            found[name] = value.strip()
    return found


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _message_ref(node: etree._Element) -> str | None:
    definition = node.find(f"{_B}messageEventDefinition")
    return definition.get("messageRef") if definition is not None else None


def _read(container: etree._Element, elements: dict[str, Element],
          messages: dict[str, str]) -> list[str]:
    """Record the container's flow nodes; return their ids in flow order.

    Breadth first from the nodes nothing flows into (start events), boundary
    events right after their activity, an embedded subprocess's content right
    after the subprocess; nodes no flow reaches (event subprocesses) come last.
    """
    nodes: list[str] = []
    targets: dict[str, list[str]] = {}
    incoming: set[str] = set()
    boundaries: dict[str, list[str]] = {}
    inner: dict[str, list[str]] = {}
    for child in container:
        kind = _local(child.tag)
        if kind == "sequenceFlow":
            source, target = child.get("sourceRef"), child.get("targetRef")
            if source and target:
                targets.setdefault(source, []).append(target)
                incoming.add(target)
            continue
        node_id = child.get("id")
        if kind in _NOT_NODES or not node_id:
            continue
        attached = child.get("attachedToRef")
        elements[node_id] = Element(
            id=node_id, name=(child.get("name") or "").strip() or None, kind=kind,
            called=child.get("calledElement"), attached_to=attached,
            timer=child.find(f"{_B}timerEventDefinition") is not None,
            form=child.get(f"{{{CAMUNDA_NS}}}formRef"),
            message=messages.get(_message_ref(child) or ""),
            properties=_properties(child))
        nodes.append(node_id)
        if attached:
            boundaries.setdefault(attached, []).append(node_id)
            incoming.add(node_id)
        if kind in ("subProcess", "transaction", "adHocSubProcess"):
            inner[node_id] = _read(child, elements, messages)
    order: list[str] = []
    seen: set[str] = set()
    queue = deque(n for n in nodes if n not in incoming)
    while queue:
        node = queue.popleft()
        if node in seen:
            continue
        seen.add(node)
        order.append(node)
        order.extend(inner.get(node, []))
        queue.extend(boundaries.get(node, []))
        queue.extend(targets.get(node, []))
    for node in nodes:
        if node not in seen:
            order.append(node)
            order.extend(inner.get(node, []))
    return order


@lru_cache(maxsize=128)
def outline(definition_id: str, key: str, xml: str) -> Outline:
    """The outline of process ``key`` in the deployed file ``xml`` (of ``definition_id``,
    by which it is kept)."""
    root = etree.fromstring(xml.encode("utf-8"), xml_parser())
    processes = root.findall(f"{_B}process")
    process = next((p for p in processes if p.get("id") == key),
                   processes[0] if processes else None)
    # message id -> its name (what a sender names)
    messages = {m.get("id") or "": m.get("name") or "" for m in root.findall(f"{_B}message")}
    elements: dict[str, Element] = {}
    order = _read(process, elements, messages) if process is not None else []
    return Outline(key, elements, tuple(order))
