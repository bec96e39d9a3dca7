"""Parse Camunda Modeler (Camunda 7) files into SpiffWorkflow specs.

SpiffWorkflow's Camunda parser drops most of what the Modeler writes on a task:
candidate groups and users, assignee, due and follow-up dates, priority, form
links and service-task topics. The parsers here keep all of it in the task
spec's ``extensions`` dictionary, which SpiffWorkflow serializes with the spec,
so the engine can read it back from a stored definition without the XML.

``extensions`` of every flow node has this shape::

    {"properties": {"calendar": "working-days", ...},   # camunda:properties
     "camunda": {"candidateGroups": "sales", "dueDate": "P14D", ...},
     "formFields": [...]}                                 # camunda:formData, user tasks only
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import (
    CANCEL_EVENT_XPATH,
    CONDITIONAL_EVENT_XPATH,
    ERROR_EVENT_XPATH,
    ESCALATION_EVENT_XPATH,
    MESSAGE_EVENT_XPATH,
    SIGNAL_EVENT_XPATH,
    TERMINATION_EVENT_XPATH,
    TIMER_EVENT_XPATH,
    EventBasedGatewayParser,
    ReceiveTaskParser,
)
from SpiffWorkflow.bpmn.parser.task_parsers import (
    AdHocSubprocessParser,
    ConditionalGatewayParser,
    GatewayParser,
)
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import (
    EndEvent,
    ExclusiveGateway,
    InclusiveGateway,
    IntermediateThrowEvent,
    ParallelGateway,
    ScriptTask,
    StartEvent,
    TransactionSubprocess,
    UserTask,
)
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.event_parsers import (
    CamundaBoundaryEventParser,
    CamundaEndEventParser,
    CamundaIntermediateCatchEventParser,
    CamundaIntermediateThrowEventParser,
    CamundaStartEventParser,
)
from SpiffWorkflow.camunda.parser.task_spec import (
    CallActivityParser,
    CamundaTaskParser,
    ScriptTaskParser,
    SubWorkflowParser,
)

from . import compensation
from .adhoc import AdHocProcessParser, AdHocSubProcess
from .compensation import CompensationEvents
from .conditional import ConditionalEvents
from .data import DataParsing, DataProcessParser, ignore_data_store_elements
from .events import TIMER_CLASSES, MappedSignalEventDefinition, MergingMessageEventDefinition
from .gateways import ComplexGateway, ComplexGatewayParser
from .hooks import MappedCallActivity
from .loops import WhileLoopTask
from .multiinstance import CamundaMultiInstanceParser
from .specs import (
    PassThroughManualTask,
    PassThroughTask,
    RearmedBoundaryEvent,
    TopicSendTask,
    TopicServiceTask,
    WaitingCatchEvent,
    WaitingEventBasedGateway,
    WaitingReceiveTask,
)
from .validation import (
    BPMN_NS,
    NO_DTD,
    declares_dtd,
    doctype_line,
    parse_history_ttl,
    xml_parser,
)

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"

# The camunda:* attributes sertiflow gives a meaning to (ARCHITECTURE.md §2).
# Others that only tune Camunda's own job executor (asyncBefore, exclusive, ...)
# have no effect here and are not kept. historyTimeToLive on a process is read
# from the stored XML when needed (history_ttl_days), not kept in the spec.
KEPT_ATTRIBUTES = (
    "assignee",
    "candidateGroups",
    "candidateUsers",
    "dueDate",
    "followUpDate",
    "priority",
    "formKey",
    "formRef",
    "formRefBinding",
    "formRefVersion",
    "type",
    "topic",
    "expression",
    "resultVariable",
    "initiator",
)


def _camunda(name: str) -> str:
    return f"{{{CAMUNDA_NS}}}{name}"


def history_ttl_days(bpmn_xml: str | bytes, process_key: str) -> int | None:
    """The history time to live, in days, the stored XML gives process ``process_key``.

    ``None`` when the process has none, or one that is not days: deployment refuses
    those, but a version deployed before that check may hold one, and its instances
    are then kept rather than archived by a guess. The cheap text test spares parsing
    files without the attribute.
    """
    text = bpmn_xml.encode() if isinstance(bpmn_xml, str) else bpmn_xml
    if b"historyTimeToLive" not in text:
        return None
    root = etree.fromstring(text, xml_parser())
    for process in root.iterfind(f"{{{BPMN_NS}}}process"):
        value = process.get(_camunda("historyTimeToLive"))
        if process.get("id") == process_key and value:
            try:
                return parse_history_ttl(value)
            except ValueError:
                return None
    return None


def read_camunda_extensions(node: etree._Element) -> dict[str, Any]:
    """Collect the Camunda attributes, properties and form fields of one element."""
    attributes = {
        name: node.get(_camunda(name)) for name in KEPT_ATTRIBUTES if node.get(_camunda(name))
    }
    properties: dict[str, str] = {}
    form_fields: list[dict[str, Any]] = []
    extension = node.find(f"{{{BPMN_NS}}}extensionElements")
    result: dict[str, Any] = {"properties": properties, "camunda": attributes}
    if extension is not None:
        for prop in extension.iterfind(f"{_camunda('properties')}/{_camunda('property')}"):
            properties[prop.get("name", "")] = prop.get("value", "")
        for field in extension.iterfind(f"{_camunda('formData')}/{_camunda('formField')}"):
            form_fields.append(_read_form_field(field))
        result.update(read_mappings_and_listeners(extension))
    if form_fields:
        result["formFields"] = form_fields
    return result


def read_mappings_and_listeners(extension: etree._Element) -> dict[str, Any]:
    """The input/output mappings, listeners and call-activity mappings of an element.

    Returns only the keys that are present::

        {"inputs": [{"name": "x", "value": V}], "outputs": [...],
         "listeners": [{"scope": "execution", "event": "start", "expression": "${...}"},
                       {"scope": "task", "event": "create", "script": "..."}],
         "callIn": [{"source": "a", "target": "b"}, {"variables": "all"}, ...],
         "callOut": [...]}

    A value V is ``None`` (an empty parameter), ``{"text": ...}`` (a constant or a
    ``${...}`` template), ``{"list": [V, ...]}``, ``{"map": [[key, V], ...]}`` or
    ``{"script": ...}``. The validator has refused everything else beforehand
    (Java classes, non-Python scripts, external resources).
    """
    found: dict[str, Any] = {}
    io = extension.find(_camunda("inputOutput"))
    if io is not None:
        for kind, tag in (("inputs", "inputParameter"), ("outputs", "outputParameter")):
            parameters = [{"name": p.get("name"), "value": _parameter_value(p)}
                          for p in io.iterfind(_camunda(tag))]
            if parameters:
                found[kind] = parameters
    listeners = []
    for scope in ("execution", "task"):
        for listener in extension.iterfind(_camunda(f"{scope}Listener")):
            entry = {"scope": scope, "event": listener.get("event") or ""}
            script = listener.find(_camunda("script"))
            if script is not None:
                entry["script"] = script.text or ""
            else:
                entry["expression"] = listener.get("expression") or ""
            listeners.append(entry)
    if listeners:
        found["listeners"] = listeners
    for kind, tag in (("callIn", "in"), ("callOut", "out")):
        mappings = [{name: value for name, value in m.attrib.items()
                     if name in _CALL_MAPPING_ATTRIBUTES}
                    for m in extension.iterfind(_camunda(tag))]
        if mappings:
            found[kind] = mappings
    return found


_CALL_MAPPING_ATTRIBUTES = ("source", "sourceExpression", "target", "variables", "local",
                            "businessKey")


def _parameter_value(element: etree._Element) -> Any:
    """The value an input/output parameter, a list item or a map entry holds."""
    if element.tag == _camunda("list"):
        return {"list": [_parameter_value(item) for item in element if isinstance(item.tag, str)]}
    if element.tag == _camunda("map"):
        return {"map": [[entry.get("key"), _parameter_value(entry)]
                        for entry in element if isinstance(entry.tag, str)]}
    if element.tag == _camunda("script"):
        return {"script": element.text or ""}
    children = [c for c in element if isinstance(c.tag, str)]
    if children:
        return _parameter_value(children[0])
    text = element.text or ""
    return {"text": text} if text.strip() else None


def _read_form_field(field: etree._Element) -> dict[str, Any]:
    """Turn one ``camunda:formField`` into a plain dict (generated task forms)."""
    data: dict[str, Any] = {
        "id": field.get("id"),
        "label": field.get("label"),
        "type": field.get("type"),
        "defaultValue": field.get("defaultValue"),
        "validation": [],
        "properties": {},
        "values": [],
    }
    for child in field:
        if child.tag == _camunda("validation"):
            data["validation"] = [
                {"name": c.get("name"), "config": c.get("config")}
                for c in child
                if c.tag == _camunda("constraint")
            ]
        elif child.tag == _camunda("properties"):
            data["properties"] = {c.get("id"): c.get("value") for c in child}
        elif child.tag == _camunda("value"):
            data["values"].append({"id": child.get("id"), "name": child.get("name")})
    return data


class KeepCamundaExtensions(DataParsing):
    """Parser mixin: store :func:`read_camunda_extensions` as the spec's extensions.

    Also data associations and ioSpecification (:mod:`engine.bpmn.data`), and
    standard loops as BPMN defines them (:mod:`engine.bpmn.loops`).
    """

    STANDARD_LOOP_CLASS = WhileLoopTask
    node: etree._Element

    def parse_extensions(self, node: etree._Element | None = None) -> dict[str, Any]:
        return read_camunda_extensions(self.node if node is None else node)


class TaskParser(KeepCamundaExtensions, CamundaMultiInstanceParser, CamundaTaskParser):
    pass


class UserTaskParser(KeepCamundaExtensions, CamundaMultiInstanceParser, CamundaTaskParser):
    """User tasks become SpiffWorkflow's plain user task; the form link lives in extensions."""


class ServiceTaskParser(KeepCamundaExtensions, CamundaMultiInstanceParser, CamundaTaskParser):
    pass


class ScriptParser(KeepCamundaExtensions, CamundaMultiInstanceParser, ScriptTaskParser):
    """Script tasks read Camunda's multi-instance marker too (camunda:collection,
    camunda:elementVariable), not only the plain BPMN one."""


class SubprocessParser(KeepCamundaExtensions, CamundaMultiInstanceParser, SubWorkflowParser):
    def parse_extensions(self, node: etree._Element | None = None) -> dict[str, Any]:
        extensions = super().parse_extensions(node)
        if (self.node if node is None else node).get("triggeredByEvent") == "true":
            # An event subprocess shares the process's variables (engine.bpmn.hooks).
            extensions["eventSubprocess"] = True
        return extensions


class AdHocParser(KeepCamundaExtensions, AdHocSubprocessParser):
    """An ad-hoc sub-process (engine.bpmn.adhoc); its inside is an AdHocProcessParser's."""


class CallParser(KeepCamundaExtensions, CamundaMultiInstanceParser, CallActivityParser):
    def parse_extensions(self, node: etree._Element | None = None) -> dict[str, Any]:
        # A call activity passes only what camunda:in/out name (engine.bpmn.hooks).
        return {**super().parse_extensions(node), "calls": True}


class GatewayWithExtensions(KeepCamundaExtensions, GatewayParser):
    pass


class ConditionalGatewayWithExtensions(KeepCamundaExtensions, ConditionalGatewayParser):
    pass


class EventBasedGatewayWithExtensions(KeepCamundaExtensions, EventBasedGatewayParser):
    pass


class ComplexGatewayWithExtensions(KeepCamundaExtensions, ComplexGatewayParser):
    """A complex gateway (engine.bpmn.gateways)."""


class ClockEvents:
    """Event-parser mixin: timers on the engine's clock, messages that set variables."""

    def parse_timer_event(self, event: etree._Element) -> Any:
        parsed = super().parse_timer_event(event)  # type: ignore[misc]
        cls = TIMER_CLASSES[type(parsed)]
        return cls(parsed.name, parsed.expression, description=parsed.description)

    def parse_signal_event(self, signal_event: etree._Element) -> Any:
        parsed = super().parse_signal_event(signal_event)  # type: ignore[misc]
        extension = signal_event.find(
            f"{{{BPMN_NS}}}extensionElements")
        mappings = (read_mappings_and_listeners(extension).get("callIn", [])
                    if extension is not None else [])
        return MappedSignalEventDefinition(parsed.name, mappings,
                                           description=parsed.description)

    def parse_message_event(self, message_event: etree._Element) -> Any:
        parsed = super().parse_message_event(message_event)  # type: ignore[misc]
        return MergingMessageEventDefinition(
            parsed.name,
            parsed.correlation_properties,
            parsed.expression,
            parsed.result_var,
            description=parsed.description,
        )


class ReceiveParser(KeepCamundaExtensions, CamundaMultiInstanceParser, ReceiveTaskParser):
    """A receive task whose message's variables become process variables, as a catch event's."""

    def parse_message_event(self, message_event: etree._Element) -> Any:
        parsed = super().parse_message_event(message_event)
        return MergingMessageEventDefinition(parsed.name, parsed.correlation_properties,
                                             description=parsed.description)


class StartEventParser(KeepCamundaExtensions, ClockEvents, ConditionalEvents,
                       CamundaStartEventParser):
    def create_task(self) -> Any:
        # SpiffWorkflow reads no error or escalation definition on a start event, so
        # the start of an error or escalation event subprocess became a plain start:
        # the subprocess ran as soon as its scope began, error or not.
        event_definition = self.get_event_definition(
            [MESSAGE_EVENT_XPATH, SIGNAL_EVENT_XPATH, TIMER_EVENT_XPATH,
             CONDITIONAL_EVENT_XPATH, ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH])
        task = self._create_task(event_definition)
        self.spec.start.connect(task)
        return task

    def parse_extensions(self, node: etree._Element | None = None) -> dict[str, Any]:
        extensions = super().parse_extensions(node)
        # SpiffWorkflow does not read isInterrupting; an event subprocess needs it.
        interrupting = (self.node if node is None else node).get("isInterrupting", "true")
        if interrupting == "false":
            extensions["interrupting"] = False
        return extensions


class EndEventParser(CompensationEvents, KeepCamundaExtensions, ClockEvents,
                     CamundaEndEventParser):
    def create_task(self) -> Any:
        # SpiffWorkflow reads no signal definition on an end event: a signal end event
        # became a plain one and threw nothing.
        event_definition = self.get_event_definition(
            [MESSAGE_EVENT_XPATH, CANCEL_EVENT_XPATH, ERROR_EVENT_XPATH,
             ESCALATION_EVENT_XPATH, TERMINATION_EVENT_XPATH, SIGNAL_EVENT_XPATH])
        task = self._create_task(event_definition)
        task.connect(self.spec.end)
        return task


class CatchEventParser(KeepCamundaExtensions, ClockEvents, ConditionalEvents,
                       CamundaIntermediateCatchEventParser):
    pass


class ThrowEventParser(CompensationEvents, KeepCamundaExtensions, ClockEvents,
                       CamundaIntermediateThrowEventParser):
    pass


class BoundaryEventParser(KeepCamundaExtensions, ClockEvents, ConditionalEvents,
                          CamundaBoundaryEventParser):
    pass


class ProcessParserWithExtras(compensation.CompensationProcessParser, DataProcessParser):
    """A process or sub-process: its data objects and its compensation handlers."""


class SertiflowParser(CamundaParser):
    """SpiffWorkflow's Camunda parser, keeping what the Modeler writes.

    Business rule tasks (DMN) are not part of sertiflow's dialect; the validator
    refuses them before this parser sees the file. A deployment hands it the
    validator's tree; given bytes or a file instead, it reads them with the
    validator's parser (no DTD, no entities, no network), not lxml's default.
    """

    # Data objects and ioSpecification named as engine.bpmn.data describes.
    # Named data objects (engine.bpmn.data), compensation handlers (engine.bpmn.compensation).
    PROCESS_PARSER_CLASS = ProcessParserWithExtras
    _add_data_stores = ignore_data_store_elements
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (UserTaskParser, UserTask),
        full_tag("serviceTask"): (ServiceTaskParser, TopicServiceTask),
        # Camunda 7 runs a send task exactly like a service task.
        full_tag("sendTask"): (ServiceTaskParser, TopicSendTask),
        # Camunda 7 passes through both; SpiffWorkflow would wait for a person.
        full_tag("receiveTask"): (ReceiveParser, WaitingReceiveTask),
        full_tag("task"): (TaskParser, PassThroughTask),
        full_tag("manualTask"): (TaskParser, PassThroughManualTask),
        full_tag("scriptTask"): (ScriptParser, ScriptTask),
        full_tag("subProcess"): (SubprocessParser, MappedCallActivity),
        full_tag("callActivity"): (CallParser, MappedCallActivity),
        full_tag("adHocSubProcess"): (AdHocParser, AdHocSubProcess),
        # Gateways keep their listeners too.
        full_tag("exclusiveGateway"): (ConditionalGatewayWithExtensions, ExclusiveGateway),
        full_tag("inclusiveGateway"): (ConditionalGatewayWithExtensions, InclusiveGateway),
        full_tag("parallelGateway"): (GatewayWithExtensions, ParallelGateway),
        full_tag("eventBasedGateway"): (EventBasedGatewayWithExtensions,
                                        WaitingEventBasedGateway),
        full_tag("complexGateway"): (ComplexGatewayWithExtensions, ComplexGateway),
        full_tag("transaction"): (SubprocessParser, TransactionSubprocess),
        full_tag("startEvent"): (StartEventParser, StartEvent),
        full_tag("endEvent"): (EndEventParser, EndEvent),
        full_tag("intermediateCatchEvent"): (CatchEventParser, WaitingCatchEvent),
        full_tag("intermediateThrowEvent"): (ThrowEventParser, IntermediateThrowEvent),
        full_tag("boundaryEvent"): (BoundaryEventParser, RearmedBoundaryEvent),
    }
    AD_HOC_PARSER_CLASS = AdHocProcessParser


    def get_subprocess_specs(self, name: str, specs: dict[str, Any] | None = None,
                             require_call_activity_specs: bool = True) -> dict[str, Any]:
        """The specs ``name`` needs: SpiffWorkflow's, and its compensation handlers'."""
        used: dict[str, Any] = super().get_subprocess_specs(
            name, specs, require_call_activity_specs)
        spec = self.get_spec(name, required=False)
        for handler in compensation.handler_specs(spec) if spec is not None else ():
            if handler not in used:
                used[handler] = self.get_spec(handler)
                self.get_subprocess_specs(handler, used, require_call_activity_specs)
        return used

    def add_bpmn_io(self, file_like_object: Any, filename: str | None = None) -> None:
        self.add_bpmn_str(file_like_object.read(), filename)

    def add_bpmn_str(self, bpmn_str: bytes | str, filename: str | None = None) -> None:
        """Parse a BPMN file given as bytes (or text) and add it.

        :raises ValidationException: when the file has a document type declaration.
        """
        content = bpmn_str.encode() if isinstance(bpmn_str, str) else bpmn_str
        if doctype_line(content) is not None:
            raise ValidationException(NO_DTD, file_name=filename)
        root = etree.fromstring(content, xml_parser())
        if declares_dtd(root):
            raise ValidationException(NO_DTD, file_name=filename)
        self.add_bpmn_xml(root, filename)
