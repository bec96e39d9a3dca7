"""The typed face of a running SpiffWorkflow workflow.

The runtime speaks in the engine's own terms (user tasks, timers, message
subscriptions, failures); this module translates them to and from
SpiffWorkflow's task tree. Nothing outside ``engine.bpmn`` touches a Spiff object.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.defaults import StartEvent, UserTask
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
    ErrorEventDefinition,
    SignalEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

from . import conditional, hooks
from . import data as dataflow
from .events import MappedSignalEventDefinition, MergingMessageEventDefinition
from .host import WorkflowScriptEngine
from .serializer import TaskMemo, dump_state, load_state, spec_from_dict


@dataclass(frozen=True)
class DefinitionSpecs:
    """The parsed specs of one definition version: the process and what it calls."""

    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> DefinitionSpecs:
        specs = cls(
            spec=spec_from_dict(stored["spec"]),
            subprocess_specs={
                name: spec_from_dict(dct) for name, dct in stored["subprocess_specs"].items()
            },
        )
        for spec in (specs.spec, *specs.subprocess_specs.values()):
            hooks.install(spec)
            dataflow.install(spec, top=spec is specs.spec)
        return specs


@dataclass(frozen=True)
class UserTaskView:
    """A ready user task as the engine projects it into the ``task`` table."""

    id: str
    element_id: str
    title: str | None
    lane: str | None
    camunda: Mapping[str, str]
    properties: Mapping[str, str]
    form_fields: list[dict[str, Any]]
    data: Mapping[str, Any]


@dataclass(frozen=True)
class WaitingTimer:
    task_id: str
    element_id: str
    kind: str
    due_at: datetime


@dataclass(frozen=True)
class WaitingMessage:
    """A message (or, with ``kind`` "signal", a signal) an instance waits for."""

    task_id: str
    element_id: str
    name: str
    kind: str = "message"


@dataclass(frozen=True)
class ThrownEvent:
    """A message or signal the instance threw that no element of its own caught."""

    kind: str  # "message" or "signal"
    name: str
    variables: dict[str, Any]
    element_id: str | None
    task_id: str | None


@dataclass(frozen=True)
class StepFailure:
    """An element that raised while the engine ran it."""

    task_id: str | None
    element_id: str | None
    kind: str
    message: str
    traceback: str


@dataclass
class StepRecord:
    """An element the engine completed on its own (not a user task)."""

    task_id: str
    element_id: str
    element_type: str
    changed: dict[str, Any] = field(default_factory=dict)
    #: The data objects the element wrote, by name (engine.bpmn.data).
    data_objects: dict[str, Any] = field(default_factory=dict)


class ProcessRun:
    """One instance's live workflow, with the operations the runtime needs."""

    def __init__(self, workflow: BpmnWorkflow) -> None:
        self._wf = workflow
        self._memo: TaskMemo = {}
        # Failures of the current command that happened outside advance().
        self._failures: list[Exception] = []

    # -- creation and storage -------------------------------------------------

    @classmethod
    def start(
        cls, specs: DefinitionSpecs, variables: Mapping[str, Any], engine: WorkflowScriptEngine
    ) -> ProcessRun:
        workflow = BpmnWorkflow(specs.spec, specs.subprocess_specs, script_engine=engine)
        dataflow.start(workflow)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(variables)
        return cls(workflow)

    @classmethod
    def restore(
        cls, state: bytes, specs: DefinitionSpecs, engine: WorkflowScriptEngine
    ) -> ProcessRun:
        workflow = load_state(state, specs.spec, specs.subprocess_specs)
        workflow.script_engine = engine
        return cls(workflow)

    def dump(self) -> bytes:
        return dump_state(self._wf, self._memo)

    def attach(self, engine: WorkflowScriptEngine) -> None:
        """Give a cached workflow this command's script engine (clock, handlers)."""
        self._wf.script_engine = engine

    # -- running ---------------------------------------------------------------

    def advance(self) -> tuple[list[StepRecord], StepFailure | None]:
        """Run every engine step that is ready; stop at the first failure."""
        records: list[StepRecord] = []
        before: dict[UUID, dict[str, Any]] = {}

        def will_complete(task: Any) -> None:
            before[task.id] = dict(task.data)

        def did_complete(task: Any) -> None:
            element = _element_id(task)
            old = before.pop(task.id, {})
            if element is None or task.state != TaskState.COMPLETED:
                # Not an element, or one that ran and goes on (a standard loop's next
                # iteration): nothing finished yet.
                if element is None and task.state == TaskState.COMPLETED:
                    conditional.step_done(task, old)  # a (sub-)process begins
                return
            changed = hooks.changed_values(old, task.data)
            hooks.publish(task.workflow, changed, source=task)
            kind = type(task.task_spec).__name__
            if isinstance(task.task_spec, MultiInstanceTask):
                element = f"{element}{MULTI_INSTANCE_BODY}"  # its instances are ``element``
            records.append(StepRecord(str(task.id), element, kind, changed,
                                      dataflow.take_written(task)))
            if isinstance(task.task_spec, ThrowingEvent):
                # An interrupting event subprocess that caught what this threw ends
                # its scope now, before anything after the thrower runs.
                hooks.interrupt_scopes(self._wf)
            conditional.step_done(task, old)

        if self._failures:  # the command's own step broke off: run nothing further
            return records, self._failure(self._hook_failures()[0])
        try:
            # A timer or an event from outside may have started an interrupting
            # event subprocess: its scope ends before anything else runs.
            hooks.interrupt_scopes(self._wf)
            conditional.run_engine_steps(self._wf, will_complete, did_complete)
            while (hooks.interrupt_scopes(self._wf)
                   or hooks.end_idle_event_subprocesses(self._wf)):
                conditional.run_engine_steps(self._wf, will_complete, did_complete)
            if self._wf.is_completed():
                hooks.run_process_end(self._wf)
        except Exception as exc:
            return records, self._failure(exc)
        failed = self._hook_failures()
        if failed:
            return records, self._failure(failed[0])
        return records, self._uncaught_error()

    def _uncaught_error(self) -> StepFailure | None:
        """An error thrown that no boundary event or event subprocess catches.

        SpiffWorkflow hands such an error back to its host as a pending event
        (with, sometimes, errors an event subprocess did catch) and ends the
        instance as if nothing happened; Camunda treats it as a failure. The
        error events are taken out of the pending ones here, so each is reported
        once.
        """
        errors = [e for e in self._wf.bpmn_events
                  if isinstance(e.event_definition, ErrorEventDefinition)]
        if not errors:
            return None
        self._wf.bpmn_events = [e for e in self._wf.bpmn_events if e not in errors]
        for event in errors:
            if self._caught_by_event_subprocess(event.event_definition):
                continue
            code = event.event_definition.code
            thrower = self._thrower(event.event_definition, "code")
            element = _element_id(thrower) if thrower is not None else None
            return StepFailure(
                task_id=str(thrower.id) if thrower is not None else None, element_id=element,
                kind="error",
                message=(f"the error {code or event.event_definition.name or ''!r} is caught "
                         "by nothing: add an error boundary event or an error event "
                         "subprocess that catches it; the instance stopped here"),
                traceback="")
        return None

    def _caught_by_event_subprocess(self, thrown: Any) -> bool:
        for name in self._wf.spec.start.trigger_specs:
            spec = self._wf.subprocess_specs.get(name)
            for start in getattr(spec, "bpmn_start_events", []):
                if isinstance(start.event_definition, ErrorEventDefinition) and (
                        start.event_definition == thrown):
                    return True
        return False

    def _hook_failures(self) -> list[Exception]:
        """Failures since the last look: of the command before this advance, and of
        listeners and mappings at an element's start."""
        taken, self._failures = self._failures, []
        failures = getattr(self._wf.script_engine, "hook_failures", None)
        if failures:
            taken.extend(failures)
            failures.clear()
        return taken

    def _failure(self, exc: BaseException) -> StepFailure:
        task = getattr(exc, "task", None)
        if task is None:
            errored = self._wf.get_tasks(state=TaskState.ERROR)
            task = errored[0] if errored else None
        elif not task.has_state(TaskState.FINISHED_MASK | TaskState.ERROR):
            # Failed before it ran: mark it, so that the incident's retry finds it.
            if not task.has_state(TaskState.READY | TaskState.STARTED):
                task.internal_data[FAILED_ON_ARRIVAL] = True
            task._set_state(TaskState.ERROR)
        element = None
        if task is not None:  # a step of sertiflow's own reports for the element it serves
            element = _element_id(task) or getattr(task.task_spec, "incident_element", None)
        spec_type = type(task.task_spec).__name__ if task is not None else ""
        if isinstance(exc, conditional.ConditionError):
            spec_type = "ConditionalEvent"
        kind = {
            "ConditionalEvent": "condition",
            "ScriptTask": "script",
            "TopicServiceTask": "handler",
            "TopicSendTask": "handler",
            "ExclusiveGateway": "condition",
            "InclusiveGateway": "condition",
            "CompletionCheck": "condition",
            "ComplexGateway": "condition",
            "WhileLoopTask": "condition",
        }.get(spec_type, "engine")
        message = _failure_message(exc)
        return StepFailure(
            task_id=str(task.id) if task is not None else None,
            # A missing process input or output names the call activity or end event.
            element_id=getattr(exc, "element_id", None) or element,
            kind=kind,
            message=message,
            traceback="".join(traceback.format_exception(exc)),
        )

    def complete_user_task(self, task_id: str, data: Mapping[str, Any]) -> None:
        """Complete a ready user task with ``data``.

        :raises TaskHookFailed: when a ``complete`` task listener, an output
            mapping or an ``end`` listener of the task fails; the workflow is
            then left half-changed and must be dropped, as in Camunda, where the
            completion is rolled back.
        """
        task = self._user_task(task_id)
        old = dict(task.data)
        task.data.update(data)
        try:
            task.run()
            dataflow.take_written(task)  # the completion's own history shows the form's values
            hooks.publish(task.workflow, hooks.changed_values(old, task.data), source=task)
            conditional.step_done(task, old)
        except Exception as exc:
            if task.state == TaskState.ERROR:
                raise TaskHookFailed(_failure_message(exc)) from exc
            # The task completed; what failed after it (a multi-instance completion
            # condition, the next element) is an incident for the next advance.
            failing = getattr(exc, "task", None)
            if failing is not None and not failing.has_state(TaskState.FINISHED_MASK):
                failing._set_state(TaskState.ERROR)
            self._failures.append(exc)

    def fire_timers(self) -> None:
        self._wf.refresh_timers()

    def fire_start_timers(self) -> None:
        """Let a waiting timer start event go now (the scheduler decided it is due)."""
        now = self._wf.script_engine.now().isoformat()
        for task in list(self._waiting_events()):
            definition = task.task_spec.event_definition
            if not (isinstance(task.task_spec, StartEvent)
                    and isinstance(definition, TimerEventDefinition)):
                continue
            if isinstance(definition, CycleTimerEventDefinition):
                # One instance per firing: this instance's cycle runs exactly once.
                task._set_internal_data(event_value={"cycles": 1, "next": now, "duration": 0})
            else:
                task._set_internal_data(event_fired=True)
        self._wf.refresh_timers()  # a cycle starts its branch
        self._wf.refresh_timers()  # and, with no cycles left, completes

    @staticmethod
    def timer_start_events(stored_spec: Mapping[str, Any]) -> list[tuple[str, str, str]]:
        """(element id, timer kind, expression) of each timer start event of a stored spec."""
        return [(e.element_id, e.kind, e.expression or "") for e in start_events(stored_spec)
                if e.kind in TIMER_KINDS]

    def correlate_message(self, name: str, variables: Mapping[str, Any]) -> int:
        """Deliver a message; return how many waiting events caught it."""
        event = BpmnEvent(
            MergingMessageEventDefinition(name),
            payload={"payload": dict(variables), "result_var": None},
        )
        return self._deliver(event, MessageEventDefinition, name)

    def correlate_signal(self, name: str, variables: Mapping[str, Any]) -> int:
        """Deliver a signal to every element of this instance that waits for it."""
        event = BpmnEvent(MappedSignalEventDefinition(name), payload=dict(variables))
        return self._deliver(event, SignalEventDefinition, name)

    def _deliver(self, event: BpmnEvent, kind: type, name: str) -> int:
        """Give ``event`` to each waiting element whose definition is ``kind`` named ``name``.

        Not SpiffWorkflow's catch, which would throw an event nobody here
        catches again as this instance's own. An event subprocess whose start
        event catches it begins first: SpiffWorkflow creates it, and its start
        event waits, to catch the event below.
        """
        self._wf.event_manager.update_collaboration(event)
        caught = 0
        for task in list(self._wf.event_manager.tasks.values()):
            if any(isinstance(d, kind) and getattr(d, "name", None) == name
                   for _, d in _event_definitions(task)):
                task.task_spec.catch(task, event)
                task.task_spec._update(task)
                caught += 1
        return caught

    def take_thrown(self) -> list[ThrownEvent]:
        """The messages and signals thrown since the last look, for other instances.

        SpiffWorkflow delivers an event inside its instance and hands back what
        nothing there caught; they are taken out here, so each leaves once.
        """
        kinds = (MessageEventDefinition, SignalEventDefinition)
        pending = [e for e in self._wf.bpmn_events if isinstance(e.event_definition, kinds)]
        if not pending:
            return []
        self._wf.bpmn_events = [e for e in self._wf.bpmn_events if e not in pending]
        thrown = []
        for event in pending:
            definition = event.event_definition
            is_message = isinstance(definition, MessageEventDefinition)
            payload: Any = event.payload if isinstance(event.payload, dict) else {}
            if is_message and "result_var" in payload:
                payload = payload.get("payload")
            thrower = self._thrower(definition)
            thrown.append(ThrownEvent(
                kind="message" if is_message else "signal", name=str(definition.name),
                variables=dict(payload) if isinstance(payload, dict) else {},
                element_id=_element_id(thrower) if thrower is not None else None,
                task_id=str(thrower.id) if thrower is not None else None))
        return thrown

    def _thrower(self, definition: Any, attribute: str = "name") -> Any:
        """The task that threw ``definition`` last: a completed event (or task) with a
        definition of its type and the same ``attribute`` (an error's ``code``)."""
        value, kind = getattr(definition, attribute, None), type(definition)

        def threw(task: Any) -> bool:
            own = getattr(task.task_spec, "event_definition", None)
            return type(own) is kind and getattr(own, attribute, None) == value

        throwers = [t for t in self._tasks() if t.state == TaskState.COMPLETED and threw(t)]
        return max(throwers, key=lambda t: t.last_state_change, default=None)

    def retry(self, task_id: str, variables: Mapping[str, Any]) -> None:
        """Put a failed task back to READY, with corrected data, for the next advance."""
        task = self._wf.get_task_from_id(UUID(task_id))
        if task is None or task.state != TaskState.ERROR:
            raise LookupError(f"no failed task {task_id}")
        task.data.update(variables)
        if conditional.failed(task):
            conditional.retry(task)
        elif hooks.failed_at_start(task):
            hooks.restart(task)
        elif task.internal_data.pop(FAILED_ON_ARRIVAL, False):
            # It failed as the flow reached it, before it could run (a loop's
            # collection, a timer's expression): let the flow reach it again.
            task._set_state(TaskState.FUTURE)
            try:
                task.task_spec._update(task)
            except Exception as exc:
                task._set_state(TaskState.ERROR)
                self._failures.append(exc)
        else:
            task._set_state(TaskState.READY)

    def set_variables(self, variables: Mapping[str, Any], deletions: list[str]) -> None:
        """Set and delete process variables from outside (Camunda's ``setVariables``);
        the conditional events that see the change are evaluated."""
        conditional.set_variables(self._wf, variables, deletions)

    def cancel(self) -> None:
        self._wf.cancel()

    # -- looking at the state --------------------------------------------------

    @property
    def completed(self) -> bool:
        return bool(self._wf.is_completed())

    def variables(self) -> dict[str, Any]:
        """Return the process variables as the most recent step left them.

        The task that changed state last (in the process or any subprocess) holds
        the newest copy of the data; predicted future tasks hold none yet, and
        neither does a join that waits (it takes its data when it fires): a
        branch that reached the end while another runs made one of those.
        """
        holding = (TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
                   | TaskState.COMPLETED)
        # A join that waits for other branches holds no variables yet.
        definite = [t for t in self._tasks() if t.state & holding
                    and not (t.state == TaskState.WAITING and isinstance(t.task_spec, Join))]
        latest = max(definite, key=lambda t: t.last_state_change, default=self._wf.task_tree)
        variables = dataflow.without_data_objects(self._wf.data)
        variables.update(latest.data)
        variables.update(dataflow.visible_data_objects(self._wf))
        return variables

    def _tasks(self) -> Iterator[Any]:
        """Every task of the workflow and its subprocesses.

        Scanning the task dicts is several times cheaper than SpiffWorkflow's tree
        iterator, and the runtime asks for ready tasks on every command.
        """
        yield from self._wf.tasks.values()
        for subprocess in self._wf.subprocesses.values():
            yield from subprocess.tasks.values()

    def _ready_user_tasks(self) -> list[Any]:
        return [t for t in self._tasks()
                if t.state == TaskState.READY and isinstance(t.task_spec, UserTask)]

    def ready_user_task_ids(self) -> set[str]:
        return {str(t.id) for t in self._ready_user_tasks()}

    def ready_user_tasks(self) -> list[UserTaskView]:
        return [self._view(t) for t in self._ready_user_tasks()]

    def task_data(self, task_id: str) -> dict[str, Any]:
        task = self._wf.get_task_from_id(UUID(task_id))
        return dict(task.data) if task is not None else {}

    def waiting_timers(self) -> list[WaitingTimer]:
        timers = []
        for task in self._waiting_events():
            for element, definition in _event_definitions(task):
                if not isinstance(definition, TimerEventDefinition):
                    continue
                value = task.internal_data.get("event_value")
                if isinstance(definition, CycleTimerEventDefinition):
                    if not isinstance(value, dict) or value.get("cycles") == 0:
                        continue
                    value = value["next"]
                if value is None:
                    continue
                timers.append(WaitingTimer(str(task.id), element, _timer_kind(definition),
                                           datetime.fromisoformat(value)))
        return timers

    def waiting_messages(self) -> list[WaitingMessage]:
        waiting = [
            WaitingMessage(str(t.id), element, definition.name)
            for t in self._waiting_events()
            for element, definition in _event_definitions(t)
            if isinstance(definition, MessageEventDefinition)
        ]
        waiting += [
            WaitingMessage(str(t.id), element, definition.name, "signal")
            for t in self._waiting_events()
            for element, definition in _event_definitions(t)
            if isinstance(definition, SignalEventDefinition)
        ]
        if not self._wf.is_completed():
            # The message and signal start events of the process's event subprocesses.
            root = str(self._wf.task_tree.id)
            for name in self._wf.spec.start.trigger_specs:
                spec = self._wf.subprocess_specs.get(name)
                for start in getattr(spec, "bpmn_start_events", []):
                    definition = start.event_definition
                    if isinstance(definition, MessageEventDefinition):
                        waiting.append(WaitingMessage(root, start.bpmn_id, definition.name))
                    elif isinstance(definition, SignalEventDefinition):
                        waiting.append(WaitingMessage(root, start.bpmn_id, definition.name,
                                                      "signal"))
        return waiting

    def failed_task_ids(self) -> list[str]:
        return [str(t.id) for t in self._wf.get_tasks(state=TaskState.ERROR)]

    def active_element_ids(self) -> list[str]:
        mask = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
        return [e for e in (_element_id(t) for t in self._wf.get_tasks(state=mask)) if e]

    def _waiting_events(self) -> Iterator[Any]:
        for task in self._wf.event_manager.tasks.values():
            if isinstance(task.task_spec, CatchingEvent) and task.state == TaskState.WAITING:
                yield task

    def _user_task(self, task_id: str) -> Any:
        try:
            task = self._wf.get_task_from_id(UUID(task_id))
        except (ValueError, KeyError):
            task = None
        if task is None or not isinstance(task.task_spec, UserTask):
            raise LookupError(f"no user task {task_id} in this instance")
        if task.state != TaskState.READY:
            raise ValueError(f"user task {task_id} is {TaskState.get_name(task.state)}")
        return task

    @staticmethod
    def _view(task: Any) -> UserTaskView:
        spec = task.task_spec
        ext = getattr(spec, "extensions", None) or {}
        camunda = ext.get("camunda", {})
        changes = task.internal_data.get(hooks.TASK_CHANGES)
        title = spec.bpmn_name
        if changes:  # what task listeners set replaces the diagram's attributes
            camunda = {**camunda, **{key: _attribute_text(value) for key, value in changes.items()
                                     if key in _LISTENER_ATTRIBUTES}}
            title = changes.get("name") or title
        return UserTaskView(
            id=str(task.id),
            element_id=_element_id(task) or spec.name,
            title=title,
            lane=spec.lane,
            camunda=camunda,
            properties=ext.get("properties", {}),
            form_fields=ext.get("formFields", []),
            data=task.data,
        )


# The task attributes a task listener may set (engine.scripting.context.TaskObject).
_LISTENER_ATTRIBUTES = ("assignee", "priority", "dueDate", "followUpDate", "candidateGroups",
                        "candidateUsers")


def _attribute_text(value: Any) -> str:
    """A listener's value as the diagram would write the attribute."""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


class TaskHookFailed(Exception):
    """A user task's completion failed in its listeners or output mappings."""


def _failure_message(exc: BaseException) -> str:
    """The exception's message, with SpiffWorkflow's notes ("Did you mean ...?") once."""
    if not isinstance(exc, SpiffWorkflowException):
        return str(exc)
    parts = [p for p in (Exception.__str__(exc).strip(), *(str(n).strip() for n in exc.notes))
             if p]
    return " ".join(p if p.endswith((".", "?", "!", ":")) or p is parts[-1] else p + "."
                    for p in parts)


# An element that failed when the flow reached it, before it became ready.
FAILED_ON_ARRIVAL = "sertiflow_failed_on_arrival"

# Camunda's name for the activity that holds the instances of a multi-instance one.
MULTI_INSTANCE_BODY = "#multiInstanceBody"

TIMER_KINDS = ("ClockTimeDate", "ClockDuration", "ClockCycle")


@dataclass(frozen=True)
class StartEventInfo:
    """A top-level start event of a stored spec, read without building the spec."""

    element_id: str
    kind: str | None  # the event definition's type name; None for a plain start
    name: str | None  # a message's name
    expression: str | None  # a timer's expression
    initiator: str | None  # camunda:initiator


def start_events(stored_spec: Mapping[str, Any]) -> list[StartEventInfo]:
    """The start events of the process in a stored spec (as DefinitionSpecs stores it)."""
    spec = stored_spec.get("spec", {})
    found = []
    for name in spec.get("bpmn_start_events", []):
        task_spec = spec["task_specs"][name]
        definition = task_spec.get("event_definition") or {}
        found.append(StartEventInfo(
            element_id=name, kind=definition.get("typename"), name=definition.get("name"),
            expression=definition.get("expression"),
            initiator=((task_spec.get("extensions") or {}).get("camunda") or {}).get(
                "initiator")))
    return found


def _event_definitions(task: Any) -> list[tuple[str, Any]]:
    """(element id, event definition) of what a waiting event task waits for.

    An event-based gateway waits for the events of the catch events after it:
    SpiffWorkflow moves their definitions into one multiple definition on the
    gateway, in the order of its outgoing flows, so each is reported with the id of
    the catch event it came from.
    """
    spec = task.task_spec
    definition = spec.event_definition
    if isinstance(spec, EventBasedGateway):
        return [(getattr(output, "bpmn_id", None) or output.name, inner)
                for output, inner in zip(spec.outputs, definition.event_definitions,
                                         strict=False)]
    element = _element_id(task) or spec.name
    if isinstance(definition, MultipleEventDefinition):  # e.g. a start event with several
        return [(element, inner) for inner in definition.event_definitions]
    return [(element, definition)]


def _element_id(task: Any) -> str | None:
    bpmn_id: str | None = getattr(task.task_spec, "bpmn_id", None)
    return bpmn_id


def _timer_kind(definition: TimerEventDefinition) -> str:
    names: dict[str, str] = {
        "ClockTimeDate": "date",
        "ClockDuration": "duration",
        "ClockCycle": "cycle",
    }
    return names.get(type(definition).__name__, "timer")


