"""Multi-instance activities with Camunda 7's variables.

Camunda 7 runs a multi-instance activity over ``camunda:collection`` (or
``loopCardinality`` times) with one variable store for the instance: what an
instance sets (``greetings = greetings + [...]``, a form's ``approved``) is a
process variable that the next instance, the completion condition and the
activities after the loop see. Only the element variable (and ``loopCounter``)
is local to each instance, and it is gone when the loop ends.

SpiffWorkflow's Camunda multi-instance specs do otherwise: they write the element
variable back into the collection and keep nothing else an instance set, and
they rewrite their own spec while running (``update_task_spec``), which a spec
shared by every instance of a definition cannot afford. The specs here are the
plain BPMN ones, built once at parsing from the Camunda attributes:

* the collection is the loop's data input and the element variable its input
  item; there is no data output;
* an instance's variables, but its element variable, go back into the loop's
  data when it completes (last writer wins, as in Camunda);
* a process variable with the element variable's name is shadowed, not refused.

Parallel instances share what they set while they run through
:func:`engine.bpmn.hooks.publish`, which keeps each instance's element variable
its own.

The specification's ``behavior`` (which Camunda 7 does not read) is honoured:
``None`` throws ``noneBehaviorEventRef`` each time an instance completes,
``One`` throws ``oneBehaviorEventRef`` when the first one does, ``Complex``
throws the event of each ``complexBehaviorDefinition`` whose condition holds
when an instance completes, ``All`` (the default) throws nothing. The events
are signals or escalations; boundary events on the activity (or anything else
waiting for them) catch them. Upstream, this is a Camunda multi-instance parser that maps
``camunda:collection``/``camunda:elementVariable`` to ``loopDataInputRef`` /
``inputDataItem`` and a ``merge_child`` that merges all but the input item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.exceptions import WorkflowDataException
from SpiffWorkflow.bpmn.serializer.default.task_spec import MultiInstanceTaskConverter
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.defaults import (
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
    EscalationEventDefinition,
    SignalEventDefinition,
)
from SpiffWorkflow.util.task import TaskState

from .validation import collection_variable

_PREFIX = "bpmn:multiInstanceLoopCharacteristics"
_CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
_BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


class CamundaInstances:
    """Spec mixin: instances that share the process variables, but their element."""

    input_item: Any
    task_spec: str

    def create_child(self, my_task: Any, item: Any, key_or_index: Any = None) -> None:
        task_spec = my_task.workflow.spec.task_specs[self.task_spec]
        if not task_spec.completed_event.is_connected(self.merge_child):
            task_spec.completed_event.connect(self.merge_child)
        child = my_task._add_child(task_spec, TaskState.WAITING)
        child.triggered = True
        if self.input_item is not None:
            child.data[self.input_item.bpmn_id] = deepcopy(item)
        if key_or_index is not None:
            child.internal_data["key_or_index"] = key_or_index
        else:
            child.internal_data["item"] = item
        child.task_spec._update(child)
        if self.input_item is not None:
            # Inheriting the loop's data merged a process variable of the same name
            # over it: the element shadows that variable.
            child.data[self.input_item.bpmn_id] = deepcopy(item)

    behavior: str = "All"
    # What the behavior throws: [{"condition": text or None, "kind": "signal" or
    # "escalation", "name": ..., "code": ...}]; conditions are for "Complex" only.
    behavior_events: list[dict[str, Any]]

    def merge_child(self, workflow: Any, child: Any) -> None:
        my_task = child.parent
        local = self.local_names()
        my_task.data.update({k: v for k, v in child.data.items() if k not in local})
        my_task.internal_data["merged"].append(str(child.id))
        self._throw_behavior_events(my_task, child)
        if not _interrupted(my_task):
            self._after_merge(my_task)

    def _throw_behavior_events(self, my_task: Any, child: Any) -> None:
        events = getattr(self, "behavior_events", None) or []
        if self.behavior == "One" and len(my_task.internal_data["merged"]) != 1:
            return
        for event in events:
            condition = event.get("condition")
            if self.behavior == "Complex" and not (
                    condition and my_task.workflow.script_engine.evaluate(child, condition)):
                continue
            # No variables ride along: the catcher shares the instance's already,
            # and a copy taken now would undo what runs before it is caught.
            if event["kind"] == "escalation":
                definition: Any = EscalationEventDefinition(event.get("name"), event.get("code"))
                thrown = BpmnEvent(definition, payload={}, target=my_task.workflow)
            else:
                thrown = BpmnEvent(SignalEventDefinition(event.get("name")), payload={})
            my_task.workflow.top_workflow.catch(thrown)

    def _after_merge(self, my_task: Any) -> None:
        raise NotImplementedError

    def _check_collection(self, my_task: Any) -> None:
        data_input = getattr(self, "data_input", None)
        if data_input is None:
            return
        if not data_input.exists(my_task):
            raise WorkflowDataException(
                f"the collection '{data_input.bpmn_id}' (camunda:collection) is not set: "
                "set it before this activity, then retry", my_task)
        value = data_input.get(my_task)
        if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, Mapping)):
            raise WorkflowDataException(
                f"the collection '{data_input.bpmn_id}' (camunda:collection) must be a list, "
                f"not {type(value).__name__}: correct it, then retry", my_task)

    def local_names(self) -> frozenset[str]:
        """The variables that belong to one instance only."""
        return frozenset({self.input_item.bpmn_id} if self.input_item is not None else ())


def _interrupted(my_task: Any) -> bool:
    """Whether an interrupting boundary event of the loop has just caught an event
    (one the loop threw): no further instance starts, the boundary ends the loop."""
    split = my_task.parent
    return split is not None and any(
        getattr(t.task_spec, "cancel_activity", False) and t.state == TaskState.READY
        for t in split.children)


class CamundaSequentialInstances(CamundaInstances, SequentialMultiInstanceTask):
    """Instances one after the other over a collection or a cardinality."""

    def init_remaining_items(self, my_task: Any) -> Any:
        self._check_collection(my_task)
        return super().init_remaining_items(my_task)

    def _after_merge(self, my_task: Any) -> None:
        if self.children_complete(my_task) or self.check_completion_condition(my_task):
            my_task._set_state(TaskState.READY)
        else:
            self.add_next_child(my_task)


class CamundaParallelInstances(CamundaInstances, ParallelMultiInstanceTask):
    """All instances at once; a completion condition that holds cancels the rest."""

    def create_children(self, my_task: Any) -> None:
        self._check_collection(my_task)
        super().create_children(my_task)

    def _after_merge(self, my_task: Any) -> None:
        if self.check_completion_condition(my_task):
            for instance in self._instances(my_task):
                instance.cancel()
            my_task._set_state(TaskState.READY)
        elif self.children_complete(my_task):
            my_task._set_state(TaskState.READY)


class CamundaMultiInstanceParser:
    """Parser mixin: build the specs above from Camunda's multi-instance attributes."""

    spec: Any
    task: Any

    def _add_multiinstance_task(self, loop_characteristics: Any) -> None:
        sequential = loop_characteristics.get("isSequential") == "true"
        cardinality_nodes = self.xpath(f"./{_PREFIX}/bpmn:loopCardinality")  # type: ignore[attr-defined]
        cardinality = cardinality_nodes[0].text if len(cardinality_nodes) > 0 else None
        collection_text = loop_characteristics.get(f"{{{_CAMUNDA_NS}}}collection")
        collection = collection_variable(collection_text)
        if cardinality is None and collection is None:
            self.raise_validation_exception(  # type: ignore[attr-defined]
                "a multi-instance activity needs camunda:collection or a loop cardinality")
        element = loop_characteristics.get(f"{{{_CAMUNDA_NS}}}elementVariable")
        condition_nodes = self.xpath(f"./{_PREFIX}/bpmn:completionCondition")  # type: ignore[attr-defined]
        condition = condition_nodes[0].text if len(condition_nodes) > 0 else None
        original = self.spec.task_specs.pop(self.task.name)
        params: dict[str, Any] = {
            "task_spec": "",
            # The collection wins over a cardinality, as in Camunda.
            "cardinality": None if collection is not None else cardinality,
            "data_input": TaskDataReference(collection) if collection is not None else None,
            "input_item": (TaskDataReference(element)
                           if element and collection is not None else None),
            "condition": condition,
        }
        cls = CamundaSequentialInstances if sequential else CamundaParallelInstances
        self.task = cls(self.spec, original.name, **params)
        self.task.behavior = loop_characteristics.get("behavior") or "All"
        self.task.behavior_events = self._behavior_events(loop_characteristics,
                                                          self.task.behavior)
        self._copy_task_attrs(original, loop_characteristics)  # type: ignore[attr-defined]

    def _behavior_events(self, loop: Any, behavior: str) -> list[dict[str, Any]]:
        """The events the loop's ``behavior`` throws (see the module's docstring)."""
        if behavior in ("One", "None"):
            ref = loop.get(f"{behavior.lower()}BehaviorEventRef")
            found = self._event_by_id(ref) if ref else None
            return [found] if found else []
        if behavior != "Complex":
            return []
        events = []
        for complex_def in self.xpath(f"./{_PREFIX}/bpmn:complexBehaviorDefinition"):  # type: ignore[attr-defined]
            condition = complex_def.find(f"{{{_BPMN_NS}}}condition")
            event = complex_def.find(f"{{{_BPMN_NS}}}event")
            definition = None
            if event is not None:
                inner = [c for c in event if isinstance(c.tag, str)
                         and c.tag.endswith("EventDefinition")]
                refs = event.findall(f"{{{_BPMN_NS}}}eventDefinitionRef")
                if inner:
                    definition = self._event_definition(inner[0])
                elif refs:
                    definition = self._event_by_id((refs[0].text or "").strip())
            if definition is not None:
                text = condition.text if condition is not None else None
                events.append({**definition, "condition": (text or "").strip() or None})
        return events

    def _event_by_id(self, ref: str) -> dict[str, Any] | None:
        found = self.doc_xpath(f".//*[@id='{ref}']")  # type: ignore[attr-defined]
        return self._event_definition(found[0]) if found else None

    def _event_definition(self, node: Any) -> dict[str, Any] | None:
        """A signal or escalation definition as plain data (the validator refused others)."""
        tag = node.tag.split("}")[-1]
        if tag == "signalEventDefinition":
            signal = self._referenced(node.get("signalRef"))
            return {"kind": "signal", "name": signal.get("name") if signal is not None else None}
        if tag == "escalationEventDefinition":
            escalation = self._referenced(node.get("escalationRef"))
            if escalation is None:
                return {"kind": "escalation", "name": None, "code": None}
            return {"kind": "escalation", "name": escalation.get("name"),
                    "code": escalation.get("escalationCode")}
        return None

    def _referenced(self, ref: str | None) -> Any:
        found = self.doc_xpath(f".//*[@id='{ref}']") if ref else []  # type: ignore[attr-defined]
        return found[0] if found else None


class BehaviorLoopConverter(MultiInstanceTaskConverter):
    """SpiffWorkflow's multi-instance converter, with the loop's behavior."""

    def to_dict(self, spec: Any) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(spec)
        dct["behavior"] = spec.behavior
        dct["behavior_events"] = spec.behavior_events
        return dct

    def from_dict(self, dct: dict[str, Any]) -> Any:
        behavior = dct.pop("behavior", "All")
        events = dct.pop("behavior_events", [])
        spec = super().from_dict(dct)
        spec.behavior, spec.behavior_events = behavior, events
        return spec
