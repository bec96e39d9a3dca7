"""The compensation elements of a BPMN document, and the keys their specs carry.

Shared by the rewrite and the parser (:mod:`.parsing`), the run time
(:mod:`.running`) and the validator (:mod:`.validation`).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

# Keys of a task spec's extensions.
HANDLER = "compensationHandler"  # on a compensable activity: its handler's spec name
ACTIVITY_REF = "compensateActivity"  # on a compensation throw/end event: activityRef or ""
EVENT_SUBPROCESS = "compensationEventSubprocess"  # on a handler spec's event sub-process
ACTIVITY_TAGS = frozenset({
    "task", "userTask", "serviceTask", "sendTask", "receiveTask", "scriptTask", "manualTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
})
SUBPROCESS_TAGS = frozenset({"subProcess", "transaction"})


def q(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def local_name(element: Any) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def linked_handler_ids(process: etree._Element) -> set[str]:
    """Ids of the activities associated with a compensation boundary event in ``process``."""
    root = process.getroottree().getroot()
    return {str(h.get("id")) for boundary in process.iter(q("boundaryEvent"))
            if definition_of(boundary) is not None
            for h in linked_handlers(boundary, root)}


def handler_spec_name(handler_id: str) -> str:
    """The name of the process spec that runs the handler ``handler_id``."""
    return f"{handler_id}.Compensation"


def definition_of(node: etree._Element, kind: str = "compensateEventDefinition"
                  ) -> etree._Element | None:
    return node.find(q(kind))


def is_compensation_boundary(node: etree._Element) -> bool:
    return local_name(node) == "boundaryEvent" and definition_of(node) is not None


def compensation_event_subprocess(container: etree._Element) -> etree._Element | None:
    """The compensation event sub-process directly inside ``container``, if it has one.

    Found by its start event (a compensation start event), so that it is found
    both as drawn and after :func:`.parsing.rewrite` made it a plain sub-process.
    """
    for child in container:
        if local_name(child) == "subProcess" and any(
                local_name(s) == "startEvent" and definition_of(s) is not None for s in child):
            return child
    return None


def linked_handlers(boundary: etree._Element, root: etree._Element) -> list[etree._Element]:
    """The activities an association links to a compensation boundary event (either way)."""
    boundary_id = boundary.get("id")
    by_id = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    found = []
    for association in root.iter(q("association")):
        if association.get("sourceRef") == boundary_id:
            other = association.get("targetRef")
        elif association.get("targetRef") == boundary_id:
            other = association.get("sourceRef")
        else:
            continue
        element = by_id.get(other)
        if element is not None and local_name(element) in ACTIVITY_TAGS:
            found.append(element)
    return found
