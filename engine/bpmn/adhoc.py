"""Ad-hoc sub-processes (BPMN 2.0.2, 10.3.5 and 13.3.5), run without a person choosing.

The specification lets the performers pick which of the enabled inner
activities to run. Nobody picks here (Camunda 7 does not run ad-hoc
sub-processes at all; Camunda 8 asks for a list of element ids), so every
element inside that has no incoming sequence flow starts:

- ``ordering="Parallel"`` (the default): all of them at once, as parallel branches;
- ``ordering="Sequential"``: one after another in the order of the file, the
  next when nothing inside runs any more;
- what follows an element through its sequence flows runs as drawn.

After each inner activity completes, ``completionCondition`` (Python or JUEL)
is evaluated on the variables. When it holds, nothing further starts inside;
with ``cancelRemainingInstances="true"`` (the default) what still runs inside is
cancelled (its user tasks leave the task list), with ``false`` it runs to its
end. Without a condition, or while it does not hold, the sub-process completes
when nothing inside runs any more. The sub-process shares the instance's
variables, as an embedded one does.

How it is built on SpiffWorkflow:

- :class:`AdHocProcessParser` replaces SpiffWorkflow's ``AdHocParser``, which
  refuses ``Sequential`` ordering but reads ``ordering`` and
  ``cancelRemainingInstances`` as attributes in the BPMN namespace, where no
  file has them (so it never sees either), finds the starting elements by their
  ``bpmn:incoming`` children (absent in hand-written files and on the flows
  sertiflow's rewrites add), and takes boundary events for starting elements.
- :class:`AdHocProcessSpec` has no callbacks on task completion.
  SpiffWorkflow's ``AdHocSubprocessSpec.path_complete`` evaluates the condition
  when the sub-process starts (before any activity ran) and at the end of each
  path, a missing one too (``TypeError``: the incident sertiflow used to open),
  fails on the ``data_objects`` key it pops from task data, and its converter
  writes ``cancel_remaining=True`` whatever the spec holds. Upstream, the
  condition belongs after each inner activity, a missing one means "never",
  and the converter should write the spec's own values.
- With a completion condition, a :class:`CompletionCheck` task follows each
  inner activity: a step of its own, so a condition that fails is an incident
  on the ad-hoc sub-process that a retry evaluates again.
- :class:`AdHocEndJoin` (the sub-process's end join) starts the next element
  of a sequential one when nothing else runs.

All state lives in the task tree: which elements started (their tasks), and
whether the condition held (the internal data of the check that saw it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.ProcessParser import ProcessParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer.default.process_spec import BpmnProcessSpecConverter
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.bpmn_task_spec import BpmnTaskSpec
from SpiffWorkflow.bpmn.specs.control import (
    BoundaryEventJoin,
    BpmnStartTask,
    SimpleBpmnTask,
    _EndJoin,
)
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.util.task import TaskState

from ..errors import Problem
from .hooks import MappedCallActivity

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

# The inner elements after whose completion the completion condition is evaluated.
ACTIVITY_TAGS = frozenset({
    "task", "userTask", "serviceTask", "sendTask", "receiveTask", "scriptTask", "manualTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
})
# Inner elements that start nothing by themselves.
_NOT_STARTING = frozenset({"boundaryEvent", "sequenceFlow"})

DONE = "sertiflow_adhoc_done"  # on the check that saw the completion condition hold
_UNFINISHED = TaskState.NOT_FINISHED_MASK
_RUNNING = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


def _local(element: Any) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


# -- specs ---------------------------------------------------------------------------

class AdHocSubProcess(MappedCallActivity):
    """The ad-hoc sub-process in its parent: an embedded sub-process whose inside is
    an :class:`AdHocProcessSpec`."""


class AdHocProcessSpec(BpmnProcessSpec):
    """The inside of an ad-hoc sub-process.

    :param completion_condition: the ``completionCondition`` expression, or None.
    :param ordering: ``"parallel"`` or ``"sequential"``.
    :param cancel_remaining: ``cancelRemainingInstances``.
    :param start_names: the task specs that start the paths inside, in the order
        of the file (a sequential one starts them in this order).
    :param activity_names: the task specs of the inner activities.
    """

    def __init__(self, name: str | None = None, description: str | None = None,
                 filename: str | None = None, svg: Any = None, *,
                 completion_condition: str | None = None, ordering: str = "parallel",
                 cancel_remaining: bool = True, start_names: list[str] | None = None,
                 activity_names: list[str] | None = None) -> None:
        super().__init__(name=name, description=description, filename=filename, svg=svg)
        self.completion_condition = completion_condition
        self.ordering = ordering
        self.cancel_remaining = cancel_remaining
        self.start_names = list(start_names or [])
        self.activity_names = list(activity_names or [])
        # The end join that also starts the next element of a sequential one.
        join_name = f"{self.name}.EndJoin"
        del self.task_specs[join_name]
        end = AdHocEndJoin(self, join_name)
        end._outputs = ["End"]
        self.end: AdHocEndJoin = end

    @property
    def sequential(self) -> bool:
        return self.ordering == "sequential"


class AdHocEndJoin(_EndJoin):
    """The end of an ad-hoc sub-process's inside: waits until nothing runs inside.

    Then, in a sequential one whose completion condition has not held, it starts
    the next element that has not run yet, after the task that reached it
    (whose variables are the newest), and waits again.
    """

    def _check_threshold_unstructured(self, my_task: Any) -> bool:
        if not super()._check_threshold_unstructured(my_task):
            return False
        workflow = my_task.workflow
        spec = workflow.spec
        if not getattr(spec, "sequential", False) or condition_held(workflow):
            return True
        started = {task.task_spec.name for task in workflow.tasks.values()}
        for name in spec.start_names:
            if name in started:
                continue
            after = my_task.parent if my_task.parent is not None else workflow.task_tree
            child = after._add_child(spec.task_specs[name], TaskState.FUTURE)
            child.task_spec._predict(child, mask=TaskState.FUTURE | TaskState.PREDICTED_MASK)
            child.task_spec._update(child)
            return False
        return True


class CompletionCheck(BpmnTaskSpec):
    """Evaluates the completion condition after the inner activity before it.

    When the condition holds, it ends what runs inside (or lets the running
    activities finish, with ``cancelRemainingInstances="false"``) and goes to
    the end instead of on; once it has held, every check goes to the end.
    """

    @property
    def incident_element(self) -> str:
        """The element an incident of this check belongs to: the ad-hoc sub-process."""
        return str(self._wf_spec.name)

    def _run_hook(self, my_task: Any) -> bool:
        workflow = my_task.workflow
        spec = workflow.spec
        if not condition_held(workflow) and self._holds(my_task, spec):
            my_task.internal_data[DONE] = True
            _end_the_rest(my_task, spec)
        if my_task.internal_data.get(DONE) or condition_held(workflow):
            my_task._drop_children()  # where its flows lead, predicted: none of it runs
            my_task._sync_children([spec.end], TaskState.FUTURE)
            for child in my_task.children:
                child.task_spec._predict(child, mask=TaskState.FUTURE | TaskState.PREDICTED_MASK)
        return True

    @staticmethod
    def _holds(my_task: Any, spec: AdHocProcessSpec) -> bool:
        expression = spec.completion_condition or ""
        try:
            return bool(my_task.workflow.script_engine.evaluate(my_task, expression))
        except WorkflowTaskException as exc:
            reason = exc.args[0] if exc.args else str(exc)
            error = WorkflowTaskException(
                f"the completion condition of the ad-hoc sub-process '{spec.name}' failed: "
                f"{reason}", task=my_task, exception=exc)
            error.notes = list(exc.notes)
            raise error from exc


def condition_held(workflow: Any) -> bool:
    """Whether the completion condition of the ad-hoc inside ``workflow`` has held."""
    return any(task.internal_data.get(DONE) for task in workflow.tasks.values()
               if task.state == TaskState.COMPLETED and isinstance(task.task_spec,
                                                                   CompletionCheck))


def _end_the_rest(my_task: Any, spec: AdHocProcessSpec) -> None:
    """Cancel what still runs inside, or (``cancelRemainingInstances="false"``) all but
    the activities that run, which may finish."""
    workflow = my_task.workflow
    kept: set[Any] = set()
    if not spec.cancel_remaining:
        kept = {task.id for task in workflow.tasks.values()
                if task.state & _RUNNING and task.task_spec.name in spec.activity_names}
    for task in list(workflow.tasks.values()):
        if (task.id not in workflow.tasks or not task.state & _UNFINISHED
                or isinstance(task.task_spec, (_EndJoin, SimpleBpmnTask))
                or task is my_task or task.is_descendant_of(my_task)
                or any(a.id in kept for a in _self_and_ancestors(task))):
            continue
        task.cancel()


def _self_and_ancestors(task: Any) -> Iterator[Any]:
    while task is not None:
        yield task
        task = task.parent


# -- parsing -----------------------------------------------------------------------

class AdHocProcessParser(ProcessParser):
    """Parses the inside of an ``adHocSubProcess`` into an :class:`AdHocProcessSpec`."""

    def create_spec(self) -> AdHocProcessSpec:
        condition = self.xpath("./bpmn:completionCondition")
        text = (condition[0].text or "").strip() if condition else ""
        return AdHocProcessSpec(
            name=self.bpmn_id, description=self.get_name(), filename=self.filename,
            completion_condition=text or None,
            ordering="sequential" if self.node.get("ordering") == "Sequential" else "parallel",
            cancel_remaining=self.node.get("cancelRemainingInstances") != "false",
        )

    def add_tasks(self) -> None:
        spec: AdHocProcessSpec = self.spec
        targets = {flow.get("targetRef") for flow in self.xpath("./bpmn:sequenceFlow")}
        activities = []
        for node in self.node:
            tag = _local(node)
            if node.tag not in self.parser.PARSER_CLASSES or tag in _NOT_STARTING:
                continue
            if tag in ("startEvent", "endEvent") or node.get("triggeredByEvent") == "true":
                raise ValidationException(  # refused by the validator before
                    "an ad-hoc sub-process contains no start event, end event or event "
                    "sub-process", node=node, file_name=self.filename)
            if tag in ACTIVITY_TAGS:
                activities.append(node.get("id"))
            if node.get("id") not in targets:
                spec.start_names.append(self.parse_node(node).name)
        spec.activity_names = [name for name in activities if name in spec.task_specs]
        self._connect()

    def _connect(self) -> None:
        spec: AdHocProcessSpec = self.spec
        if spec.completion_condition:
            for name in spec.activity_names:
                _add_check(spec, spec.task_specs[name])
        for task_spec in list(spec.task_specs.values()):
            if isinstance(task_spec, (BpmnStartTask, _EndJoin, SimpleBpmnTask)):
                continue
            if any(isinstance(i, LoopTask) for i in task_spec.inputs):
                continue  # one instance of a multi-instance activity
            if not task_spec.outputs:
                task_spec.connect(spec.end)
        for index, name in enumerate(spec.start_names):
            if index == 0 or not spec.sequential:
                spec.start.connect(spec.task_specs[name])
            else:  # started by the end join, after the one before; the start leads there
                spec.task_specs[name]._inputs = [spec.start.name]


def _add_check(spec: AdHocProcessSpec, activity: Any) -> None:
    """Put a :class:`CompletionCheck` between ``activity`` and where its flows lead."""
    check = CompletionCheck(spec, f"{activity.name}.CompletionCheck")
    moved = [s for s in activity.outputs if not isinstance(s, BoundaryEventJoin)]
    for target in moved:
        target._inputs = [check.name if n == activity.name else n for n in target._inputs]
    activity._outputs = [n for n in activity._outputs if n not in {m.name for m in moved}]
    check._outputs = [m.name for m in moved]
    check._inputs = []
    activity.connect(check)


# -- storage ---------------------------------------------------------------------------

class AdHocProcessSpecConverter(BpmnProcessSpecConverter):
    """Writes and reads an :class:`AdHocProcessSpec` with all its own attributes."""

    def to_dict(self, spec: AdHocProcessSpec) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(spec)
        dct.update(completion_condition=spec.completion_condition, ordering=spec.ordering,
                   cancel_remaining=spec.cancel_remaining, start_names=spec.start_names,
                   activity_names=spec.activity_names)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> AdHocProcessSpec:
        own = {key: dct.pop(key) for key in ("completion_condition", "ordering",
                                             "cancel_remaining", "start_names",
                                             "activity_names")}
        spec: AdHocProcessSpec = super().from_dict(dct)
        spec.completion_condition = own["completion_condition"]
        spec.ordering = own["ordering"]
        spec.cancel_remaining = own["cancel_remaining"]
        spec.start_names = list(own["start_names"])
        spec.activity_names = list(own["activity_names"])
        # The generic converter restores every task spec but points ``end`` at the
        # join it built and threw away.
        spec.end = spec.task_specs[f"{spec.name}.EndJoin"]
        return spec


# -- validation ----------------------------------------------------------------------

def adhoc_problems(file_name: str, adhoc: Any) -> Iterator[Problem]:
    """What an ``adHocSubProcess`` may not contain, each named by its element."""
    activities = 0
    for child in adhoc:
        tag = _local(child)
        if tag in ("startEvent", "endEvent"):
            yield Problem(file_name, f"an ad-hoc sub-process has no {_words(tag)}: the elements "
                          "inside without an incoming flow start when it starts, and it "
                          "ends when nothing inside runs (or its completion condition "
                          f"holds); remove {_words(tag)} '{child.get('id')}'",
                          child.get("id"), child.sourceline)
        elif tag == "subProcess" and child.get("triggeredByEvent") == "true":
            yield Problem(file_name, "an event sub-process inside an ad-hoc sub-process is not "
                          "supported: put it in the process or an embedded sub-process "
                          "around the ad-hoc one", child.get("id"), child.sourceline)
        elif tag in ACTIVITY_TAGS:
            activities += 1
    if activities == 0:
        yield Problem(file_name, "an ad-hoc sub-process needs at least one activity inside "
                      "(a task, a sub-process or a call activity)", adhoc.get("id"),
                      adhoc.sourceline)


def _words(tag: str) -> str:
    return "start event" if tag == "startEvent" else "end event"
