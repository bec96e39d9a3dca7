"""Reading compensation into SpiffWorkflow's specs: the rewrite before parsing, the
process parser that builds each handler as a spec of its own, and the event-parser
mixin that gives compensation and cancel events their spec classes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ProcessParser import ProcessParser
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec

from .elements import (
    ACTIVITY_REF,
    EVENT_SUBPROCESS,
    HANDLER,
    SUBPROCESS_TAGS,
    compensation_event_subprocess,
    definition_of,
    handler_spec_name,
    is_compensation_boundary,
    linked_handlers,
    local_name,
    q,
)
from .running import CancelEndEvent, CompensationEndEvent, CompensationThrowEvent

# -- the rewrite before parsing ------------------------------------------------------------

def needs_rewrite(root: etree._Element) -> bool:
    return any(True for _ in _rewritten(root))


def _rewritten(root: etree._Element) -> Iterator[etree._Element]:
    for event_subprocess in root.iter(q("subProcess")):
        if event_subprocess.get("triggeredByEvent") == "true" and any(
                local_name(s) == "startEvent" and definition_of(s) is not None
                for s in event_subprocess):
            yield event_subprocess
    for boundary in root.iter(q("boundaryEvent")):
        if definition_of(boundary, "cancelEventDefinition") is not None and boundary.get(
                "cancelActivity") is not None:
            yield boundary


def rewrite(root: etree._Element) -> None:
    """Reshape ``root`` (a copy) for the parser.

    - A compensation event sub-process is no event sub-process for SpiffWorkflow
      (which would start it with its scope, or never): it becomes a plain
      sub-process outside the flow, which :class:`CompensationProcessParser`
      makes the handler of the sub-process it is in.
    - A cancel boundary event always interrupts (Camunda ignores
      ``cancelActivity`` on it).
    """
    for element in list(_rewritten(root)):
        if local_name(element) == "subProcess":
            del element.attrib["triggeredByEvent"]
        else:
            del element.attrib["cancelActivity"]


# -- parsing -------------------------------------------------------------------------------

class CompensationProcessParser(ProcessParser):
    """A process parser that knows compensation boundary events and handlers."""

    def get_boundary_events(self, attached_to_ref: str) -> list[Any]:
        # A compensation boundary event catches nothing while its activity runs.
        events: list[Any] = super().get_boundary_events(attached_to_ref)
        return [e for e in events if definition_of(e) is None]

    def _parse(self) -> None:
        super()._parse()
        link_handlers(self)


class HandlerParser(CompensationProcessParser):
    """Parses one handler, in its own container, into a process spec of its own."""

    def __init__(self, parser: Any, container: etree._Element, handler: etree._Element,
                 name: str, *, filename: str | None, lane: str | None,
                 event_subprocess: bool) -> None:
        self.handler = handler
        self.spec_name = name
        self.event_subprocess = event_subprocess
        super().__init__(parser, container, parser.namespaces, parser.data_stores,
                         filename=filename, lane=lane)

    def create_spec(self) -> BpmnProcessSpec:
        return BpmnProcessSpec(name=self.spec_name, filename=self.filename,
                               description=self.handler.get("name") or self.handler.get("id"))

    def add_tasks(self) -> None:
        task = self.parse_node(self.handler)
        self.spec.start.connect(task)
        task.connect(self.spec.end)
        if self.event_subprocess:
            task.extensions = {**(getattr(task, "extensions", None) or {}),
                               EVENT_SUBPROCESS: True}

    def _parse(self) -> None:
        ProcessParser._parse(self)  # the container's handlers are linked by its own parser


def link_handlers(process_parser: Any) -> None:
    """Name each compensable activity's handler spec in its extensions, and register the
    parser of that spec with the document's parser."""
    container = process_parser.node
    root = process_parser.document_root
    for child in container:
        tag = local_name(child)
        if is_compensation_boundary(child):
            handlers = linked_handlers(child, root)
            if len(handlers) == 1:  # else the validator has refused the file
                _attach(process_parser, str(child.get("attachedToRef")), handlers[0],
                        handlers[0].getparent(), event_subprocess=False)
        elif tag in SUBPROCESS_TAGS:
            inner = compensation_event_subprocess(child)
            if inner is not None:
                _attach(process_parser, str(child.get("id")), inner, child,
                        event_subprocess=True)


def _attach(process_parser: Any, activity_id: str, handler: etree._Element,
            container: etree._Element, *, event_subprocess: bool) -> None:
    specs = process_parser.spec.task_specs
    # A loop's activity is compensated once per iteration: on the spec of one.
    spec = specs.get(f"{activity_id} [child]") or specs.get(activity_id)
    if spec is None:
        return  # not reachable; the validator has said so
    name = handler_spec_name(str(handler.get("id")))
    parsers = process_parser.parser.process_parsers
    if name not in parsers:
        parsers[name] = HandlerParser(process_parser.parser, container, handler, name,
                                      filename=process_parser.filename,
                                      lane=process_parser.lane,
                                      event_subprocess=event_subprocess)
    spec.extensions = {**(getattr(spec, "extensions", None) or {}), HANDLER: name}


def handler_specs(spec: Any) -> list[str]:
    """The handler spec names the task specs of a process spec refer to."""
    return sorted({name for task_spec in spec.task_specs.values()
                   if (name := (getattr(task_spec, "extensions", None) or {}).get(HANDLER))})


class CompensationEvents:
    """Event-parser mixin: compensation throw and end events, cancel end events."""

    node: etree._Element
    spec_class: Any

    def _create_task(self, event_definition: Any, cancel_activity: Any = None,
                     parallel: Any = None) -> Any:
        cls = _thrower_class(self.node)
        if cls is not None:
            self.spec_class = cls
        return super()._create_task(  # type: ignore[misc]
            event_definition, cancel_activity, parallel)

    def parse_extensions(self, node: etree._Element | None = None) -> dict[str, Any]:
        extensions: dict[str, Any] = super().parse_extensions(node)  # type: ignore[misc]
        definition = definition_of(self.node if node is None else node)
        if definition is not None:
            extensions[ACTIVITY_REF] = definition.get("activityRef") or ""
        return extensions


def _thrower_class(node: etree._Element) -> type | None:
    tag = local_name(node)
    if definition_of(node) is not None:
        return {"intermediateThrowEvent": CompensationThrowEvent,
                "endEvent": CompensationEndEvent}.get(tag)
    if tag == "endEvent" and definition_of(node, "cancelEventDefinition") is not None:
        return CancelEndEvent
    return None
