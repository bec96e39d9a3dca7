"""Turn specs and workflow state into JSON-able dicts and back.

A process definition version stores its parsed spec once; an instance stores
only its own state. SpiffWorkflow's stock serializer writes the whole spec into
every workflow it serializes and re-creates it on every load, which dominates a
save/load cycle; the converter here leaves the spec out and takes it back from
the definition's (cached) spec objects on restore.

SpiffWorkflow marks each typed value it writes with a ``typename`` key and, on
restore, turns every dict with such a key into an object of that type. Process
data is the client's own JSON, which may hold that key too; each such dict is
written inside an envelope of sertiflow's own type (``PLAIN_DICT``), which
restores it as it was, so data round-trips exactly whatever keys it has.
"""

from __future__ import annotations

import json
import zlib
from datetime import date
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.config import (
    MessageEventDefinition as PlainMessageEventDefinition,
)
from SpiffWorkflow.bpmn.serializer.config import (
    ParallelMultiInstanceTask as PlainParallelMultiInstanceTask,
)
from SpiffWorkflow.bpmn.serializer.config import (
    SequentialMultiInstanceTask as PlainSequentialMultiInstanceTask,
)
from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    MessageEventDefinitionConverter as PlainMessageConverter,
)
from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    TimerConditionalEventDefinitionConverter,
)
from SpiffWorkflow.bpmn.serializer.default.task_spec import (
    BoundaryEventConverter,
    BpmnStartTaskConverter,
    BpmnTaskSpecConverter,
    MultiInstanceTaskConverter,
    StandardLoopTaskConverter,
)
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnEventConverter,
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.helpers.spec import EventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.defaults import (
    CallActivity,
    EndEvent,
    EventBasedGateway,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    ReceiveTask,
    UserTask,
)
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.serializer.event_definition import MessageEventDefinitionConverter
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from . import compensation, conditional
from .adhoc import AdHocEndJoin, AdHocProcessSpec, AdHocProcessSpecConverter, AdHocSubProcess
from .adhoc import CompletionCheck as AdHocCompletionCheck
from .data import CONVERTERS as DATA_CONVERTERS
from .events import TIMER_CLASSES, MappedSignalEventDefinition, MergingMessageEventDefinition
from .gateways import ComplexGateway, ComplexGatewayConverter
from .hooks import MappedCallActivity
from .loops import WhileLoopTask
from .multiinstance import (
    BehaviorLoopConverter,
    CamundaParallelInstances,
    CamundaSequentialInstances,
)
from .specs import (
    IsolatedStartTask,
    PassThroughManualTask,
    PassThroughTask,
    RearmedBoundaryEvent,
    TopicSendTask,
    TopicServiceTask,
    WaitingCatchEvent,
    WaitingEventBasedGateway,
    WaitingReceiveTask,
)

# sertiflow-2 writes process data with PLAIN_DICT envelopes. sertiflow-1 states
# have none, and read the same way: their typed values are SpiffWorkflow's markers.
STATE_FORMAT = f"sertiflow-2/spiff-{VERSION}"
READABLE_FORMATS = frozenset({STATE_FORMAT, f"sertiflow-1/spiff-{VERSION}"})

PLAIN_DICT = "sertiflow.PlainDict"
_SCALARS = frozenset({str, int, float, bool, type(None)})
_CONTAINERS = (dict, list, tuple)


def escape_data(value: Any) -> Any:
    """Return ``value`` with each dict that has a ``typename`` key put in an envelope.

    Walks dicts, lists and tuples at any depth; other values (typed ones such as
    datetimes included) are left for the JSON encoder. Nothing is modified in
    place: a container is copied only when something inside it changed, so data
    without such keys comes back as the very same object. This runs on every
    save, so scalars, most of any data, are passed over by an exact type test.
    """
    if isinstance(value, dict):
        copied: dict[Any, Any] | None = None
        for key, item in value.items():
            if type(item) in _SCALARS or not isinstance(item, _CONTAINERS):
                continue
            escaped = escape_data(item)
            if escaped is not item:
                if copied is None:
                    copied = dict(value)
                copied[key] = escaped
        result = value if copied is None else copied
        if "typename" in value:
            return {"typename": PLAIN_DICT, "dict": result}
        return result
    if isinstance(value, list | tuple):
        items: list[Any] | None = None
        for index, item in enumerate(value):
            if type(item) in _SCALARS or not isinstance(item, _CONTAINERS):
                continue
            escaped = escape_data(item)
            if escaped is not item:
                if items is None:
                    items = list(value)
                items[index] = escaped
        return value if items is None else items
    return value


# The three converters below belong to the state registry, which runs in encoder
# mode: SpiffWorkflow's converters hand data back unconverted (objects are left to
# the JSON encoder), so it can still be escaped after they ran.


class DataTaskConverter(TaskConverter):
    """A task, its data (or data delta) and internal data (message payloads) escaped."""

    def to_dict(self, task: Task) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(task)
        if dct["internal_data"]:
            dct["internal_data"] = escape_data(dct["internal_data"])
        if dct["data"]:
            dct["data"] = escape_data(dct["data"])
        if dct["delta"]:
            dct["delta"]["updates"] = escape_data(dct["delta"]["updates"])
        return dct


class DataSubWorkflowConverter(BpmnSubWorkflowConverter):
    """A subprocess, its data escaped."""

    def to_dict(self, workflow: BpmnSubWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(workflow)
        dct["data"] = escape_data(dct["data"])
        return dct

    def from_dict(self, dct: dict[str, Any], task: Task, top_workflow: BpmnWorkflow
                  ) -> BpmnSubWorkflow:
        if not compensation.runs_handlers(task):
            restored: BpmnSubWorkflow = super().from_dict(dct, task, top_workflow)
            return restored
        # A compensation handler: its spec is the one the state names, not the task spec's.
        handler = BpmnSubWorkflow(top_workflow.subprocess_specs[dct["spec"]], task.id,
                                  top_workflow, deserializing=True)
        handler.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=handler)
        handler.task_tree = handler.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(handler, dct)
        return handler


class DataEventConverter(BpmnEventConverter):
    """A pending event, its payload and correlation values escaped."""

    def to_dict(self, event: BpmnEvent) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(event)
        # Escaped before conversion: a payload may be a typed value itself (a date).
        dct["payload"] = self.registry.convert(escape_data(event.payload))
        dct["correlations"] = self.mapping_to_dict(
            {key: escape_data(value) for key, value in event.correlations.items()})
        return dct


class StateConverter(BpmnWorkflowConverter):
    """Serialize a top-level workflow without its specs."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["data"] = escape_data(dct["data"])
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def subprocesses_from_dict(self, dct: dict[str, Any], workflow: Any,
                               top_workflow: Any = None) -> None:
        """SpiffWorkflow's, and the handler subworkflows of compensation events."""
        top = top_workflow or workflow
        super().subprocesses_from_dict(dct, workflow, top)
        for task in list(workflow.tasks.values()):
            if str(task.id) in dct and compensation.runs_handlers(task):
                handler = self.registry.restore(dct.pop(str(task.id)), task=task,
                                                top_workflow=top)
                top.subprocesses[task.id] = handler
                compensation.reconnect(handler, task)
                self.subprocesses_from_dict(dct, handler, top)

    def restore(
        self,
        dct: dict[str, Any],
        spec: BpmnProcessSpec,
        subprocess_specs: dict[str, BpmnProcessSpec],
    ) -> BpmnWorkflow:
        workflow = BpmnWorkflow(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class MappedSignalConverter(EventDefinitionConverter):
    """A signal definition with the ``camunda:in`` mappings of its throw."""

    def to_dict(self, event_definition: Any) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(event_definition)
        dct["mappings"] = event_definition.mappings
        return dct


def _build_registry(*, state: bool) -> Any:
    """A registry for specs, or (``state``) for instance states with escaped data."""
    config = dict(CAMUNDA_CONFIG)
    # The Camunda config swaps the plain user task for Camunda's Form-carrying one;
    # sertiflow keeps the plain one (the form link lives in extensions).
    config[UserTask] = BpmnTaskSpecConverter
    config[TopicServiceTask] = BpmnTaskSpecConverter
    config[TopicSendTask] = BpmnTaskSpecConverter
    config[PassThroughTask] = BpmnTaskSpecConverter
    config[PassThroughManualTask] = BpmnTaskSpecConverter
    config[RearmedBoundaryEvent] = BoundaryEventConverter
    config[WaitingCatchEvent] = config[IntermediateCatchEvent]
    config[WaitingReceiveTask] = config[ReceiveTask]
    config[WaitingEventBasedGateway] = config[EventBasedGateway]
    config[MappedCallActivity] = config[CallActivity]
    config[AdHocSubProcess] = config[CallActivity]
    config[AdHocProcessSpec] = AdHocProcessSpecConverter
    config[AdHocEndJoin] = BpmnTaskSpecConverter
    config[AdHocCompletionCheck] = BpmnTaskSpecConverter
    config[ComplexGateway] = ComplexGatewayConverter
    config[compensation.CompensationThrowEvent] = config[IntermediateThrowEvent]
    config[compensation.CompensationEndEvent] = config[EndEvent]
    config[compensation.CancelEndEvent] = config[EndEvent]
    config[BpmnWorkflow] = StateConverter
    for cls in TIMER_CLASSES.values():
        config[cls] = TimerConditionalEventDefinitionConverter
    config[MergingMessageEventDefinition] = MessageEventDefinitionConverter
    config[MappedSignalEventDefinition] = MappedSignalConverter
    config[CamundaSequentialInstances] = BehaviorLoopConverter
    config[CamundaParallelInstances] = BehaviorLoopConverter
    config.update(DATA_CONVERTERS)
    config[WhileLoopTask] = StandardLoopTaskConverter
    config.update(conditional.CONVERTERS)
    if state:
        config[Task] = DataTaskConverter
        config[BpmnSubWorkflow] = DataSubWorkflowConverter
        config[BpmnEvent] = DataEventConverter
    registry = BpmnWorkflowSerializer.configure(config)
    _add_plain_bpmn_classes(registry)
    # Every process's start task is read back as the one that leaves the shared
    # spec alone (specs.IsolatedStartTask), under the name SpiffWorkflow writes.
    BpmnStartTaskConverter(IsolatedStartTask, registry, "BpmnStartTask")
    # Definitions stored before standard loops ran as BPMN says load as they now run.
    registry.convert_from_dict["StandardLoopTask"] = registry.convert_from_dict[
        "WhileLoopTask"]
    conditional.upgrade_plain_definitions(registry)
    if not state:
        return registry
    registry._encoder_mode = True
    # Scripts may keep dates; SpiffWorkflow registers only datetime, timedelta and UUID.
    # Types are looked up exactly, so a datetime stays a datetime.
    registry.register(date, lambda value: {"value": value.isoformat()},
                      lambda dct: date.fromisoformat(dct["value"]))

    def restore_plain_dict(dct: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        # The envelope's own marker is gone; the dict inside keeps its "typename".
        return {key: registry.restore(value) for key, value in dct["dict"].items()}

    # Only a reader: escape_data writes the envelopes, no class converts to one.
    registry.convert_from_dict[PLAIN_DICT] = restore_plain_dict
    return registry


def _add_plain_bpmn_classes(registry: Any) -> None:
    """Register the plain BPMN classes that the Camunda configuration leaves out.

    The parser still makes some of them: a multi-instance script, service or
    send task gets SpiffWorkflow's plain multi-instance spec, a receive task its
    plain message definition. They share their class names with the Camunda
    ones, so they are written under names of their own.
    """
    for cls, converter in ((PlainSequentialMultiInstanceTask, MultiInstanceTaskConverter),
                           (PlainParallelMultiInstanceTask, MultiInstanceTaskConverter),
                           (PlainMessageEventDefinition, PlainMessageConverter)):
        converter(cls, registry, f"Bpmn{cls.__name__}")


# Two registries: SpiffWorkflow switches a registry into "encoder mode" with a flag
# on the registry itself, so sharing one between spec conversion (normal mode)
# and state dumps (encoder mode, data converted lazily by the JSON encoder) from
# several threads would let one flip the other's mode.
_REGISTRY = _build_registry(state=False)
_STATE_REGISTRY = _build_registry(state=True)
_STATE = StateConverter(BpmnWorkflow, _STATE_REGISTRY)
_ENCODER = create_encoder(_STATE_REGISTRY)


def spec_to_dict(spec: BpmnProcessSpec) -> dict[str, Any]:
    """Return the JSON-able form of a process spec."""
    result: dict[str, Any] = _REGISTRY.convert(spec)
    return result


def spec_from_dict(dct: dict[str, Any]) -> BpmnProcessSpec:
    # restore() consumes parts of the dict it is given; keep the caller's intact.
    spec: BpmnProcessSpec = _REGISTRY.restore(json.loads(json.dumps(dct)))
    return spec


# Tasks whose JSON cannot change until their own state or their parent's does:
# finished ones, and predicted ones (no data and no event values yet; their
# stored data delta is relative to the parent). Ready, waiting, started and
# failed tasks change in place and are always encoded afresh.
_STABLE = (TaskState.COMPLETED | TaskState.CANCELLED | TaskState.FUTURE | TaskState.LIKELY
           | TaskState.MAYBE)

TaskMemo = dict[UUID, tuple[tuple[Any, ...], str]]


def dump_state(workflow: BpmnWorkflow, memo: TaskMemo | None = None) -> bytes:
    """Return the instance state of ``workflow``, compressed, without its specs.

    :param memo: a dict kept with the live workflow between saves; it holds the
        JSON of tasks that cannot have changed, so each save encodes only the rest.
    """
    memo = {} if memo is None else memo
    tasks = workflow.tasks
    workflow.tasks = {}
    try:
        dct = _STATE.to_dict(workflow)
    finally:
        workflow.tasks = tasks
    del dct["tasks"]
    dct["format"] = STATE_FORMAT
    head = json.dumps(dct, separators=(",", ":"), cls=_ENCODER)
    parts = []
    for task_id, task in tasks.items():
        encoded = None
        if task.state & _STABLE:
            parent = task.parent
            key = (task.state, task.last_state_change, len(task._children),
                   parent.state if parent is not None else None,
                   parent.last_state_change if parent is not None else None)
            hit = memo.get(task_id)
            if hit is not None and hit[0] == key:
                encoded = hit[1]
            else:
                encoded = json.dumps(_STATE_REGISTRY.convert(task), separators=(",", ":"),
                                     cls=_ENCODER)
                memo[task_id] = (key, encoded)
        else:
            encoded = json.dumps(_STATE_REGISTRY.convert(task), separators=(",", ":"),
                                 cls=_ENCODER)
        parts.append(f'"{task_id}":{encoded}')
    text = head[:-1] + ',"tasks":{' + ",".join(parts) + "}}"
    return zlib.compress(text.encode(), 1)


def load_state(
    blob: bytes, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]
) -> BpmnWorkflow:
    """Rebuild a workflow from :func:`dump_state` output and the definition's specs."""
    dct = json.loads(zlib.decompress(blob))
    if dct.pop("format", None) not in READABLE_FORMATS:
        raise ValueError("instance state was written by an unknown serializer version")
    return _STATE.restore(dct, spec, subprocess_specs)


def encode_value(value: Any) -> str:
    """A process-data value as JSON text that :func:`decode_value` gives back exactly
    (dates stay dates, dicts with a ``typename`` key stay dicts)."""
    return json.dumps(escape_data(value), separators=(",", ":"), cls=_ENCODER)


def decode_value(text: str) -> Any:
    return _STATE_REGISTRY.restore(json.loads(text))
