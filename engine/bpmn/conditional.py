"""Conditional events as Camunda 7 runs them.

A conditional event waits until its condition, a JUEL ``${...}`` or Python
expression on the process variables, is true. Camunda evaluates it when its
scope begins (the token reaches an intermediate event, the activity of a
boundary event starts, the process or sub-process of an event sub-process
starts) and again after every step that changes a variable the event can
see; ``camunda:variableName`` limits that to one variable and
``camunda:variableEvents`` to some kinds of change (``create``, ``update``,
``delete``). A condition that names a variable nobody has set is false, as
Camunda's ``tryEvaluate`` has it.

SpiffWorkflow 3.2 evaluates a conditional event only when its task is updated
(``ConditionalEventDefinition.has_fired``), which happens when the token
arrives and never again: a boundary event or an event sub-process whose
condition became true later was never taken. This module does the rest:

- :class:`CamundaConditionalEventDefinition` evaluates once on arrival and
  remembers that it did (``sertiflow_conditional_armed``, the moment it began
  to listen, in the task's internal data); a condition that raises fails the
  event's task, and the engine opens an incident on it;
- :func:`step_done`, called after every step (``ProcessRun.advance``, a user
  task's completion, ``ProcessRun.set_variables``), evaluates the event
  sub-process starts of a scope that begins, and after a change the waiting
  events and the event sub-process starts that see it, top-down (a scope's
  event sub-processes before the events inside it);
- an interrupting event ends what it interrupts at once (the engine's loop,
  :func:`run_engine_steps`, runs no task that was ended meanwhile), not after
  the rest of the step;
- a non-interrupting boundary event stays attached: each firing leaves a copy
  of it waiting (``engine.bpmn.specs.RearmedBoundaryEvent``), which does not
  evaluate on arrival but on the next change, so it fires again then (Camunda:
  each change that satisfies the condition triggers it again); a
  non-interrupting event sub-process starts again in the same way. One that
  fires 50 times in one command (its own path changes what it reads) is an
  incident rather than a loop without end.

What counts as one change: one step (a script, a user task's completion with
its form, a message's arrival, one ``set_variables`` call), whatever number of
variables it sets; Camunda evaluates per variable. A join that merges the
branches sets nothing.

The upstream counterpart would be a ``ConditionalEventDefinition`` that takes
part in SpiffWorkflow's ``refresh_waiting_tasks`` whenever task data changes,
a ``StartEvent`` trigger for conditional event sub-processes (``BpmnStartTask.
trigger_wf`` only reacts to caught events), and ``do_engine_steps`` skipping
tasks cancelled during the loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from copy import deepcopy
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    TimerConditionalEventDefinitionConverter,
)
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit, BpmnStartTask, StartEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

from engine.scripting.expressions import ExpressionError, compile_expression

from ..errors import Problem
from ..scripting import ScriptError
from .hooks.event_subprocesses import INTERRUPTED, cancel_scope, is_interrupting
from .hooks.sharing import SEEN, current_variables, instance_locals, publish
from .hooks.start_end import context_info
from .script_engine import loop_variables, uses_context

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"

VARIABLE_EVENTS = ("create", "update", "delete")
LANGUAGES = ("", "python", "juel", "${}")

# Keys of a task's internal data.
ARMED = "sertiflow_conditional_armed"  # when the event began to listen (time.time())
FAILED = "sertiflow_conditional_failed"  # the condition raised; the message
TRIGGERED = "sertiflow_conditional_triggered"  # an event sub-process its condition started
# What other steps changed since the event began to wait: {"set": {...}, "deleted": [...]}.
KNOWN = "sertiflow_conditional_known"

Changes = dict[str, tuple[str, Any]]  # variable -> (create | update | delete, new value)
_GONE = object()


# -- the event definition ----------------------------------------------------------------

class CamundaConditionalEventDefinition(ConditionalEventDefinition):
    """A conditional event with Camunda's ``variableName`` and ``variableEvents`` filters."""

    def __init__(self, expression: str, variable_name: str | None = None,
                 variable_events: list[str] | tuple[str, ...] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(expression, **kwargs)
        self.variable_name = variable_name or None
        self.variable_events = list(variable_events or ())

    def listens_to(self, changes: Mapping[str, tuple[str, Any]]) -> bool:
        """Whether any of ``changes`` is one this event re-evaluates its condition on."""
        return any((self.variable_name is None or name == self.variable_name)
                   and (not self.variable_events or kind in self.variable_events)
                   for name, (kind, _) in changes.items())

    def has_fired(self, my_task: Any) -> bool:
        """Fired already, or (the first time only) the condition holds on arrival."""
        internal = my_task.internal_data
        if ARMED in internal:
            _refresh(my_task)
        if internal.get("event_fired"):
            return True
        if ARMED in internal or FAILED in internal:
            return False
        internal[ARMED] = time.time()
        if _rearmed(my_task):
            return False  # a copy left by a firing: it waits for the next change
        try:
            holds = task_condition_holds(my_task, self)
        except ConditionFailed as exc:
            internal[FAILED] = exc.message  # update_task, next, fails the task
            return False
        if holds:
            internal["event_fired"] = True
            spec = my_task.task_spec
            if isinstance(spec, BoundaryEvent) and not spec.cancel_activity:
                _too_often(my_task, spec.bpmn_id)  # counted; a later firing may stop it
            elif isinstance(spec, BoundaryEvent):
                # Its activity is being started in the same breath; end it once the
                # step is over (step_done), before the activity does anything.
                _pending(my_task.workflow.top_workflow).append(my_task)
        return holds

    def update_task(self, my_task: Any) -> None:
        # SpiffWorkflow calls this after it set a task that has not fired WAITING.
        message = my_task.internal_data.get(FAILED)
        if message is not None and my_task.state == TaskState.WAITING:
            _fail(my_task, message)

    def __eq__(self, other: object) -> bool:
        # SpiffWorkflow compares event definitions by class; an event-based gateway
        # with two conditional events must tell them apart.
        return (isinstance(other, CamundaConditionalEventDefinition)
                and (other.expression, other.variable_name, other.variable_events)
                == (self.expression, self.variable_name, self.variable_events))

    __hash__ = None  # type: ignore[assignment]


class ConditionalEventConverter(TimerConditionalEventDefinitionConverter):
    def to_dict(self, event_definition: Any) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(event_definition)
        dct["variable_name"] = event_definition.variable_name
        dct["variable_events"] = list(event_definition.variable_events)
        return dct


CONVERTERS = {CamundaConditionalEventDefinition: ConditionalEventConverter}


def upgrade_plain_definitions(registry: Any) -> None:
    """Read SpiffWorkflow's plain conditional definitions (specs stored before this
    module) as :class:`CamundaConditionalEventDefinition`, without filters."""
    typename = "ConditionalEventDefinition"
    plain = registry.convert_from_dict.get(typename)
    if plain is None:
        return

    def restore(dct: dict[str, Any], **kwargs: Any) -> Any:
        old = plain(dct, **kwargs)
        return CamundaConditionalEventDefinition(old.expression, name=old.name,
                                                 description=old.description)

    registry.convert_from_dict[typename] = restore


# -- parsing ----------------------------------------------------------------------------

class ConditionalEvents:
    """Event-parser mixin: conditional definitions with their Camunda filters."""

    node: Any
    filename: str | None

    def parse_conditional_event(self, event: etree._Element) -> Any:
        condition = event.find(f"{{{BPMN_NS}}}condition")
        expression = (condition.text or "").strip() if condition is not None else ""
        if not expression:
            raise ValidationException(NO_CONDITION, node=self.node, file_name=self.filename)
        return CamundaConditionalEventDefinition(
            expression, variable_name=(event.get(f"{{{CAMUNDA_NS}}}variableName") or
                                       "").strip() or None,
            variable_events=variable_events(event.get(f"{{{CAMUNDA_NS}}}variableEvents")),
            description="Conditional")


def variable_events(text: str | None) -> list[str]:
    """``"create, update"`` as a list; empty for any change."""
    return [part.strip().lower() for part in (text or "").split(",") if part.strip()]


# -- checking a deployment -----------------------------------------------------------------

NO_CONDITION = ("the conditional event has no condition: write one in the Modeler's "
                "Condition field, for example ${approved} (JUEL) or approved (Python)")


def problems(file_name: str, root: etree._Element, process: etree._Element
             ) -> Iterator[Problem]:
    """What sertiflow refuses in the conditional events of ``process``."""
    shared = {el.get("id"): el for el in root
              if el.tag == f"{{{BPMN_NS}}}conditionalEventDefinition"}
    found = [(d, _owner(d)) for d in process.iter(f"{{{BPMN_NS}}}conditionalEventDefinition")]
    for ref in process.iter(f"{{{BPMN_NS}}}eventDefinitionRef"):
        definition = shared.get((ref.text or "").strip())
        if definition is not None:
            found.append((definition, _owner(ref)))
    for definition, owner in found:
        yield from _definition_problems(file_name, definition, owner)
    yield from _start_event_problems(file_name, process)


def _definition_problems(file_name: str, definition: etree._Element,
                         owner: etree._Element | None) -> Iterator[Problem]:
    element = owner.get("id") if owner is not None else None
    condition = definition.find(f"{{{BPMN_NS}}}condition")
    text = (condition.text or "").strip() if condition is not None else ""
    events = variable_events(definition.get(f"{{{CAMUNDA_NS}}}variableEvents"))
    wrong = [e for e in events if e not in VARIABLE_EVENTS]
    if wrong:
        yield Problem(file_name, f"camunda:variableEvents names {', '.join(map(repr, wrong))}: "
                      "use create, update and/or delete, separated by commas",
                      element, definition.sourceline)
    if condition is None or not text:
        yield Problem(file_name, NO_CONDITION, element, definition.sourceline)
        return
    language = (condition.get("language") or "").strip().lower()
    if language not in LANGUAGES or condition.get(f"{{{CAMUNDA_NS}}}resource"):
        yield Problem(file_name, f"condition language '{condition.get('language')}' is not "
                      "supported: write the condition as a JUEL ${...} or Python expression",
                      element, condition.sourceline)
        return
    try:
        compile_expression(text)
    except ExpressionError as exc:
        yield Problem(file_name, f"the condition does not compile: {exc}", element,
                      condition.sourceline)


def _start_event_problems(file_name: str, process: etree._Element) -> Iterator[Problem]:
    starts = process.findall(f"{{{BPMN_NS}}}startEvent")
    conditional = [s for s in starts
                   if s.find(f"{{{BPMN_NS}}}conditionalEventDefinition") is not None]
    if conditional and len(starts) > 1:
        for start in conditional:
            yield Problem(file_name, "a process with a conditional start event may have no "
                          "other start event here: POST /engine-rest/condition starts it at "
                          "its conditional start event, and a plain start would take both; "
                          "draw a second process for the other way in",
                          start.get("id"), start.sourceline)


def _owner(el: etree._Element) -> etree._Element | None:
    node = el.getparent()
    while node is not None and not node.get("id"):
        node = node.getparent()
    return node


# -- evaluating ------------------------------------------------------------------------------

class ConditionFailed(Exception):
    """A condition raised (anything but a variable that does not exist)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def condition_holds(sandbox: Any, expression: str, data: Mapping[str, Any],
                    context: Mapping[str, Any], extra: Mapping[str, Any] | None = None
                    ) -> bool:
    """Evaluate ``expression`` on ``data`` in the sandbox; an unknown variable is false.

    :raises ConditionFailed: with a message naming the expression.
    """
    try:
        code = compile_expression(expression)
        if uses_context(code):
            value, _ = sandbox.evaluate_in_context(code, dict(data), context)
        else:
            value = sandbox.evaluate(code, dict(data), extra=extra)
    except ExpressionError as exc:
        raise ConditionFailed(f"the condition cannot be evaluated: {exc}") from exc
    except ScriptError as exc:
        if isinstance(exc.__cause__, NameError):
            return False
        raise ConditionFailed(f"the condition {expression.strip()!r} cannot be evaluated: "
                              f"{exc}") from exc
    return bool(value)


def task_condition_holds(task: Any, definition: Any) -> bool:
    return condition_holds(task.workflow.script_engine.sandbox, definition.expression, task.data,
                           context_info(task), loop_variables(task) or None)


def _fail(task: Any, message: str) -> None:
    """Fail a conditional event's task; the engine opens an incident on its element."""
    task.internal_data[FAILED] = message
    task.workflow.top_workflow.event_manager.remove_task(task)
    task._set_state(TaskState.ERROR)
    _report(task, message)


class ConditionError(WorkflowTaskException):
    """A condition failed; reported to the engine as an incident on ``element_id``
    (the task's element when None)."""

    element_id: str | None = None


def _report(task: Any, message: str, element_id: str | None = None) -> None:
    error = ConditionError(message, task=task)
    error.element_id = element_id
    failures = getattr(task.workflow.script_engine, "hook_failures", None)
    if failures is None:
        raise error
    failures.append(error)


def failed(task: Any) -> bool:
    """Whether ``task`` is a conditional event whose condition raised."""
    return task.state == TaskState.ERROR and FAILED in task.internal_data


def retry(task: Any) -> None:
    """An incident's retry: listen again and evaluate the condition now."""
    task.internal_data.pop(FAILED, None)
    task.internal_data[ARMED] = time.time()
    task._set_state(TaskState.WAITING)
    task.workflow.top_workflow.event_manager.add_task(task)
    _evaluate_waiting(task, None)


# -- firing ----------------------------------------------------------------------------------

# How often one non-interrupting event may fire in one command: beyond, the path after
# it changes what its own condition reads, and it would fire for ever.
MOST_FIRINGS = 50


def _too_often(task: Any, element: str | None) -> bool:
    """Count a firing of a non-interrupting event in this command; True past the limit.

    The count lives on the command's script engine (a new one for each command).
    """
    engine = task.workflow.script_engine
    counts: dict[str | None, int] = engine.__dict__.setdefault("_sertiflow_firings", {})
    counts[element] = counts.get(element, 0) + 1
    return counts[element] > MOST_FIRINGS


def _runaway(element: str | None) -> str:
    return (f"the non-interrupting conditional event fired {MOST_FIRINGS} times in one step: "
            "what happens after it changes what its own condition reads; restrict it to "
            f"one variable with camunda:variableName (element '{element}')")


def _fire(task: Any) -> None:
    """Let a waiting conditional event go (a copy stays when it is non-interrupting)."""
    spec = task.task_spec
    if isinstance(spec, BoundaryEvent) and not spec.cancel_activity and _too_often(
            task, spec.bpmn_id):
        _fail(task, _runaway(spec.bpmn_id))
        return
    task.internal_data["event_fired"] = True
    # Not task._update(): it would first copy the parent's (older) variables over
    # the ones this task was given since it began to wait. A non-interrupting
    # boundary event leaves a waiting copy of itself as it becomes ready
    # (engine.bpmn.specs.RearmedBoundaryEvent).
    task._ready()
    if isinstance(task.task_spec, BoundaryEvent) and task.task_spec.cancel_activity:
        _cancel_attached(task)


def _rearmed(task: Any) -> bool:
    """Whether a boundary event task is the copy a firing of its own left waiting."""
    split = task.parent
    return (isinstance(task.task_spec, BoundaryEvent) and split is not None
            and isinstance(split.task_spec, BoundaryEventSplit)
            and any(t is not task and t.task_spec is task.task_spec for t in split.children))


def _activity(boundary: Any) -> Any:
    """The activity a boundary event task is attached to, when it has not finished."""
    split = boundary.parent
    if split is None or not isinstance(split.task_spec, BoundaryEventSplit):
        return None
    return next((t for t in split.children if not isinstance(t.task_spec, BoundaryEvent)
                 and not t.has_state(TaskState.FINISHED_MASK)), None)


def _cancel_attached(boundary: Any) -> None:
    """An interrupting boundary event ends its activity at once."""
    activity = _activity(boundary)
    if activity is not None:
        activity.cancel()


def _pending(top: Any) -> list[Any]:
    """Boundary events that fired on arrival, whose activity is to be ended (this command
    only: kept on the live workflow, not stored)."""
    found: list[Any] = top.__dict__.setdefault("_sertiflow_conditional_pending", [])
    return found


def _catch(task: Any, definition: Any) -> None:
    """An event-based gateway's conditional event fires: its branch is taken."""
    task.task_spec.catch(task, BpmnEvent(definition))
    task._ready()


# -- after each step ---------------------------------------------------------------------------

def uses_conditions(workflow: Any) -> bool:
    """Whether the process or anything it runs has a conditional event (cached on the spec)."""
    top = workflow.top_workflow
    spec = top.spec
    cached = getattr(spec, "_sertiflow_conditional", None)
    if cached is None:
        cached = any(_conditional_definitions(task_spec)
                     for process in (spec, *top.subprocess_specs.values())
                     for task_spec in process.task_specs.values())
        spec._sertiflow_conditional = cached
    return bool(cached)


def step_done(task: Any, old: Mapping[str, Any]) -> None:
    """After ``task`` ran: a scope that begins, or variables that changed.

    ``old`` is the task's data before it ran; the changes are already given to
    the other open tasks (``hooks.publish``).
    """
    workflow = task.workflow
    if not uses_conditions(workflow):
        return
    top = workflow.top_workflow
    pending = _pending(top)
    while pending:
        boundary = pending.pop()
        if boundary.state == TaskState.READY:
            _cancel_attached(boundary)
    if _begins_scope(task):
        _start_event_subprocesses(workflow, None)
    _arm_gateways(top)
    if isinstance(task.task_spec, Join):
        return  # it merges what the branches set; they said so when they set it
    changes = diff(old, task.data)
    if changes:
        notify(top, changes, since=task.last_state_change, origin=workflow)


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> Changes:
    changes: Changes = {}
    for name, value in new.items():
        if name not in old:
            changes[name] = ("create", value)
        elif old[name] != value:
            changes[name] = ("update", value)
    for name in old:
        if name not in new:
            changes[name] = ("delete", _GONE)
    return changes


def notify(top: Any, changes: Changes, *, since: float, origin: Any = None) -> None:
    """Evaluate what listens to ``changes``: event sub-process starts, then waiting events.

    ``origin`` is the (sub-)process whose step made the changes (None: the process).
    They are seen in every scope that shares its variables, as in Camunda: the
    process and its embedded and event sub-processes, not a called process (or
    what an origin inside a called process does not share). Only events that
    began to listen before ``since`` (the end of the step that made the changes)
    are evaluated: one that began during the step saw the new values on arrival.
    """
    sharing = _share_root(top if origin is None else origin)
    for scope in _scopes(top):
        if _share_root(scope) is sharing and scope.task_tree.last_state_change < since:
            _start_event_subprocesses(scope, changes)
    for task in list(top.event_manager.tasks.values()):
        if (task.state != TaskState.WAITING or not _conditional_definitions(task.task_spec)
                or task.internal_data.get(ARMED, 0.0) >= since
                or _share_root(task.workflow) is not sharing):
            continue
        _evaluate_waiting(task, changes)


def _share_root(workflow: Any) -> Any:
    """The outermost (sub-)process whose variables ``workflow`` shares."""
    top = workflow.top_workflow
    while workflow is not top:
        parent = top.get_task_from_id(workflow.parent_task_id)
        if parent is None or (getattr(parent.task_spec, "extensions", None) or {}).get("calls"):
            break
        workflow = parent.workflow
    return workflow


def _evaluate_waiting(task: Any, changes: Changes | None) -> None:
    """Evaluate a waiting task's conditional events on ``changes`` (None: whatever the
    task sees now, as on arrival)."""
    if changes:
        _remember(task, changes)
    _refresh(task)
    seen = changes
    for definition in _conditional_definitions(task.task_spec):
        if seen is not None and not definition.listens_to(seen):
            continue
        try:
            holds = task_condition_holds(task, definition)
        except ConditionFailed as exc:
            _fail(task, exc.message)
            return
        if holds:
            if definition is task.task_spec.event_definition:
                _fire(task)
            else:
                _catch(task, definition)
            return


def _remember(task: Any, changes: Changes) -> None:
    """Keep what a waiting event was told, for :func:`_refresh`."""
    known = task.internal_data.setdefault(KNOWN, {"set": {}, "deleted": []})
    for name, (kind, value) in changes.items():
        if kind == "delete":
            known["set"].pop(name, None)
            if name not in known["deleted"]:
                known["deleted"].append(name)
        else:
            known["set"][name] = deepcopy(value)
            if name in known["deleted"]:
                known["deleted"].remove(name)


def _refresh(task: Any) -> None:
    """Give a waiting event back what it was told since it began to wait.

    SpiffWorkflow updates every waiting task after each step and copies its
    parent's variables over its own then: a value another branch set since
    (``hooks.publish``) would go back to the one it had when the event was reached.
    """
    activity = _activity(task) if isinstance(task.task_spec, BoundaryEvent) else None
    if activity is not None:
        # An activity that runs is given every change made beside it (hooks.publish):
        # a boundary event sees the variables as the activity does, and what it was
        # told of changes inside a sub-process besides.
        task.data.update(deepcopy(activity.data))
    known = task.internal_data.get(KNOWN)
    if known:
        task.data.update(deepcopy(known["set"]))
        for name in known["deleted"]:
            task.data.pop(name, None)


def _arm_gateways(top: Any) -> None:
    """Evaluate, once, the conditional events of an event-based gateway that began to wait.

    SpiffWorkflow moves the events after the gateway into one multiple definition,
    whose arrival check knows only timers.
    """
    for task in list(top.event_manager.tasks.values()):
        if (task.state == TaskState.WAITING and ARMED not in task.internal_data
                and isinstance(task.task_spec.event_definition, MultipleEventDefinition)
                and _conditional_definitions(task.task_spec)):
            task.internal_data[ARMED] = time.time()
            _evaluate_waiting(task, None)


def _conditional_definitions(task_spec: Any) -> list[Any]:
    definition = getattr(task_spec, "event_definition", None)
    if isinstance(definition, ConditionalEventDefinition):
        return [definition]
    if isinstance(definition, MultipleEventDefinition):
        return [d for d in definition.event_definitions
                if isinstance(d, ConditionalEventDefinition)]
    return []


# -- event sub-processes ----------------------------------------------------------------------

def _begins_scope(task: Any) -> bool:
    """Whether ``task`` is the first step of its process or sub-process."""
    workflow = task.workflow
    if workflow is workflow.top_workflow:
        return isinstance(task.task_spec, BpmnStartTask)
    return (task.parent is workflow.task_tree
            and isinstance(task.task_spec, StartEvent | StartEventSplit))


def _scopes(top: Any) -> list[Any]:
    """The process and its running sub-processes, outermost first."""
    return [top, *sorted(top.get_active_subprocesses(), key=lambda sub: sub.depth)]


def _triggers(workflow: Any) -> list[tuple[str, Any, Any, bool]]:
    """(spec name, start event spec, definition, interrupting) of each conditional start
    event of the event sub-processes of ``workflow``'s (sub-)process (cached on its spec)."""
    spec = workflow.spec
    cached = getattr(spec, "_sertiflow_conditional_triggers", None)
    if cached is None:
        cached = []
        for name in spec.start.trigger_specs:
            sub_spec = workflow.top_workflow.subprocess_specs.get(name)
            for start in getattr(sub_spec, "bpmn_start_events", None) or []:
                definition = start.event_definition
                if isinstance(definition, ConditionalEventDefinition):
                    interrupting = (getattr(start, "extensions", None) or {}).get(
                        "interrupting", True)
                    cached.append((name, start, definition, bool(interrupting)))
        spec._sertiflow_conditional_triggers = cached
    return list(cached)


def _start_event_subprocesses(scope: Any, changes: Changes | None) -> None:
    """Start the conditional event sub-processes of ``scope`` whose condition holds.

    ``changes`` None: the scope begins, every condition is evaluated.
    """
    triggers = _triggers(scope)
    if not triggers or _interrupted(scope):
        return
    variables = scope_variables(scope, changes)
    seen = changes
    for name, start, definition, interrupting in triggers:
        if seen is not None and not definition.listens_to(seen):
            continue
        context = {**context_info(scope.task_tree), "activityId": start.bpmn_id,
                   "activityName": start.bpmn_name}
        try:
            holds = condition_holds(scope.script_engine.sandbox, definition.expression,
                                    variables, context)
        except ConditionFailed as exc:
            _report(scope.task_tree, exc.message, start.bpmn_id)
            return
        if not holds:
            continue
        if not interrupting and _too_often(scope.task_tree, start.bpmn_id):
            _report(scope.task_tree, _runaway(start.bpmn_id), start.bpmn_id)
            return
        _start_event_subprocess(scope, name, interrupting, variables)
        if interrupting:
            return


def scope_variables(scope: Any, changes: Changes | None = None) -> dict[str, Any]:
    """The variables of a (sub-)process as its latest step left them, with ``changes``.

    A waiting task does not count: SpiffWorkflow copies its parent's (older)
    variables over its own after each step.
    """
    holding = TaskState.READY | TaskState.STARTED | TaskState.ERROR | TaskState.COMPLETED
    latest = max((t for t in scope.tasks.values() if t.state & holding and t.data),
                 key=lambda t: t.last_state_change, default=scope.task_tree)
    variables = {**scope.data, **latest.data}
    for name, (kind, value) in (changes or {}).items():
        if kind == "delete":
            variables.pop(name, None)
        else:
            variables[name] = value
    return variables


def _start_event_subprocess(scope: Any, name: str, interrupting: bool,
                            variables: Mapping[str, Any]) -> None:
    """Start event sub-process ``name`` in ``scope`` with ``variables``, its start event
    fired.

    As SpiffWorkflow's ``trigger_wf``, without connecting the shared spec (which
    would start the event sub-process with every later instance of the process).
    The scope's end waits for it: it gets an end join of its own.
    """
    task_spec = scope.spec.task_specs[name]
    if not task_spec.inputs:
        # SpiffWorkflow runs no task whose spec has no input; an input alone does
        # not make the start task start it.
        task_spec._connect_notify(scope.spec.start)
    child = scope.task_tree._add_child(task_spec, TaskState.FUTURE)
    child.triggered = True
    child.internal_data[TRIGGERED] = True
    # Not spec.end: a restored spec keeps there the end join it replaced.
    end_join = scope.spec.task_specs[f"{scope.spec.name}.EndJoin"]
    end = child._add_child(end_join, TaskState.FUTURE)
    end.task_spec._predict(end, mask=TaskState.NOT_FINISHED_MASK)
    child.task_spec._update(child)
    sub = scope.top_workflow.subprocesses.get(child.id)
    if sub is not None:
        # It starts with the variables its condition held on (MappedCallActivity took
        # them from the scope's latest task, which may be a waiting one), and its
        # start event goes whatever it made of them.
        child.internal_data[SEEN] = deepcopy(dict(variables))
        for task in sub.tasks.values():
            if task.has_state(TaskState.PREDICTED_MASK | TaskState.FUTURE):
                continue  # inherits when it is reached (merging lists into its own)
            task.data.update(deepcopy(dict(variables)))
            if isinstance(task.task_spec, StartEvent) and task.state == TaskState.WAITING:
                _fire(task)
    if interrupting:
        child.internal_data[INTERRUPTED] = True
        cancel_scope(child)


def _interrupted(scope: Any) -> bool:
    """Whether an interrupting event sub-process took ``scope`` over."""
    for task in scope.task_tree.children:
        extensions = getattr(task.task_spec, "extensions", None) or {}
        if (extensions.get("eventSubprocess") and task.internal_data.get(INTERRUPTED)
                and is_interrupting(scope.top_workflow, task.task_spec)):
            return True
    return False


# -- variables set from outside ---------------------------------------------------------------

def set_variables(top: Any, values: Mapping[str, Any], deletions: list[str]) -> None:
    """Set (and delete) process variables, as Camunda's ``setVariables`` on the instance.

    Every open task of the process and of the sub-processes that share its
    variables (embedded and event sub-processes, not called processes) gets them;
    then the conditional events that see the change are evaluated.
    """
    before = current_variables(top)
    now = time.time()
    for scope in _shared_scopes(top):
        publish(scope, dict(values))
        if deletions:
            for task in scope.tasks.values():
                local = instance_locals(task)
                if task.state & _OPEN and local is not None:
                    for name in deletions:
                        if name not in local:
                            task.data.pop(name, None)
                    task.last_state_change = now
    changes: Changes = {name: ("update" if name in before else "create", value)
                        for name, value in values.items()
                        if name not in before or before[name] != value}
    changes.update({name: ("delete", _GONE) for name in deletions
                    if name in before and name not in values})
    if changes and uses_conditions(top):
        notify(top, changes, since=time.time())


_OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


def _shared_scopes(top: Any) -> Iterator[Any]:
    yield top
    for sub in top.subprocesses.values():
        if sub.completed:
            continue
        if all(not (getattr(t.task_spec, "extensions", None) or {}).get("calls")
               for t in _parent_tasks(top, sub)):
            yield sub


def _parent_tasks(top: Any, sub: Any) -> Iterator[Any]:
    while sub is not top and sub is not None:
        task = top.get_task_from_id(sub.parent_task_id)
        yield task
        sub = task.workflow


# -- the engine's loop ---------------------------------------------------------------------------

Callback = Callable[[Any], None]


def run_engine_steps(workflow: Any, will_complete: Callback, did_complete: Callback) -> None:
    """Run every ready engine task, sub-processes first, until none is left.

    What SpiffWorkflow's ``do_engine_steps`` does, except that a task that was
    ready when a round began and has been ended since (an interrupting event
    fired meanwhile) is not run.
    """
    while _one_round(workflow, will_complete, did_complete):
        pass
    workflow.refresh_timers()


def _one_round(workflow: Any, will_complete: Callback, did_complete: Callback) -> bool:
    active = sorted(workflow.get_active_subprocesses(), key=lambda sub: sub.depth,
                    reverse=True)
    for sub in active:
        while _run_ready(sub, will_complete, did_complete):
            pass
        if sub.parent_task_id is not None:
            parent = workflow.get_task_from_id(sub.parent_task_id)
            parent.task_spec._update(parent)
    ran = _run_ready(workflow, will_complete, did_complete)
    return ran or len(workflow.get_active_subprocesses()) > len(active)


def _run_ready(workflow: Any, will_complete: Callback, did_complete: Callback) -> bool:
    ran = False
    for task in workflow.get_tasks(state=TaskState.READY):
        if task.state != TaskState.READY or task.task_spec.manual:
            continue
        will_complete(task)
        task.run()
        did_complete(task)
        ran = True
    return ran


# -- start events of the process (POST /condition) ------------------------------------------------

def start_conditions(stored_spec: Mapping[str, Any]) -> list[tuple[str, str, str | None]]:
    """(element id, condition, variable name) of each conditional start event of a
    stored process spec (its own, not its event sub-processes')."""
    spec = stored_spec.get("spec", {})
    found = []
    for name in spec.get("bpmn_start_events", []):
        definition = (spec["task_specs"][name].get("event_definition") or {})
        if definition.get("typename") in ("CamundaConditionalEventDefinition",
                                          "ConditionalEventDefinition"):
            found.append((name, str(definition.get("expression") or ""),
                          definition.get("variable_name")))
    return found
