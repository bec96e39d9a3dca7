"""Compensation and transactions (BPMN 2.0.2 §10.6 and §13.5.7, as Camunda 7 runs them).

SpiffWorkflow 3.2 has no compensation. sertiflow adds it here:

**The model.** An activity with a compensation boundary event is compensable;
the activity that undoes it (its *handler*, ``isForCompensation="true"``) is
linked to the boundary event by an association and is not part of any
sequence flow. A sub-process may instead hold a *compensation event
sub-process* (an event sub-process whose start event is a compensation
event): it is what runs when the sub-process is compensated.

**Parsing.** :class:`CompensationProcessParser` (the parser's process parser)
leaves compensation boundary events out of SpiffWorkflow's boundary-event
structure (they catch nothing while the activity runs) and, once a
(sub-)process is parsed, builds each handler as a small process spec of its
own (``<handler id>.Compensation``: start, the handler, end, parsed in the
handler's own container) and names it in the compensable activity's spec
``extensions`` (``compensationHandler``; for a loop, on the spec of one
iteration). :meth:`SertiflowParser.get_subprocess_specs` adds those specs to
the definition. Compensation throw and end events and cancel end events get
the spec classes below (:class:`CompensationEvents`).

**Running.** A compensation throw or end event, when it runs, plans what to
compensate in its scope (the process or sub-process it is in): every
completed activity with a handler, newest completion first, each completion
once (so a loop's activity once per iteration), only ``activityRef``'s when
the event names one; a completed embedded sub-process without a handler of
its own stands for the activities inside it, recursively. Activities not
completed yet, or compensated by an earlier throw, are left out. It then runs
the handlers one after the other, each as a subworkflow of the throwing task
(the throw stays STARTED, as a sub-process does, so the instance can wait at
a user-task handler and be stored and restored there), and completes when
the last one has ended (Camunda's ``waitForCompletion``). A cancel end event
in a transaction first interrupts the rest of the transaction, compensates
its completed activities in the same way, and then throws the cancel event
that the transaction's cancel boundary event catches.

**State.** Everything lives in the throwing task's ``internal_data``
(``sertiflow_compensation``: the planned targets, the current one, those
done) and in its handler subworkflow, which the state serializer stores
under the throwing task (see :mod:`engine.bpmn.serializer`). The order of
completion is each completed task's ``last_state_change``, which SpiffWorkflow
sets once when the task completes and keeps with the task.

**Checking.** :func:`compensation_problems` refuses, by element and line,
what the engine would otherwise run wrongly or not at all.

**Upstream.** SpiffWorkflow (3.2 and before) has no compensation: it reads a
compensation throw or end event as a plain event and cannot parse a
compensation boundary event. No upstream change corresponds to the classes
here; they can give way if SpiffWorkflow gains compensation.
"""

from __future__ import annotations

from collections.abc import Iterator
from copy import deepcopy
from typing import Any
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.ProcessParser import ProcessParser
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.defaults import EndEvent, IntermediateThrowEvent
from SpiffWorkflow.bpmn.specs.event_definitions.simple import CancelEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent as EndEventMixin
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.util.task import TaskState

from ..errors import Problem
from .hooks.sharing import publish
from .script_engine import loop_variables

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

# Keys of a task spec's extensions.
HANDLER = "compensationHandler"  # on a compensable activity: its handler's spec name
ACTIVITY_REF = "compensateActivity"  # on a compensation throw/end event: activityRef or ""
EVENT_SUBPROCESS = "compensationEventSubprocess"  # on a handler spec's event sub-process
# Key of the throwing task's internal data.
STATE = "sertiflow_compensation"

_OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
ACTIVITY_TAGS = frozenset({
    "task", "userTask", "serviceTask", "sendTask", "receiveTask", "scriptTask", "manualTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
})
SUBPROCESS_TAGS = frozenset({"subProcess", "transaction"})


def _q(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _local(element: Any) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def linked_handler_ids(process: etree._Element) -> set[str]:
    """Ids of the activities associated with a compensation boundary event in ``process``."""
    root = process.getroottree().getroot()
    return {str(h.get("id")) for boundary in process.iter(_q("boundaryEvent"))
            if _definition(boundary) is not None
            for h in linked_handlers(boundary, root)}


def handler_spec_name(handler_id: str) -> str:
    """The name of the process spec that runs the handler ``handler_id``."""
    return f"{handler_id}.Compensation"


def _definition(node: etree._Element, kind: str = "compensateEventDefinition"
                ) -> etree._Element | None:
    return node.find(_q(kind))


def is_compensation_boundary(node: etree._Element) -> bool:
    return _local(node) == "boundaryEvent" and _definition(node) is not None


def compensation_event_subprocess(container: etree._Element) -> etree._Element | None:
    """The compensation event sub-process directly inside ``container``, if it has one.

    Found by its start event (a compensation start event), so that it is found
    both as drawn and after :func:`rewrite` made it a plain sub-process.
    """
    for child in container:
        if _local(child) == "subProcess" and any(
                _local(s) == "startEvent" and _definition(s) is not None for s in child):
            return child
    return None


def linked_handlers(boundary: etree._Element, root: etree._Element) -> list[etree._Element]:
    """The activities an association links to a compensation boundary event (either way)."""
    boundary_id = boundary.get("id")
    by_id = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    found = []
    for association in root.iter(_q("association")):
        if association.get("sourceRef") == boundary_id:
            other = association.get("targetRef")
        elif association.get("targetRef") == boundary_id:
            other = association.get("sourceRef")
        else:
            continue
        element = by_id.get(other)
        if element is not None and _local(element) in ACTIVITY_TAGS:
            found.append(element)
    return found


# -- the rewrite before parsing ------------------------------------------------------------

def needs_rewrite(root: etree._Element) -> bool:
    return any(True for _ in _rewritten(root))


def _rewritten(root: etree._Element) -> Iterator[etree._Element]:
    for event_subprocess in root.iter(_q("subProcess")):
        if event_subprocess.get("triggeredByEvent") == "true" and any(
                _local(s) == "startEvent" and _definition(s) is not None
                for s in event_subprocess):
            yield event_subprocess
    for boundary in root.iter(_q("boundaryEvent")):
        if _definition(boundary, "cancelEventDefinition") is not None and boundary.get(
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
        if _local(element) == "subProcess":
            del element.attrib["triggeredByEvent"]
        else:
            del element.attrib["cancelActivity"]


# -- parsing -------------------------------------------------------------------------------

class CompensationProcessParser(ProcessParser):
    """A process parser that knows compensation boundary events and handlers."""

    def get_boundary_events(self, attached_to_ref: str) -> list[Any]:
        # A compensation boundary event catches nothing while its activity runs.
        events: list[Any] = super().get_boundary_events(attached_to_ref)
        return [e for e in events if _definition(e) is None]

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
        tag = _local(child)
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
        definition = _definition(self.node if node is None else node)
        if definition is not None:
            extensions[ACTIVITY_REF] = definition.get("activityRef") or ""
        return extensions


def _thrower_class(node: etree._Element) -> type | None:
    tag = _local(node)
    if _definition(node) is not None:
        return {"intermediateThrowEvent": CompensationThrowEvent,
                "endEvent": CompensationEndEvent}.get(tag)
    if tag == "endEvent" and _definition(node, "cancelEventDefinition") is not None:
        return CancelEndEvent
    return None


# -- running ---------------------------------------------------------------------------------

class Compensating:
    """What a compensation throw, compensation end or cancel end event does before it
    completes: run the handlers of its scope, one after the other, as its subworkflow.

    The task runs like a sub-process: its first run plans and starts the first
    handler and leaves it STARTED; each handler's end starts the next; after the
    last the task is READY again, and that run completes it (its end listeners
    run then, once).
    """

    extensions: dict[str, Any]

    def _update_hook(self, my_task: Any) -> Any:
        if my_task.internal_data.get(STATE) is not None:
            # Compensating: SpiffWorkflow updates a subworkflow's parent task after each
            # step; that must neither take the parent's data again nor make it READY.
            return False
        return super()._update_hook(my_task)  # type: ignore[misc]

    def _run(self, my_task: Any) -> Any:
        try:
            if self._compensating(my_task):
                return None
        except Exception:
            my_task.error()
            raise
        return super()._run(my_task)  # type: ignore[misc]

    def _compensating(self, my_task: Any) -> bool:
        """Start (or go on with) the compensation; whether a handler now runs."""
        if my_task.internal_data.get(STATE) is None:
            self._before_compensation(my_task)
            my_task.internal_data[STATE] = {"queue": plan(my_task), "current": None,
                                            "done": []}
        running = my_task.workflow.top_workflow.subprocesses.get(my_task.id)
        if running is not None and not running.completed:
            return True
        return _start_next(my_task)

    def _before_compensation(self, my_task: Any) -> None:
        """Hook: what happens before the handlers run."""

    def _on_subworkflow_completed(self, subworkflow: Any, my_task: Any) -> None:
        try:
            _handler_done(my_task, subworkflow)
        except Exception:
            my_task.error()
            raise

    def _on_cancel(self, my_task: Any) -> None:
        running = my_task.workflow.top_workflow.subprocesses.get(my_task.id)
        if running is not None and not running.completed:
            running.cancel()
        super()._on_cancel(my_task)  # type: ignore[misc]


class CompensationThrowEvent(Compensating, IntermediateThrowEvent):
    """An intermediate throw event with a compensation event definition."""


class CompensationEndEvent(Compensating, EndEvent):
    """An end event with a compensation event definition: compensates, then ends its path."""


class CancelEndEvent(Compensating, EndEvent):
    """A cancel end event in a transaction.

    As in Camunda 7: the rest of the transaction is interrupted, its completed
    activities are compensated, and the transaction is left through its cancel
    boundary event, which carries the transaction's variables on.

    Upstream SpiffWorkflow 3.2's cancel end event cancels the transaction's
    workflow when it completes; SpiffWorkflow then takes that workflow for
    completed, so the transaction also completes, and only the boundary event's
    join cancels its normal outgoing path again. Here the transaction stays
    open until the boundary event interrupts it (no upstream change exists).
    """

    def _before_compensation(self, my_task: Any) -> None:
        keep = {my_task.id}
        parent = my_task.parent
        while parent is not None:
            keep.add(parent.id)
            parent = parent.parent
        for other in list(my_task.workflow.tasks.values()):
            if other.id not in keep and other.state & _OPEN:
                other.cancel()

    def _run_hook(self, my_task: Any) -> Any:
        result = super()._run_hook(my_task)  # throws the cancel event; the boundary catches it
        _carry_to_cancel_boundary(my_task)
        return result

    def _on_complete_hook(self, my_task: Any) -> None:
        # Not EndEvent's, which cancels (and so completes) the transaction's workflow.
        super(EndEventMixin, self)._on_complete_hook(my_task)
        for child in my_task.children:
            child.cancel()


def _carry_to_cancel_boundary(my_task: Any) -> None:
    """Give the cancel boundary event (which just caught) what the transaction changed."""
    top = my_task.workflow.top_workflow
    parent_id = my_task.workflow.parent_task_id
    transaction = top.get_task_from_id(parent_id) if parent_id is not None else None
    if transaction is None or transaction.parent is None:
        return
    changes = {key: value for key, value in my_task.data.items()
               if key not in transaction.data or transaction.data[key] != value}
    for sibling in transaction.parent.children:
        if (isinstance(sibling.task_spec, BoundaryEvent)
                and isinstance(sibling.task_spec.event_definition, CancelEventDefinition)
                and sibling.state == TaskState.READY):
            sibling.data.update(deepcopy(changes))


def plan(my_task: Any) -> list[dict[str, str]]:
    """What the compensation event ``my_task`` compensates, in the order it does it."""
    top = my_task.workflow.top_workflow
    ref = (getattr(my_task.task_spec, "extensions", None) or {}).get(ACTIVITY_REF) or None
    found: list[dict[str, str]] = []
    _collect(top, scope_of(my_task), ref, compensated(top), found)
    return found


def _collect(top: Any, workflow: Any, ref: str | None, taken: set[str],
             found: list[dict[str, str]]) -> None:
    position = {task_id: index for index, task_id in enumerate(workflow.tasks)}
    completed = [t for t in workflow.tasks.values()
                 if t.state == TaskState.COMPLETED and str(t.id) not in taken
                 and getattr(t.task_spec, "bpmn_id", None)
                 and (ref is None or t.task_spec.bpmn_id == ref)]
    completed.sort(key=lambda t: (t.last_state_change, position[t.id]), reverse=True)
    for task in completed:
        handler = (getattr(task.task_spec, "extensions", None) or {}).get(HANDLER)
        if handler:
            found.append({"target": str(task.id), "handler": handler})
        elif _is_embedded(task.task_spec):
            inner = top.subprocesses.get(task.id)
            if inner is not None:
                _collect(top, inner, None, taken, found)


def _is_embedded(spec: Any) -> bool:
    """An embedded sub-process or transaction (a call activity's process is not compensated)."""
    extensions = getattr(spec, "extensions", None) or {}
    return isinstance(spec, SubWorkflowTask) and not extensions.get("calls")


def scope_of(my_task: Any) -> Any:
    """The workflow whose activities a compensation event compensates: its own, except
    in a compensation event sub-process, which compensates the sub-process it is in."""
    top = my_task.workflow.top_workflow
    parent_id = my_task.workflow.parent_task_id
    owner = top.get_task_from_id(parent_id) if parent_id is not None else None
    if owner is None or not (getattr(owner.task_spec, "extensions", None) or {}).get(
            EVENT_SUBPROCESS):
        return my_task.workflow
    runner_id = owner.workflow.parent_task_id
    runner = top.get_task_from_id(runner_id) if runner_id is not None else None
    current = (runner.internal_data.get(STATE) or {}).get("current") if runner else None
    compensated_sub = top.subprocesses.get(UUID(current["target"])) if current else None
    return compensated_sub if compensated_sub is not None else my_task.workflow


def tasks_within(top: Any, workflow: Any) -> Iterator[Any]:
    """The tasks of ``workflow`` and of the subworkflows under its tasks, at any depth."""
    for task in list(workflow.tasks.values()):
        yield task
        inner = top.subprocesses.get(task.id)
        if inner is not None:
            yield from tasks_within(top, inner)


def compensated(top: Any, within: Any = None) -> set[str]:
    """Ids of the tasks compensated, being compensated or planned for it, in ``within``."""
    found: set[str] = set()
    for task in tasks_within(top, within if within is not None else top):
        state = task.internal_data.get(STATE) if isinstance(task.task_spec, Compensating) else None
        if not state:
            continue
        found.update(state.get("done", []))
        found.update(item["target"] for item in state.get("queue", []))
        if state.get("current"):
            found.add(state["current"]["target"])
    return found


def _start_next(my_task: Any) -> bool:
    """Start the next planned handler as ``my_task``'s subworkflow; False when none is left."""
    top = my_task.workflow.top_workflow
    state = my_task.internal_data[STATE]
    state["current"] = None
    while state["queue"]:
        item = state["queue"].pop(0)
        target = top.get_task_from_id(UUID(item["target"]))
        if target is None or target.state != TaskState.COMPLETED:
            continue
        if item["handler"] not in top.subprocess_specs:
            state["queue"].insert(0, item)  # a retry after a new deployment cannot help,
            raise WorkflowTaskException(  # but the instance keeps what it planned
                f"the compensation handler of '{target.task_spec.bpmn_id}' "
                f"({item['handler']}) is not part of the deployed definition",
                task=my_task)
        if my_task.id in top.subprocesses:
            top.delete_subprocess(my_task)
        subworkflow = top.create_subprocess(my_task, item["handler"])
        subworkflow.completed_event.connect(my_task.task_spec._on_subworkflow_completed,
                                            my_task)
        data = deepcopy(my_task.data)
        data.update(deepcopy(instance_variables(target)))
        subworkflow.task_tree.set_data(**data)
        state["current"] = item
        subworkflow.task_tree.run()
        return True
    return False


def reconnect(subworkflow: Any, my_task: Any) -> None:
    """After a restore: let a handler subworkflow's end reach its compensation event."""
    subworkflow.completed_event.connect(my_task.task_spec._on_subworkflow_completed, my_task)


def runs_handlers(task: Any) -> bool:
    return isinstance(task.task_spec, Compensating)


def instance_variables(target: Any) -> dict[str, Any]:
    """The variables of one multi-instance instance its handler sees: its element
    variable and ``loopCounter``."""
    parent = target.parent
    spec = getattr(parent, "task_spec", None)
    if not isinstance(spec, MultiInstanceTask):
        return {}
    found: dict[str, Any] = {"loopCounter": loop_variables(target).get("loopCounter")}
    item = getattr(spec, "input_item", None)
    name = getattr(item, "bpmn_id", None)
    if name and name in target.data:
        found[name] = target.data[name]
    return found


def _handler_done(my_task: Any, subworkflow: Any) -> None:
    """A handler ended: keep what it changed, then start the next or let the event complete."""
    state = my_task.internal_data.get(STATE)
    if not state or not state.get("current"):
        return
    top = my_task.workflow.top_workflow
    before = subworkflow.task_tree.data
    after = subworkflow.last_task.data if subworkflow.last_task is not None else {}
    changes = {key: deepcopy(value) for key, value in after.items()
               if key not in before or before[key] != value}
    my_task.data.update(changes)
    publish(my_task.workflow, changes)
    state["done"].append(state["current"]["target"])
    # What compensation events inside the handler compensated stays compensated.
    state["done"].extend(sorted(compensated(top, subworkflow)))
    state["current"] = None
    top.delete_subprocess(my_task)
    if not _start_next(my_task):
        my_task._set_state(TaskState.READY)


# -- checking a model ------------------------------------------------------------------------

def compensation_problems(name: str, process: etree._Element) -> Iterator[Problem]:
    """Compensation and cancel events drawn so that they cannot run: one problem each."""
    root = process.getroottree().getroot()
    handlers_linked: set[str] = set()
    for el in process.iter():
        tag = _local(el)
        compensate = _definition(el) is not None
        cancel = _definition(el, "cancelEventDefinition") is not None
        if compensate and tag == "boundaryEvent":
            found = list(_boundary_problems(name, el, root))
            yield from found
            handlers_linked.update(str(h.get("id")) for h in linked_handlers(el, root))
        elif compensate and tag == "intermediateCatchEvent":
            yield _problem(name, el, "a compensation catch event must be a boundary event on "
                           "the activity it undoes, linked to its handler by an association")
        elif compensate and tag == "startEvent":
            yield from _start_problems(name, el)
        elif compensate and tag in ("intermediateThrowEvent", "endEvent"):
            yield from _throw_problems(name, el)
        if cancel:
            yield from _cancel_problems(name, el, tag)
        if compensate and _inside(el, "adHocSubProcess"):
            yield _problem(name, el, "compensation inside an ad-hoc sub-process is not "
                           "supported: use an embedded sub-process")
    for el in process.iter():
        if el.get("isForCompensation") == "true" and _local(el) in ACTIVITY_TAGS:
            yield from _handler_problems(name, el, str(el.get("id")) in handlers_linked)


def _problem(name: str, el: etree._Element, message: str) -> Problem:
    return Problem(name, message, el.get("id"), el.sourceline)


def _inside(el: etree._Element, tag: str) -> bool:
    parent = el.getparent()
    while parent is not None:
        if _local(parent) == tag:
            return True
        parent = parent.getparent()
    return False


def _flows(container: etree._Element, attribute: str, element_id: str) -> list[str]:
    return [str(f.get("id")) for f in container.iterfind(_q("sequenceFlow"))
            if f.get(attribute) == element_id]


def _boundary_problems(name: str, boundary: etree._Element, root: etree._Element
                       ) -> Iterator[Problem]:
    boundary_id = str(boundary.get("id"))
    container = boundary.getparent()
    activity_id = boundary.get("attachedToRef")
    outgoing = _flows(container, "sourceRef", boundary_id)
    if outgoing:
        yield _problem(name, boundary, f"compensation boundary event '{boundary_id}' has an "
                       f"outgoing sequence flow ({', '.join(outgoing)}): it starts no flow; "
                       "link its handler with an association instead")
    handlers = linked_handlers(boundary, root)
    if not handlers:
        yield _problem(name, boundary, f"compensation boundary event '{boundary_id}' has no "
                       "handler: draw an association from it to the activity that undoes "
                       f"'{activity_id}', and mark that activity 'For compensation'")
    elif len(handlers) > 1:
        names = ", ".join(str(h.get("id")) for h in handlers)
        yield _problem(name, boundary, f"compensation boundary event '{boundary_id}' is linked "
                       f"to {len(handlers)} handlers ({names}); it has exactly one")
    for handler in handlers:
        handler_id = handler.get("id")
        if handler.get("isForCompensation") != "true":
            yield _problem(name, handler, f"'{handler_id}' is linked to compensation boundary "
                           f"event '{boundary_id}' but is not marked for compensation: tick "
                           "'For compensation' (isForCompensation=\"true\") on it")
        elif handler.getparent() is not container:
            yield _problem(name, handler, f"compensation handler '{handler_id}' must be in the "
                           f"same process or sub-process as the activity '{activity_id}' "
                           "it undoes")
    siblings = [b for b in container if is_compensation_boundary(b)
                and b.get("attachedToRef") == activity_id]
    if len(siblings) > 1 and siblings[0] is not boundary:
        yield _problem(name, boundary, f"activity '{activity_id}' has more than one "
                       "compensation boundary event; one handler undoes it")
    activity = next((a for a in container if a.get("id") == activity_id), None)
    if activity is not None and _local(activity) in SUBPROCESS_TAGS and (
            compensation_event_subprocess(activity) is not None):
        yield _problem(name, boundary, f"sub-process '{activity_id}' has both a compensation "
                       "boundary event and a compensation event sub-process: keep one of them")


def _handler_problems(name: str, handler: etree._Element, linked: bool) -> Iterator[Problem]:
    handler_id = str(handler.get("id"))
    container = handler.getparent()
    flows = [*_flows(container, "targetRef", handler_id),
             *_flows(container, "sourceRef", handler_id)]
    if flows:
        yield _problem(name, handler, f"compensation handler '{handler_id}' is part of the "
                       f"sequence flow ({', '.join(flows)}): a handler runs only when its "
                       "activity is compensated; remove its sequence flows")
    if not linked:
        yield _problem(name, handler, f"compensation handler '{handler_id}' is linked to no "
                       "compensation boundary event: draw an association from the "
                       "compensation boundary event of the activity it undoes")
    attached = [str(b.get("id")) for b in container.iterfind(_q("boundaryEvent"))
                if b.get("attachedToRef") == handler_id]
    if attached:
        yield _problem(name, handler, f"compensation handler '{handler_id}' has boundary "
                       f"events ({', '.join(attached)}), which a handler cannot have")


def _start_problems(name: str, start: etree._Element) -> Iterator[Problem]:
    event_subprocess = start.getparent()
    if not (_local(event_subprocess) == "subProcess"
            and event_subprocess.get("triggeredByEvent") == "true"):
        yield _problem(name, start, "a compensation start event belongs to an event "
                       "sub-process inside a sub-process (it runs when that sub-process "
                       "is compensated)")
        return
    scope = event_subprocess.getparent()
    if _local(scope) not in SUBPROCESS_TAGS:
        yield _problem(name, start, "a compensation event sub-process runs when the "
                       "sub-process it is in is compensated; draw it inside a sub-process, "
                       "not at the top of the process")
    elif compensation_event_subprocess(scope) is not event_subprocess:
        yield _problem(name, start, f"sub-process '{scope.get('id')}' has more than one "
                       "compensation event sub-process; keep one")


def _throw_problems(name: str, event: etree._Element) -> Iterator[Problem]:
    definition = _definition(event)
    ref = definition.get("activityRef") if definition is not None else None
    if not ref:
        return
    scope = event.getparent()
    start = next((s for s in scope if _local(s) == "startEvent"), None)
    if (_local(scope) == "subProcess" and start is not None
            and _definition(start) is not None):
        scope = scope.getparent()  # a compensation event sub-process's own sub-process
    activities = {str(a.get("id")): a for a in scope if _local(a) in ACTIVITY_TAGS
                  and a.get("isForCompensation") != "true"
                  and a.get("triggeredByEvent") != "true"}
    target = activities.get(ref)
    if target is None:
        known = ", ".join(sorted(activities)) or "none"
        yield _problem(name, event, f"the compensation event's activityRef '{ref}' names no "
                       f"activity of its process or sub-process (its activities: {known})")
        return
    compensable = any(is_compensation_boundary(b) and b.get("attachedToRef") == ref
                      for b in scope) or _local(target) in SUBPROCESS_TAGS
    if not compensable:
        yield _problem(name, event, f"the compensation event's activityRef '{ref}' names an "
                       "activity without a compensation boundary event: nothing would undo it")


def _cancel_problems(name: str, el: etree._Element, tag: str) -> Iterator[Problem]:
    parent = el.getparent()
    if tag == "endEvent":
        if _local(parent) != "transaction":
            yield _problem(name, el, "a cancel end event ends a transaction: draw it inside a "
                           "transaction sub-process")
            return
        container = parent.getparent()
        boundaries = [b for b in container if _local(b) == "boundaryEvent"
                      and b.get("attachedToRef") == parent.get("id")
                      and _definition(b, "cancelEventDefinition") is not None]
        if not boundaries:
            yield _problem(name, el, f"transaction '{parent.get('id')}' has a cancel end event "
                           "but no cancel boundary event to leave by: attach one to it")
    elif tag == "boundaryEvent":
        container = parent
        host = next((a for a in container if a.get("id") == el.get("attachedToRef")), None)
        if host is None or _local(host) != "transaction":
            yield _problem(name, el, "a cancel boundary event belongs on a transaction "
                           "sub-process")
            return
        others = [b for b in container if _local(b) == "boundaryEvent"
                  and b.get("attachedToRef") == host.get("id")
                  and _definition(b, "cancelEventDefinition") is not None]
        if others[0] is not el:
            yield _problem(name, el, f"transaction '{host.get('id')}' has more than one cancel "
                           "boundary event; keep one")
    else:
        yield _problem(name, el, "cancel events are the end events of a transaction and the "
                       "boundary event on it; use one of those")
