"""How the checks read a diagram: namespaces, the tags of flow elements, and which
element a problem belongs to."""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"

FLOW_NODE_TAGS = {
    "task", "userTask", "serviceTask", "sendTask", "receiveTask", "scriptTask", "manualTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
    "boundaryEvent", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
    "eventBasedGateway", "complexGateway",
}
CONTAINER_TAGS = {"process", "subProcess", "transaction", "adHocSubProcess"}


def q(tag: str, ns: str = BPMN_NS) -> str:
    """The qualified name of ``tag`` in ``ns``, as lxml writes it."""
    return f"{{{ns}}}{tag}"


def local(tag: object) -> str:
    """A tag without its namespace; "" for a comment or processing instruction."""
    return str(tag).rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def label_of(tag: str) -> str:
    """``sequenceFlow`` -> ``sequence flow``: a tag in an analyst's words."""
    return "".join(f" {c.lower()}" if c.isupper() else c for c in tag).strip()


def element_of(el: etree._Element) -> str | None:
    """The id of the flow element (node or sequence flow) that ``el`` belongs to."""
    node: etree._Element | None = el
    while node is not None:
        if local(node.tag) in FLOW_NODE_TAGS or local(node.tag) == "sequenceFlow":
            return node.get("id")
        node = node.getparent()
    return owner_id(el)


def owner_id(el: etree._Element) -> str | None:
    """The id of the nearest element that has one: the BPMN element a problem belongs to."""
    node: etree._Element | None = el
    while node is not None:
        if node.get("id"):
            return str(node.get("id"))
        node = node.getparent()
    return None


def nested_containers(process: etree._Element) -> Iterable[etree._Element]:
    """The sub-processes (of any kind, at any depth) inside ``process``."""
    return [el for el in process.iterdescendants() if local(el.tag) in CONTAINER_TAGS]


def link_name(event: etree._Element) -> str | None:
    """The link name of a link event (its definition's ``name``, else the event's)."""
    definition = event.find(q("linkEventDefinition"))
    if definition is None:
        return None
    return str(definition.get("name") or event.get("name") or "")
