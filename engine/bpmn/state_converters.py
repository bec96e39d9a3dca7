"""The converters of an instance's state: its tasks, subprocesses and events, their
process data escaped.

SpiffWorkflow marks each typed value it writes with a ``typename`` key and, on
restore, turns every dict with such a key into an object of that type. Process
data is the client's own JSON, which may hold that key too; each such dict is
written inside an envelope of sertiflow's own type (``PLAIN_DICT``), which
restores it as it was, so data round-trips exactly whatever keys it has.
A task is restored at a lower cost than SpiffWorkflow's own (a long process
restores hundreds per command once it is out of the cache), and the top-level
workflow is written without its specs (:mod:`engine.bpmn.serializer`).
"""

from __future__ import annotations

from copy import copy
from functools import lru_cache
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnEventConverter,
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from . import compensation
from .live_workflow import LiveWorkflow

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
def parse_uuid(text: str) -> UUID:
    # Each id is read three times on a restore (the task's own, its parent's, its
    # children's); parsing one is the costliest step of restoring a predicted task.
    return UUID(text)


# A predicted task (FUTURE, LIKELY, MAYBE) that holds nothing (no data, no internal
# data, not triggered) is stored as ``[task spec, state, parent, children, last state
# change]`` under its id: the predicted rest of a 200-step process is some 185 such
# tasks, read back on every command that rebuilds the instance. Its data is empty, as
# the dict form's delta (every key of the parent deleted) gives it.
_PREDICTED = TaskState.FUTURE | TaskState.LIKELY | TaskState.MAYBE


def compact_task(task: Task) -> list[Any] | None:
    """The short form of ``task``, or None when it holds something (or is not predicted)."""
    if (not task._state & _PREDICTED or task.data or task.internal_data or task.triggered
            or task.task_spec is None):
        return None
    parent = task._parent
    return [task.task_spec.name, task._state, str(parent) if parent is not None else None,
            [str(child) for child in task._children], task.last_state_change]


def restore_compact(task_id: str, fields: list[Any], workflow: Any) -> Task:
    """The task stored by :func:`compact_task`."""
    spec_name, state, parent, children, last_state_change = fields
    task_spec = workflow.spec.task_specs.get(spec_name)
    uuid = parse_uuid(task_id)
    if task_spec is None:  # as the dict form: SpiffWorkflow's constructor fills it in
        task = Task(workflow, task_spec, state=state, id=uuid)
    else:
        task = Task.__new__(Task)
        workflow.tasks[uuid] = task
        task.__dict__.update(id=uuid, workflow=workflow, task_spec=task_spec, _state=state,
                             thread_id=Task.thread_id_pool)
    task.__dict__.update(
        _parent=parse_uuid(parent) if parent is not None else None,
        _children=[parse_uuid(child) for child in children],
        last_state_change=last_state_change, triggered=False, internal_data={}, data={})
    return task


class DataTaskConverter(TaskConverter):
    """A task, its data (or data delta) and internal data (message payloads) escaped."""

    def from_dict(self, dct: dict[str, Any], workflow: Any, plain: bool = False) -> Task:
        """SpiffWorkflow's restore of a task, with the same result at a lower cost.

        A task's data is its parent's with the stored delta applied; top-level
        containers are copied, their contents shared, as SpiffWorkflow's own
        inheritance of data does (``DeepMerge.merge({}, parent.data)``).
        """
        task_spec = workflow.spec.task_specs.get(dct["task_spec"])
        task_id = parse_uuid(dct["id"])
        parent_id = parse_uuid(dct["parent"]) if dct["parent"] is not None else None
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
            _parent=parent_id, _children=[parse_uuid(child) for child in dct["children"]],
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


# The key of a subprocess's part (engine.bpmn.serializer) that names those of its
# tasks whose data holds no typed value, put there when the state is read.
PLAIN_TASKS = "plain_tasks"


def restore_tasks(registry: Any, tasks: dict[str, Any], workflow: Any,
                  plain: frozenset[str] | set[str]) -> None:
    """Restore each of ``tasks`` (by id: the dict form, or the short form of a predicted
    task) into ``workflow``, parents first; those named in ``plain`` hold no typed value
    (their data is taken as it was read)."""
    restore_task = registry.convert_from_dict["Task"]
    workflow.tasks = {}  # each task enters itself as it is made
    for task_id, task in tasks.items():
        if type(task) is list:
            restore_compact(task_id, task, workflow)
        else:
            restore_task(task, workflow=workflow, plain=task_id in plain)


class DataSubWorkflowConverter(BpmnSubWorkflowConverter):
    """A subprocess, its data escaped; its tasks restored as the top-level workflow's
    are (:func:`restore_tasks`)."""

    def to_dict(self, workflow: BpmnSubWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(workflow)
        dct["data"] = escape_data(dct["data"])
        return dct

    def from_dict(self, dct: dict[str, Any], task: Task, top_workflow: BpmnWorkflow
                  ) -> BpmnSubWorkflow:
        if compensation.runs_handlers(task):
            # A compensation handler: its spec is the one the state names, not the task
            # spec's.
            spec = top_workflow.subprocess_specs[dct["spec"]]
        else:
            spec = top_workflow.subprocess_specs.get(task.task_spec.spec)
        subprocess = self.target_class(spec, task.id, top_workflow, deserializing=True)
        restore_tasks(self.registry, dct["tasks"], subprocess, dct.get(PLAIN_TASKS, frozenset()))
        subprocess.task_tree = subprocess.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(subprocess, dct)
        return subprocess


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
        restore_tasks(self.registry, dct["tasks"], workflow, plain)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow
