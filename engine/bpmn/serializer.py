"""Turn specs and workflow state into JSON-able dicts and back.

A process definition version stores its parsed spec once; an instance stores
only its own state. SpiffWorkflow's stock serializer writes the whole spec into
every workflow it serializes and re-creates it on every load, which dominates a
save/load cycle; the converter here leaves the spec out and takes it back from
the definition's (cached) spec objects on restore.
"""

from __future__ import annotations

import json
import zlib
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    TimerConditionalEventDefinitionConverter,
)
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.workflow import VERSION
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.defaults import UserTask
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.serializer.event_definition import MessageEventDefinitionConverter
from SpiffWorkflow.util.task import TaskState

from .events import TIMER_CLASSES, MergingMessageEventDefinition
from .specs import TopicSendTask, TopicServiceTask

STATE_FORMAT = f"sertiflow-1/spiff-{VERSION}"


class StateConverter(BpmnWorkflowConverter):
    """Serialize a top-level workflow without its specs."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

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


def _build_registry() -> Any:
    config = dict(CAMUNDA_CONFIG)
    # The Camunda config swaps the plain user task for Camunda's Form-carrying one;
    # sertiflow keeps the plain one (the form link lives in extensions).
    config[UserTask] = BpmnTaskSpecConverter
    config[TopicServiceTask] = BpmnTaskSpecConverter
    config[TopicSendTask] = BpmnTaskSpecConverter
    config[BpmnWorkflow] = StateConverter
    for cls in TIMER_CLASSES.values():
        config[cls] = TimerConditionalEventDefinitionConverter
    config[MergingMessageEventDefinition] = MessageEventDefinitionConverter
    return BpmnWorkflowSerializer.configure(config)


# Two registries: SpiffWorkflow switches a registry into "encoder mode" with a flag
# on the registry itself, so sharing one between spec conversion (normal mode)
# and state dumps (encoder mode, data converted lazily by the JSON encoder) from
# several threads would let one flip the other's mode.
_REGISTRY = _build_registry()
_STATE_REGISTRY = _build_registry()
_STATE_REGISTRY._encoder_mode = True
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
    if dct.pop("format", None) != STATE_FORMAT:
        raise ValueError("instance state was written by an unknown serializer version")
    return _STATE.restore(dct, spec, subprocess_specs)
