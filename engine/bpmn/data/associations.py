"""Data objects and data stores at run time: the specs of the associations that read
and write them, and the data objects a workflow holds.

A data input association copies the value into the task's variables before the
task runs; a data output association moves the task's variable into the data
object or store when it completes; afterwards the task's variables of those
names are what they were before it (the package docstring says it in full).
"""

from __future__ import annotations

from collections.abc import Mapping
from copy import deepcopy
from typing import Any, Protocol

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.serializer.helpers.spec import BpmnDataSpecificationConverter
from SpiffWorkflow.bpmn.specs.data_spec import BpmnDataSpecification, DataObject

# The key SpiffWorkflow keeps data object values under, in a (sub)workflow's data.
DATA_OBJECTS = "data_objects"
# Internal data of a task.
_BEFORE = "sertiflow_data_before"  # {variable: {"value": v} | {}}: before its associations
_WRITTEN = "sertiflow_data_written"  # {data object: value} for the step's history


# -- the specs ---------------------------------------------------------------------

class NamedDataObject(DataObject):
    """A data object declared by a (sub)process, with the variable name it goes by."""

    def __init__(self, bpmn_id: str, bpmn_name: str | None = None,
                 variable: str | None = None) -> None:
        super().__init__(bpmn_id, bpmn_name)
        self.variable = variable or bpmn_id


class DataAssociation(BpmnDataSpecification):
    """One data association of a task: a data object or data store, and a task variable.

    ``bpmn_id`` is the association's id; ``kind`` is "object" (``ref`` is the
    data object's id) or "store" (``ref`` is the store's name); ``variable`` is
    the name the task sees the value under.
    """

    def __init__(self, bpmn_id: str, bpmn_name: str | None = None, kind: str = "object",
                 ref: str = "", variable: str = "") -> None:
        super().__init__(bpmn_id, bpmn_name)
        self.kind = kind
        self.ref = ref
        self.variable = variable


class DataRead(DataAssociation):
    """A data input association: copy the value into the task before it runs."""

    def get(self, my_task: Any) -> None:
        if self.kind == "variable":
            return  # a data input of the process: a variable the task sees already
        found, value = _read(my_task, self.kind, self.ref)
        if found:
            my_task.data[self.variable] = value


class DataWrite(DataAssociation):
    """A data output association: move the task's variable into the data object or store."""

    def set(self, my_task: Any) -> None:
        if self.kind == "variable" or self.variable not in my_task.data:
            return  # a data output of the process is a process variable: it stays
        value = my_task.data.pop(self.variable)
        if self.kind == "store":
            access = _stores(my_task)
            access.write(self.ref, deepcopy(value), getattr(my_task.task_spec, "bpmn_id", None))
            return
        scope = _scope(my_task.workflow, self.ref)
        variable = _variable_of(scope.spec.data_objects.get(self.ref), self.ref)
        scope.data.setdefault(DATA_OBJECTS, {})[variable] = deepcopy(value)
        my_task.internal_data.setdefault(_WRITTEN, {})[variable] = deepcopy(value)


class DataStoreAccess(Protocol):
    """What the runtime lends the script engine for data stores (``engine.runtime.data_stores``)."""

    def read(self, name: str) -> tuple[bool, Any]:
        """(whether the store has a value, the value)."""

    def write(self, name: str, value: Any, element_id: str | None) -> None: ...


def _stores(my_task: Any) -> DataStoreAccess:
    access = getattr(my_task.workflow.script_engine, "data_stores", None)
    if access is None:
        raise WorkflowTaskException("data stores are kept in the engine's database, which "
                                    "this run has none of", task=my_task)
    return access


def _scope(workflow: Any, data_object_id: str) -> Any:
    """The (sub)workflow whose process declares the data object (SpiffWorkflow's walk)."""
    current = workflow
    while current is not None:
        if data_object_id in getattr(current.spec, "data_objects", {}):
            return current
        current = current.parent_workflow
    return workflow


def _read(my_task: Any, kind: str, ref: str) -> tuple[bool, Any]:
    if kind == "store":
        found, value = _stores(my_task).read(ref)
        return found, deepcopy(value)
    scope = _scope(my_task.workflow, ref)
    variable = _variable_of(scope.spec.data_objects.get(ref), ref)
    values = scope.data.get(DATA_OBJECTS) or {}
    if variable not in values:
        return False, None
    return True, deepcopy(values[variable])


def _variable_of(data_object: Any, data_object_id: str) -> str:
    """A data object's variable; a plain SpiffWorkflow one goes by its id."""
    return str(getattr(data_object, "variable", None) or data_object_id)


def take_written(task: Any) -> dict[str, Any]:
    """The data objects ``task`` wrote as it completed, by name (once)."""
    return dict(task.internal_data.pop(_WRITTEN, None) or {})


def associated(spec: Any) -> list[DataAssociation]:
    return [a for a in (*getattr(spec, "data_input_associations", ()),
                        *getattr(spec, "data_output_associations", ()))
            if isinstance(a, DataAssociation) and a.kind != "variable"]


def before_task(_workflow: Any, my_task: Any) -> None:
    """A task with data associations is about to read: keep what its variables of those
    names were (SpiffWorkflow emits the task's update event before the reads)."""
    if _BEFORE in my_task.internal_data:
        return
    my_task.internal_data[_BEFORE] = {
        a.variable: ({"value": deepcopy(my_task.data[a.variable])}
                     if a.variable in my_task.data else {})
        for a in associated(my_task.task_spec)}


def after_task(_workflow: Any, my_task: Any) -> None:
    """The task completed (its outputs written): its variables of the associated names
    are what they were before it, so a data object never leaks into the process
    variables, nor takes one of them away."""
    before = my_task.internal_data.pop(_BEFORE, None)
    for variable, was in (before or {}).items():
        if "value" in was:
            my_task.data[variable] = was["value"]
        else:
            my_task.data.pop(variable, None)


def start(workflow: Any) -> None:
    """A new workflow: its data objects hold nothing yet.

    SpiffWorkflow writes ``None`` for each data object of the process, by id;
    here a data object without a value has no entry, and the entries go by name.
    """
    if DATA_OBJECTS in workflow.data:
        workflow.data[DATA_OBJECTS] = {}


def visible_data_objects(workflow: Any) -> dict[str, Any]:
    """The data objects of the process and of its running sub-processes, by name."""
    found = dict(workflow.data.get(DATA_OBJECTS) or {})
    for subprocess in workflow.subprocesses.values():
        if not subprocess.is_completed():
            found.update(subprocess.data.get(DATA_OBJECTS) or {})
    return found


def without_data_objects(data: Mapping[str, Any]) -> dict[str, Any]:
    """A workflow's data without the data objects' own entry."""
    return {k: v for k, v in data.items() if k != DATA_OBJECTS}


# -- serializing ----------------------------------------------------------------------

class NamedDataObjectConverter(BpmnDataSpecificationConverter):
    def to_dict(self, data_spec: Any) -> dict[str, Any]:
        return {**super().to_dict(data_spec), "variable": data_spec.variable}


class DataAssociationConverter(BpmnDataSpecificationConverter):
    def to_dict(self, data_spec: Any) -> dict[str, Any]:
        return {**super().to_dict(data_spec), "kind": data_spec.kind, "ref": data_spec.ref,
                "variable": data_spec.variable}


CONVERTERS: dict[type, type] = {
    NamedDataObject: NamedDataObjectConverter,
    DataRead: DataAssociationConverter,
    DataWrite: DataAssociationConverter,
}
