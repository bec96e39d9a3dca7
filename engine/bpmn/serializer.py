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
from copy import copy
from datetime import date
from functools import lru_cache
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
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
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
from .live_workflow import LiveWorkflow
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
from .state_codec import TaskMemo, compress_state, read_state, seed_memo

# sertiflow-2 writes process data with PLAIN_DICT envelopes. sertiflow-1 states
# have none, and read the same way: their typed values are SpiffWorkflow's markers.
STATE_FORMAT = f"sertiflow-2/spiff-{VERSION}"
READABLE_FORMATS = frozenset({STATE_FORMAT, f"sertiflow-1/spiff-{VERSION}"})

PLAIN_DICT = "sertiflow.PlainDict"
_SCALARS = frozenset({str, int, float, bool, type(None)})
_CONTAINERS = (dict, list, tuple)
_MUTABLE = (dict, list, set)


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


@lru_cache(maxsize=8192)
def _uuid(text: str) -> UUID:
    # Each id is read three times on a restore (the task's own, its parent's, its
    # children's); parsing one is the costliest step of restoring a predicted task.
    return UUID(text)


class DataTaskConverter(TaskConverter):
    """A task, its data (or data delta) and internal data (message payloads) escaped."""

    def from_dict(self, dct: dict[str, Any], workflow: Any, plain: bool = False) -> Task:
        """SpiffWorkflow's restore of a task, with the same result at a lower cost.

        A task's data is its parent's with the stored delta applied; top-level
        containers are copied, their contents shared, as SpiffWorkflow's own
        inheritance of data does (``DeepMerge.merge({}, parent.data)``).
        """
        task_spec = workflow.spec.task_specs.get(dct["task_spec"])
        task_id = _uuid(dct["id"])
        parent_id = _uuid(dct["parent"]) if dct["parent"] is not None else None
        internal = dct["internal_data"]
        if task_spec is None:  # SpiffWorkflow's constructor puts a start task in its place
            task = Task(workflow, task_spec, state=dct["state"], id=task_id)
        else:
            # What Task() sets, without its own look-ups and clock reading: a long
            # process restores hundreds of tasks per command once it is out of the cache.
            task = Task.__new__(Task)
            workflow.tasks[task_id] = task
            task.__dict__.update(id=task_id, workflow=workflow, task_spec=task_spec,
                                 _state=dct["state"], thread_id=Task.thread_id_pool)
        task.__dict__.update(
            _parent=parent_id, _children=[_uuid(child) for child in dct["children"]],
            last_state_change=dct["last_state_change"], triggered=dct["triggered"],
            internal_data=self.registry.restore(internal) if internal and not plain else (
                internal or {}))
        if task.state & TaskState.WAITING and isinstance(task_spec, CatchingEvent):
            workflow.top_workflow.event_manager.add_task(task)
        delta = dct.get("delta")
        parent = workflow.tasks.get(parent_id) if parent_id is not None else None
        if delta and parent is not None:
            gone = delta.get("deletions") or ()
            data = {key: copy(value) if isinstance(value, _MUTABLE) else value
                    for key, value in parent.data.items() if key not in gone}
            updates = delta.get("updates")
            if updates:
                data.update(updates if plain else self.registry.restore(updates))
        else:
            data = dct["data"] if plain else self.registry.restore(dct["data"])
        task.data = data
        return task

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
        plain: frozenset[str] | set[str] = frozenset(),
    ) -> BpmnWorkflow:
        """The workflow of ``dct``; the tasks named in ``plain`` hold no typed value
        (their data is taken as it was read)."""
        workflow = LiveWorkflow(spec, subprocess_specs, deserializing=True)
        restore_task = self.registry.convert_from_dict["Task"]
        workflow.tasks = {}  # each task enters itself as it is made
        for task_id, task in dct["tasks"].items():
            restore_task(task, workflow=workflow, plain=task_id in plain)
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
# Finished tasks: once their JSON is in the compressed prefix it stays there.
_FINISHED = TaskState.COMPLETED | TaskState.CANCELLED
_SEPARATORS = (",", ":")


# The attribute a stable task carries its JSON in, with what the JSON was made from:
# its state and children, its parent and the parent's state. On the task itself,
# so that a save looks each task up at the cost of one attribute read.
_JSON = "_sertiflow_json"


def _remember(task: Task, parent: Task | None, part: str) -> None:
    if parent is None:
        entry = (task._state, task.last_state_change, len(task._children), None, None, None,
                 part)
    else:
        entry = (task._state, task.last_state_change, len(task._children), parent,
                 parent._state, parent.last_state_change, part)
    setattr(task, _JSON, entry)


def _encode_task(task: Task) -> str:
    return json.dumps(_STATE_REGISTRY.convert(task), separators=_SEPARATORS, cls=_ENCODER)


def dump_state(workflow: BpmnWorkflow, memo: TaskMemo | None = None) -> bytes:
    """Return the instance state of ``workflow``, compressed, without its specs.

    :param memo: kept with the live workflow between saves (:class:`TaskMemo`);
        without one everything is encoded and compressed afresh.
    """
    tasks = workflow.tasks
    workflow.tasks = {}
    try:
        dct = _STATE.to_dict(workflow)
    finally:
        workflow.tasks = tasks
    del dct["tasks"]
    dct["format"] = STATE_FORMAT
    head = json.dumps(dct, separators=_SEPARATORS, cls=_ENCODER)
    parts: list[str] = []
    leading = -1  # the number of leading finished tasks
    cached = memo is not None
    memo = TaskMemo() if memo is None else memo
    # Once per task per save: an unchanged stable task costs an attribute read and a
    # few comparisons here, no encoding and (in the blocks) no compression.
    for task_id, task in tasks.items():
        state = task._state
        if state & _STABLE:
            hit = getattr(task, _JSON, None) if cached else None
            if (hit is not None and hit[0] == state and hit[1] == task.last_state_change
                    and hit[2] == len(task._children)
                    and ((parent := hit[3]) is None
                         or (parent._state == hit[4]
                             and parent.last_state_change == hit[5]))):
                part = hit[6]
            else:
                part = f'"{task_id}":{_encode_task(task)}'
                _remember(task, tasks.get(task._parent), part)
        else:
            part = f'"{task_id}":{_encode_task(task)}'
        if leading < 0 and not state & _FINISHED:
            leading = len(parts)
        parts.append(part)
    if leading < 0:
        leading = len(parts)
    return compress_state(memo, parts, leading, head)


def load_state(
    blob: bytes, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec],
    memo: TaskMemo | None = None,
) -> BpmnWorkflow:
    """Rebuild a workflow from :func:`dump_state` output and the definition's specs.

    :param memo: filled with the stored compressed blocks; the stable tasks keep
        their stored JSON, so that the first save of the rebuilt workflow encodes
        and compresses only what its command changed.
    """
    text = zlib.decompress(blob)
    dct, texts = read_state(text.decode())
    layout = dct.pop("stream", None)
    if dct.pop("format", None) not in READABLE_FORMATS:
        raise ValueError("instance state was written by an unknown serializer version")
    # A task whose JSON has no marker but its own holds no typed value: its data is
    # used as read, not walked value by value for markers (the cost of a large variable).
    plain = {task_id for task_id, text in texts.items() if text.count('"typename"') == 1}
    workflow = _STATE.restore(dct, spec, subprocess_specs, plain)
    if memo is not None:
        tasks = workflow.tasks
        parts: list[str | None] = []
        for task_id, task_text in texts.items():
            task = tasks.get(_uuid(task_id))
            part = None
            if task is not None and task._state & _STABLE:
                part = f'"{task_id}":{task_text}'
                _remember(task, tasks.get(task._parent), part)
            parts.append(part)
        if layout is not None:
            seed_memo(memo, blob, text, layout, parts)
    return workflow


def encode_value(value: Any) -> str:
    """A process-data value as JSON text that :func:`decode_value` gives back exactly
    (dates stay dates, dicts with a ``typename`` key stay dicts)."""
    return json.dumps(escape_data(value), separators=(",", ":"), cls=_ENCODER)


def decode_value(text: str) -> Any:
    return _STATE_REGISTRY.restore(json.loads(text))
