"""The complex gateway (BPMN 2.0.2, 10.6.5 and 13.4.5).

Camunda 7 does not run complex gateways; sertiflow runs them as the
specification describes, with one difference said below.

- **Split**: the outgoing flows are taken as an inclusive gateway's: every flow
  whose condition holds (a flow without a condition always), the ``default``
  flow when none holds; with neither, an incident.
- **Join**: the gateway counts the tokens that arrive (``activationCount``, the
  number of tokens arrived in this round, is a variable of the
  ``activationCondition``). While it waits for its start, each token is held
  until the activation condition holds; then the gateway fires once and its
  outgoing flows are taken. It then waits for its reset: the tokens still to
  come from the same round (on the incoming flows that have not delivered one,
  as long as a token can still reach them: the synchronisation of the inclusive
  gateway) are consumed as they arrive, and after the last of them the next
  token starts a new round.
- **No activation condition**: the gateway fires when every token that can
  still arrive has arrived, as an inclusive gateway's join.
- A token that arrives while the activation condition is false and no other
  token can arrive any more would wait forever (the specification's deadlock):
  it is an incident on the gateway; a retry evaluates the condition again.

The difference: in the specification, the reset also evaluates the outgoing
conditions again and gives a token to each flow whose condition then holds (a
condition may test the gateway's ``waitingForStart``); here the reset consumes
the late tokens and sends nothing on, so that what follows the gateway runs
once per round (the discriminator and partial-join patterns the gateway is
drawn for).

How it is built on SpiffWorkflow: :class:`ComplexGateway` is its inclusive
gateway whose every arriving token runs the gateway (instead of waiting as a
join): the run counts the token and decides. What the gateway knows of the
current round is written into the internal data of each token's task (a
numbered snapshot), so it is stored with the instance and read back from the
newest snapshot. A token the gateway consumes without firing goes on to the end
join of its (sub)process, as a branch that ends does, so that what its branch
set is kept; the joins that wait look again.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.task_parsers import ConditionalGatewayParser
from SpiffWorkflow.bpmn.serializer.default.task_spec import ConditionalGatewayConverter
from SpiffWorkflow.bpmn.specs.bpmn_task_spec import BpmnTaskSpec
from SpiffWorkflow.bpmn.specs.control import _EndJoin
from SpiffWorkflow.bpmn.specs.defaults import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.util.task import TaskState

ROUND = "sertiflow_complex_round"  # the gateway's state after this token, on its task
_OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
_PREDICTED_OR_FUTURE = TaskState.FUTURE | TaskState.PREDICTED_MASK


class ComplexGateway(InclusiveGateway):
    """A complex gateway; see the module's description.

    :param activation_condition: the ``activationCondition`` expression, or None.
    """

    def __init__(self, wf_spec: Any, bpmn_id: str, activation_condition: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.activation_condition = activation_condition

    # Every token runs the gateway; the run decides what becomes of it.
    def _update_hook(self, my_task: Any) -> Any:
        return BpmnTaskSpec._update_hook(self, my_task)

    def _run_hook(self, my_task: Any) -> bool:
        state = self._current_round(my_task)
        arrived_on = my_task.parent.task_spec.name
        if state["waiting_for_start"] is False and self._starts_new_round(my_task, state,
                                                                          arrived_on):
            state = _new_round(state["seq"])
        state["arrived"][arrived_on] = state["arrived"].get(arrived_on, 0) + 1
        outputs: list[Any] = []
        if state["waiting_for_start"]:
            if self._activates(my_task, state):
                outputs = self._chosen_outputs(my_task)
                state["waiting_for_start"] = False
                state["activation"] = str(my_task.id)
                if not self._may_still_arrive(my_task, state, skip=my_task):
                    state = _new_round(state["seq"])
            elif not self._may_still_arrive(my_task, state, any_input=True):
                raise WorkflowTaskException(
                    f"the activation condition {self.activation_condition!r} of the complex "
                    f"gateway is false with {_count(state)} token(s) arrived, and no further "
                    "token can arrive: the flows after the gateway would never be taken; "
                    "correct the variables it reads and retry", task=my_task)
        elif not self._may_still_arrive(my_task, state, skip=self._activation(my_task, state)):
            state = _new_round(state["seq"])  # the last token of the round: reset
        state["seq"] += 1
        my_task.internal_data[ROUND] = state
        # A token the gateway consumes without firing goes to the end join of its
        # (sub)process, as a branch that ends: what its branch set reaches the end there.
        my_task._sync_children(outputs or [_end_join(my_task.workflow.spec)], TaskState.FUTURE)
        for child in my_task.children:
            child.task_spec._predict(child, mask=_PREDICTED_OR_FUTURE)
        return True

    def _on_complete_hook(self, my_task: Any) -> None:
        super()._on_complete_hook(my_task)
        if not all(isinstance(child.task_spec, _EndJoin) for child in my_task.children):
            return
        # The token was consumed: a join that waits for what its branch might bring
        # must look again.
        for task in list(my_task.workflow.tasks.values()):
            if (task.state == TaskState.WAITING and isinstance(task.task_spec, UnstructuredJoin)
                    and not isinstance(task.task_spec, (ComplexGateway, _EndJoin))):
                task.task_spec._update(task)

    # -- the round -----------------------------------------------------------------

    def _current_round(self, my_task: Any) -> dict[str, Any]:
        newest: dict[str, Any] | None = None
        for task in my_task.workflow.tasks.values():
            state = task.internal_data.get(ROUND) if task.task_spec is self else None
            if (state is not None and task.state == TaskState.COMPLETED
                    and (newest is None or state["seq"] > newest["seq"])):
                newest = state
        if newest is None:
            return _new_round(0)
        return {**newest, "arrived": dict(newest["arrived"])}

    def _starts_new_round(self, my_task: Any, state: dict[str, Any], arrived_on: str) -> bool:
        """Whether a token that arrives while waiting for the reset belongs to the next round:
        its flow delivered one in this round already, or it comes from the activation."""
        activation = self._activation(my_task, state)
        return arrived_on in state["arrived"] or (
            activation is not None and my_task.is_descendant_of(activation))

    def _activation(self, my_task: Any, state: dict[str, Any]) -> Any:
        found = state.get("activation")
        return my_task.workflow.tasks.get(UUID(found)) if found else None

    def _activates(self, my_task: Any, state: dict[str, Any]) -> bool:
        if self.activation_condition is None:
            return not self._may_still_arrive(my_task, state)
        engine = my_task.workflow.script_engine
        try:
            return bool(engine.evaluate(my_task, self.activation_condition,
                                        external_context={"activationCount": _count(state)}))
        except WorkflowTaskException as exc:
            reason = exc.args[0] if exc.args else str(exc)
            error = WorkflowTaskException(
                f"the activation condition of the complex gateway failed: {reason}",
                task=my_task, exception=exc)
            error.notes = list(exc.notes)
            raise error from exc

    def _chosen_outputs(self, my_task: Any) -> list[Any]:
        matches, defaults = self._get_matching_outputs(my_task)
        if not matches and not defaults:
            raise WorkflowTaskException(
                "no condition of the flows leaving the complex gateway holds, and it has no "
                "default flow", task=my_task)
        return matches or defaults

    def _may_still_arrive(self, my_task: Any, state: dict[str, Any], *,
                          any_input: bool = False, skip: Any = None) -> bool:
        """Whether a token can still arrive on an incoming flow that has not delivered one
        in this round (``any_input``: on any incoming flow).

        A token is a task that runs or waits (or is about to: its parent completed),
        or another token at this gateway not counted yet; it can arrive when the
        flows lead from it to the incoming flow without passing the gateway.
        Tokens that ``skip``'s run produced (the activation's) are not counted.
        """
        pending = {spec.name for spec in self.inputs
                   if any_input or spec.name not in state["arrived"]}
        if not pending:
            return False
        for task in my_task.workflow.tasks.values():
            if task is my_task or not _is_token(task):
                continue
            if skip is not None and task.is_descendant_of(skip):
                continue
            if task.task_spec is self:
                if task.parent.task_spec.name in pending:
                    return True  # on the flow already, its run still to come
                continue
            if _leads_to(task.task_spec, pending, self):
                return True
        return False


def _is_token(task: Any) -> bool:
    if task.state & _OPEN:
        return True
    parent = task.parent  # a task about to run: the task before it has completed
    return bool(task.state == TaskState.FUTURE and parent is not None
                and parent.state == TaskState.COMPLETED)


def _leads_to(start: Any, names: set[str], gateway: Any) -> bool:
    """Whether the flows lead from ``start`` to a spec named in ``names``, not through
    ``gateway``."""
    stack, seen = [start], set()
    while stack:
        spec = stack.pop()
        if spec.name in names:
            return True
        if spec is gateway or spec.name in seen:
            continue
        seen.add(spec.name)
        stack.extend(spec.outputs)
    return False


def _end_join(spec: Any) -> Any:
    """The end join of a process spec (``spec.end`` is not restored with a stored spec)."""
    return spec.task_specs[f"{spec.name}.EndJoin"]


def _new_round(seq: int) -> dict[str, Any]:
    return {"seq": seq, "waiting_for_start": True, "arrived": {}, "activation": None}


def _count(state: dict[str, Any]) -> int:
    return sum(state["arrived"].values())


# -- parsing and storage -----------------------------------------------------------------

class ComplexGatewayParser(ConditionalGatewayParser):
    """Reads ``activationCondition``; a flow without a condition is always taken."""

    def create_task(self) -> ComplexGateway:
        found = self.xpath("./bpmn:activationCondition")
        text = (found[0].text or "").strip() if found else ""
        task: ComplexGateway = self.spec_class(self.spec, self.bpmn_id,
                                               activation_condition=text or None,
                                               **self.bpmn_attributes)
        return task

    def connect_outgoing(self, outgoing_task: Any, sequence_flow_node: Any,
                         is_default: bool) -> None:
        if is_default:
            self.task.connect(outgoing_task)
            return
        condition = self.parse_condition(sequence_flow_node)
        self.task.connect_outgoing_if(condition if condition and condition.strip() else "True",
                                      outgoing_task)


class ComplexGatewayConverter(ConditionalGatewayConverter):
    """Writes and reads a :class:`ComplexGateway` with its activation condition."""

    def to_dict(self, spec: ComplexGateway) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(spec)
        dct["activation_condition"] = spec.activation_condition
        return dct
