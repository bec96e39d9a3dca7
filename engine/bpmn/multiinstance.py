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
its own. Upstream, this is a Camunda multi-instance parser that maps
``camunda:collection``/``camunda:elementVariable`` to ``loopDataInputRef`` /
``inputDataItem`` and a ``merge_child`` that merges all but the input item.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.defaults import (
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.util.task import TaskState

from .validation import collection_variable

_PREFIX = "bpmn:multiInstanceLoopCharacteristics"
_CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"


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

    def merge_child(self, workflow: Any, child: Any) -> None:
        my_task = child.parent
        local = self.local_names()
        my_task.data.update({k: v for k, v in child.data.items() if k not in local})
        my_task.internal_data["merged"].append(str(child.id))
        self._after_merge(my_task)

    def _after_merge(self, my_task: Any) -> None:
        raise NotImplementedError

    def local_names(self) -> frozenset[str]:
        """The variables that belong to one instance only."""
        return frozenset({self.input_item.bpmn_id} if self.input_item is not None else ())


class CamundaSequentialInstances(CamundaInstances, SequentialMultiInstanceTask):
    """Instances one after the other over a collection or a cardinality."""

    def _after_merge(self, my_task: Any) -> None:
        if self.children_complete(my_task) or self.check_completion_condition(my_task):
            my_task._set_state(TaskState.READY)
        else:
            self.add_next_child(my_task)


class CamundaParallelInstances(CamundaInstances, ParallelMultiInstanceTask):
    """All instances at once; a completion condition that holds cancels the rest."""

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
        self._copy_task_attrs(original, loop_characteristics)  # type: ignore[attr-defined]
