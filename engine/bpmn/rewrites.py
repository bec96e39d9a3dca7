"""Reshape a checked BPMN document into constructs SpiffWorkflow runs, with the same meaning.

Some of what Camunda 7 runs has no counterpart in SpiffWorkflow's parser, but
an equivalent diagram of constructs it does have. The validator has checked
the document as the analyst drew it (its messages name the analyst's
elements and lines); :func:`rewrite` then returns a copy for the parser:

- a flow's ``take`` listeners become the ``start`` listeners of a plain event
  put on the flow (SpiffWorkflow has no object for a flow);
- ``camunda:collection="${panel}"`` reads the variable ``panel``;
- ``eventDefinitionRef`` is replaced by a copy of the shared definition;
- a link throw event gets a flow to the link catch event of the same name,
  and both become plain events;
- an activity or event with several outgoing flows gets a gateway after it:
  parallel when the flows are plain, inclusive when any has a condition (its
  ``default`` flow moves to the gateway), as the specification reads them;
- a compensation event sub-process becomes a plain sub-process outside the
  flow, and a cancel boundary event always interrupts
  (:func:`engine.bpmn.compensation.rewrite`).

Elements the rewrite adds have ids derived from the element they stand for,
so history and incidents still point at the analyst's element nearby.
"""

from __future__ import annotations

import copy
from typing import Any

from lxml import etree

from . import compensation
from .validation import BPMN_NS, CAMUNDA_NS, collection_variable, link_name

_GATEWAYS = frozenset({"exclusiveGateway", "inclusiveGateway", "parallelGateway",
                       "eventBasedGateway", "complexGateway"})
_EVENT_DEFINITIONS = frozenset({
    "timerEventDefinition", "messageEventDefinition", "signalEventDefinition",
    "errorEventDefinition", "escalationEventDefinition", "conditionalEventDefinition",
    "terminateEventDefinition", "cancelEventDefinition", "compensateEventDefinition",
    "linkEventDefinition",
})


def _q(tag: str, ns: str = BPMN_NS) -> str:
    return f"{{{ns}}}{tag}"


def _local(element: Any) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def rewrite(root: Any) -> Any:
    """A copy of ``root`` reshaped for SpiffWorkflow (``root`` itself when nothing applies)."""
    if not any(needs(root) for needs, _ in _REWRITES):
        return root
    copied = copy.deepcopy(root)
    for needs, apply in _REWRITES:
        if needs(copied):
            apply(copied)
    return copied


# -- take listeners ------------------------------------------------------------------

_TAKE = f"{_q('executionListener', CAMUNDA_NS)}[@event='take']"


def _has_take_listeners(root: Any) -> bool:
    return any(f.find(f".//{_TAKE}") is not None for f in root.iter(_q("sequenceFlow")))


def _take_listeners_as_events(root: Any) -> None:
    """The first half of the flow keeps its id (its condition, a gateway's default
    name it); the second is ``<id>_taken``."""
    for flow in list(root.iter(_q("sequenceFlow"))):
        listeners = flow.findall(f".//{_TAKE}")
        if not listeners:
            continue
        flow_id = flow.get("id")
        event = etree.SubElement(flow.getparent(), _q("intermediateThrowEvent"),
                                 id=f"{flow_id}_take", name=flow.get("name") or flow_id)
        extension = etree.SubElement(event, _q("extensionElements"))
        for listener in listeners:
            listener.getparent().remove(listener)
            listener.set("event", "start")
            extension.append(listener)
        etree.SubElement(flow.getparent(), _q("sequenceFlow"), id=f"{flow_id}_taken",
                         sourceRef=event.get("id"), targetRef=flow.get("targetRef"))
        flow.set("targetRef", str(event.get("id")))


# -- multi-instance collections --------------------------------------------------------

_COLLECTION = _q("collection", CAMUNDA_NS)


def _has_collection_expressions(root: Any) -> bool:
    return any(collection_variable(el.get(_COLLECTION)) not in (None, el.get(_COLLECTION))
               for el in root.iter(_q("multiInstanceLoopCharacteristics")))


def _collections_as_names(root: Any) -> None:
    for el in root.iter(_q("multiInstanceLoopCharacteristics")):
        name = collection_variable(el.get(_COLLECTION))
        if name is not None:
            el.set(_COLLECTION, name)


# -- shared event definitions ----------------------------------------------------------

def _has_definition_refs(root: Any) -> bool:
    return root.find(f".//{_q('eventDefinitionRef')}") is not None


def _shared_definitions_inlined(root: Any) -> None:
    """Each ``eventDefinitionRef`` becomes a copy of the root-level definition it names."""
    shared = {el.get("id"): el for el in root if _local(el) in _EVENT_DEFINITIONS}
    for ref in list(root.iter(_q("eventDefinitionRef"))):
        definition = shared.get((ref.text or "").strip())
        event = ref.getparent()
        if definition is None or event is None:
            continue  # the validator has refused it
        inline = copy.deepcopy(definition)
        inline.set("id", f"{definition.get('id')}_{event.get('id')}")
        ref.addprevious(inline)
        event.remove(ref)


# -- link events -----------------------------------------------------------------------

def _has_links(root: Any) -> bool:
    return root.find(f".//{_q('linkEventDefinition')}") is not None


def _links_as_flows(root: Any) -> None:
    """A link throw event flows to the catch event of its name in the same (sub)process."""
    linked = {el.getparent() for el in root.iter(_q("linkEventDefinition"))}
    for container in {event.getparent() for event in linked}:
        events = [el for el in container if _local(el) in (
            "intermediateThrowEvent", "intermediateCatchEvent") and link_name(el) is not None]
        catches = {link_name(el): el for el in events if _local(el) == "intermediateCatchEvent"}
        for event in events:
            name = link_name(event)
            event.remove(event.find(_q("linkEventDefinition")))
            event.tag = _q("intermediateThrowEvent")  # a plain event: it passes through
            catch = catches.get(name)
            if catch is not None and catch is not event:
                etree.SubElement(container, _q("sequenceFlow"),
                                 id=f"{event.get('id')}_link", sourceRef=event.get("id"),
                                 targetRef=catch.get("id"))


# -- implicit splits ---------------------------------------------------------------------

def _splits(root: Any) -> list[tuple[Any, list[Any]]]:
    """(node, its outgoing flows) for each non-gateway node with several outgoing flows."""
    found = []
    for container in root.iter(_q("process"), _q("subProcess"), _q("transaction"),
                               _q("adHocSubProcess")):
        outgoing: dict[str, list[Any]] = {}
        for flow in container.iterfind(_q("sequenceFlow")):
            outgoing.setdefault(str(flow.get("sourceRef")), []).append(flow)
        for node in container:
            flows = outgoing.get(str(node.get("id")), [])
            if len(flows) > 1 and _local(node) not in _GATEWAYS:
                found.append((node, flows))
    return found


def _has_implicit_splits(root: Any) -> bool:
    return bool(_splits(root))


def _implicit_splits_as_gateways(root: Any) -> None:
    """Plain flows leave in parallel; conditional ones as an inclusive gateway's."""
    for node, flows in _splits(root):
        conditional = any(f.find(_q("conditionExpression")) is not None for f in flows)
        node_id = str(node.get("id"))
        kind = "inclusiveGateway" if conditional else "parallelGateway"
        gateway = etree.SubElement(node.getparent(), _q(kind), id=f"{node_id}_split",
                                   name=node.get("name") or node_id)
        if node.get("default"):
            gateway.set("default", str(node.get("default")))
            del node.attrib["default"]
        etree.SubElement(node.getparent(), _q("sequenceFlow"), id=f"{node_id}_to_split",
                         sourceRef=node_id, targetRef=gateway.get("id"))
        for flow in flows:
            flow.set("sourceRef", str(gateway.get("id")))


_REWRITES = (
    (_has_take_listeners, _take_listeners_as_events),
    (_has_collection_expressions, _collections_as_names),
    (_has_definition_refs, _shared_definitions_inlined),
    (_has_links, _links_as_flows),
    (_has_implicit_splits, _implicit_splits_as_gateways),
    (compensation.needs_rewrite, compensation.rewrite),
)
