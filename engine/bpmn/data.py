"""Data objects, data stores and ``ioSpecification`` (BPMN 2.0.2 §10.4).

Camunda 7 ignores them and keeps only process variables; sertiflow runs them as
the specification says, on SpiffWorkflow's own mechanism (a task spec's
``data_input_associations`` / ``data_output_associations``, a workflow's
``data_objects``, a process spec's ``io_specification``):

**Data objects.** A data object is a variable of the (sub-)process that
declares it, kept apart from the process variables in that (sub-)process's
``data_objects``. Its variable name is the data object's ``name``; Camunda
Modeler writes the name on the data object *references* (their label), so
without one the references' name is used, and without any the data object's
id. A task sees a data object only through an association:

- a data *input* association copies the data object's value into the task's
  variables before the task runs (when the data object has no value yet,
  nothing is copied, and a variable of that name the task already sees stays);
- a data *output* association copies the task's variable of that name into
  the data object when the task completes (when the task has no such variable,
  the data object keeps its value);
- after the task, its variables of those names are what they were before it:
  the data object's value does not become a process variable, and a process
  variable of the same name, hidden from the task while it ran, comes back.

Sequence-flow conditions of the (sub-)process see its data objects by name,
as SpiffWorkflow gives them. The instance's variables
(``GET /process-instances/{id}``) show the data objects of the process, and
of each sub-process while it runs, by name.

**Data stores.** A data store outlives the instance (§10.4.4): it is one value
per store name, kept in the database (``engine.runtime.data_stores``) and shared by every
instance of every process. Its name is the ``bpmn:dataStore``'s that the
reference names, else the reference's own (the Modeler writes only a
reference), and a task sees it as the variable of that name. Associations read
and write it as they do a data object's; each write is in the command's
transaction and is recorded in the writer's history (``data_store_written``).

**ioSpecification.** On a task (or sub-process, call activity, event): each
``dataInput`` must be a variable when the task starts (else an incident names
it), and the task sees only its inputs; each ``dataOutput`` must be a variable
when it ends (else an incident, or for a user task the completion is refused),
and what leaves the task are the variables from before it plus its outputs.
On a process: the instance must be started with each ``dataInput`` (else 422),
a called process with each one passed in (else an incident on the call
activity); at its end the process must hold each ``dataOutput`` (else an
incident on the end event, and a retry with the variable ends it). A data
input or output is the variable of its ``name``, else of its id. Inputs an
``inputSet`` lists as ``optionalInputRefs`` (outputs as ``optionalOutputRefs``)
are not required.

A data association may also name a data input or output of the process
(``ioSpecification`` of the process): those are process variables, which the
task sees and sets as any other.

Names must be variable names (``order``, ``register_entry``): the validator
(:func:`data_problems`) refuses another name wherever it would be used.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterator, Mapping
from copy import deepcopy
from typing import Any, Protocol

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.ProcessParser import ProcessParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer.helpers.spec import BpmnDataSpecificationConverter
from SpiffWorkflow.bpmn.specs.bpmn_task_spec import BpmnIoSpecification
from SpiffWorkflow.bpmn.specs.data_spec import (
    BpmnDataSpecification,
    DataObject,
    TaskDataReference,
)
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.util.task import TaskState

from ..errors import Problem

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# The key SpiffWorkflow keeps data object values under, in a (sub)workflow's data.
DATA_OBJECTS = "data_objects"
# A task spec's extensions: {"inputs": [...], "outputs": [...], "optional": [...]}.
IO = "ioSpecification"
# Internal data of a task.
_BEFORE = "sertiflow_data_before"  # {variable: {"value": v} | {}}: before its associations
_WRITTEN = "sertiflow_data_written"  # {data object: value} for the step's history
_OUTER = "sertiflow_io_outer"  # the variables before a task with an ioSpecification started


def _q(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _local(el: Any) -> str:
    return str(el.tag).rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""


def is_variable_name(name: str | None) -> bool:
    return bool(name) and str(name).isidentifier() and not keyword.iskeyword(str(name))


# -- names ---------------------------------------------------------------------------

def data_object_variable(root: etree._Element, data_object: etree._Element) -> str:
    """The variable a data object is: its name, else its references' name, else its id."""
    if data_object.get("name"):
        return str(data_object.get("name"))
    object_id = data_object.get("id")
    for reference in root.iter(_q("dataObjectReference")):
        if reference.get("dataObjectRef") == object_id and reference.get("name"):
            return str(reference.get("name"))
    return str(object_id)


def data_store_name(root: etree._Element, reference: etree._Element) -> str | None:
    """The name of the data store a reference names (the dataStore's, else its own)."""
    store_id = reference.get("dataStoreRef")
    if store_id:
        for store in root.iter(_q("dataStore")):
            if store.get("id") == store_id and store.get("name"):
                return str(store.get("name"))
    return reference.get("name")


def io_variable(item: etree._Element) -> str:
    """The variable of a ``dataInput`` or ``dataOutput``: its name, else its id."""
    return str(item.get("name") or item.get("id"))


def _by_id(root: etree._Element, element_id: str | None) -> etree._Element | None:
    if not element_id:
        return None
    found = root.xpath("//*[@id=$i]", i=element_id)
    return found[0] if found else None


def _source(root: etree._Element, ref_id: str | None) -> tuple[str, str] | None:
    """("object", data object id), ("store", store name) or ("variable", name) for an
    association's far end; the last is a data input or output of a process."""
    el = _by_id(root, ref_id)
    if el is None:
        return None
    tag = _local(el)
    if tag in ("dataInput", "dataOutput"):
        io = el.getparent()
        owner = io.getparent() if io is not None else None
        if owner is not None and _local(owner) in ("process", "subProcess", "transaction"):
            return "variable", io_variable(el)
        return None
    if tag == "dataObjectReference":
        target = _by_id(root, el.get("dataObjectRef"))
        if target is not None and _local(target) == "dataObject":
            return "object", str(target.get("id"))
        return None
    if tag == "dataObject":
        return "object", str(el.get("id"))
    if tag == "dataStoreReference":
        name = data_store_name(root, el)
        return ("store", name) if name else None
    return None


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


def _associated(spec: Any) -> list[DataAssociation]:
    return [a for a in (*getattr(spec, "data_input_associations", ()),
                        *getattr(spec, "data_output_associations", ()))
            if isinstance(a, DataAssociation) and a.kind != "variable"]


def _before_task(_workflow: Any, my_task: Any) -> None:
    """A task with data associations is about to read: keep what its variables of those
    names were (SpiffWorkflow emits the task's update event before the reads)."""
    if _BEFORE in my_task.internal_data:
        return
    my_task.internal_data[_BEFORE] = {
        a.variable: ({"value": deepcopy(my_task.data[a.variable])}
                     if a.variable in my_task.data else {})
        for a in _associated(my_task.task_spec)}


def _after_task(_workflow: Any, my_task: Any) -> None:
    """The task completed (its outputs written): its variables of the associated names
    are what they were before it, so a data object never leaks into the process
    variables, nor takes one of them away."""
    before = my_task.internal_data.pop(_BEFORE, None)
    for variable, was in (before or {}).items():
        if "value" in was:
            my_task.data[variable] = was["value"]
        else:
            my_task.data.pop(variable, None)


# -- ioSpecification on tasks (run from engine.bpmn.hooks) ---------------------------

class MissingData(WorkflowTaskException):
    """A required data input or output is not a variable; ``element_id`` names where."""

    def __init__(self, message: str, task: Any, element_id: str | None = None) -> None:
        super().__init__(message, task=task)
        self.element_id = element_id


def _names(names: list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def io_start(task: Any) -> None:
    """Check a task's data inputs and leave it only those (before its start listeners)."""
    io = (getattr(task.task_spec, "extensions", None) or {}).get(IO)
    if not io:
        return
    missing = [n for n in io["inputs"] if n not in task.data and n not in io["optional"]]
    if missing:
        raise MissingData(
            f"the task needs the variable{'s' if len(missing) > 1 else ''} {_names(missing)} "
            "before it starts (its ioSpecification names them as data inputs): set them "
            "and retry", task)
    task.internal_data[_OUTER] = deepcopy(task.data)
    task.data = {n: task.data[n] for n in io["inputs"] if n in task.data}


def io_end(task: Any) -> None:
    """Check a task's data outputs; the variables from before it plus its outputs go on."""
    io = (getattr(task.task_spec, "extensions", None) or {}).get(IO)
    if not io:
        return
    missing = [n for n in io["outputs"] if n not in task.data and n not in io["optional"]]
    if missing:
        raise MissingData(
            f"the task must set the variable{'s' if len(missing) > 1 else ''} "
            f"{_names(missing)} (its ioSpecification names them as data outputs)", task)
    outer = task.internal_data.pop(_OUTER, None)
    if outer is None:
        return
    outer.update({n: task.data[n] for n in io["outputs"] if n in task.data})
    task.data = outer


# -- ioSpecification on processes ----------------------------------------------------

def required_inputs(stored_spec: Mapping[str, Any]) -> list[str]:
    """The start variables a stored definition's process requires (its data inputs)."""
    io = (stored_spec.get("spec") or {}).get("io_specification") or {}
    return [str(d["bpmn_id"]) for d in io.get("data_inputs") or []]


class _ProcessInputs:
    """A ``post_assign`` entry of a called process's start: its data inputs arrived."""

    def assign(self, task: Any, _target: Any) -> None:
        io = task.workflow.spec.io_specification
        missing = [d.bpmn_id for d in io.data_inputs if d.bpmn_id not in task.data]
        if not missing:
            return
        error = MissingData(
            f"the called process '{task.workflow.spec.name}' needs the variable"
            f"{'s' if len(missing) > 1 else ''} {_names(missing)} (its ioSpecification "
            "names them as data inputs): pass them in (camunda:in) and retry",
            task, _calling_element(task.workflow))
        failures = getattr(task.workflow.script_engine, "hook_failures", None)
        if failures is None:
            raise error
        # Told to the engine here; the call activity that starts the process stops
        # quietly (engine.bpmn.hooks.MappedCallActivity), so the step before it ends well.
        failures.append(error)
        raise SubprocessNotStarted(str(error))


class SubprocessNotStarted(Exception):
    """A called process could not start; the engine was told why already."""


class _ProcessOutputs:
    """A ``post_assign`` entry of a process's end: its data outputs are variables."""

    def assign(self, task: Any, _target: Any) -> None:
        io = task.workflow.spec.io_specification
        missing = [d.bpmn_id for d in io.data_outputs if d.bpmn_id not in task.data]
        if missing:
            raise MissingData(
                f"the process '{task.workflow.spec.name}' ends without the variable"
                f"{'s' if len(missing) > 1 else ''} {_names(missing)} (its ioSpecification "
                "names them as data outputs): set them and retry",
                task, _last_end_event(task) or _calling_element(task.workflow))


def _calling_element(workflow: Any) -> str | None:
    task_id = getattr(workflow, "parent_task_id", None)
    if task_id is None:
        return None
    caller = workflow.top_workflow.get_task_from_id(task_id)
    return getattr(caller.task_spec, "bpmn_id", None) if caller is not None else None


def _last_end_event(task: Any) -> str | None:
    """The end event whose completion brought the process to its end."""
    ends = [t for t in task.workflow.tasks.values()
            if isinstance(t.task_spec, EndEvent) and t.state == TaskState.COMPLETED]
    latest = max(ends, key=lambda t: t.last_state_change, default=None)
    return getattr(latest.task_spec, "bpmn_id", None) if latest is not None else None


# -- installing on specs restored from storage ---------------------------------------

def install(spec: Any, *, top: bool) -> None:
    """Give the specs of a process what data associations and ioSpecification need.

    ``top``: the process an instance starts (whose inputs the runtime checks at the
    start); otherwise a called or embedded process, whose start checks them.
    """
    for task_spec in spec.task_specs.values():
        if _associated(task_spec) and not task_spec.completed_event.is_connected(_after_task):
            task_spec.update_event.connect(_before_task)
            task_spec.completed_event.connect(_after_task)
    io = spec.io_specification
    if io is None:
        return
    if io.data_inputs and not top and "Start" in spec.task_specs:
        spec.task_specs["Start"].post_assign = [*spec.task_specs["Start"].post_assign,
                                                _ProcessInputs()]
    if io.data_outputs and "End" in spec.task_specs:
        spec.task_specs["End"].post_assign = [*spec.task_specs["End"].post_assign,
                                              _ProcessOutputs()]


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


# -- parsing --------------------------------------------------------------------------

class DataProcessParser(ProcessParser):
    """SpiffWorkflow's process parser, with data objects and data inputs named as above."""

    def parse_data_object(self, obj: etree._Element) -> NamedDataObject:
        return NamedDataObject(obj.get("id"), obj.get("name"),
                               data_object_variable(self.document_root, obj))

    def parse_io_spec(self) -> BpmnIoSpecification:
        # A process's optional inputs and outputs are simply not checked.
        return _io_specification(self.node, skip=set(_optional(self.node)))


def _io_specification(node: etree._Element, skip: set[str] | None = None
                      ) -> BpmnIoSpecification:
    io = node.find(_q("ioSpecification"))
    skip = skip or set()

    def refs(tag: str) -> list[TaskDataReference]:
        items = io.iterfind(_q(tag)) if io is not None else []
        return [TaskDataReference(io_variable(i), i.get("id")) for i in items
                if io_variable(i) not in skip]

    return BpmnIoSpecification(refs("dataInput"), refs("dataOutput"))


def _optional(node: etree._Element) -> list[str]:
    """The variables of the inputs and outputs an ioSpecification marks optional."""
    io = node.find(_q("ioSpecification"))
    if io is None:
        return []
    by_id = {el.get("id"): io_variable(el) for el in io
             if _local(el) in ("dataInput", "dataOutput")}
    refs = [*io.iterfind(f"{_q('inputSet')}/{_q('optionalInputRefs')}"),
            *io.iterfind(f"{_q('outputSet')}/{_q('optionalOutputRefs')}")]
    return [by_id[r.text.strip()] for r in refs if r.text and r.text.strip() in by_id]


class DataParsing:
    """Task-parser mixin: data associations and ioSpecification as described above."""

    node: etree._Element
    task: Any
    spec: Any
    filename: str | None

    def parse_incoming_data_references(self) -> list[DataRead]:
        return [self._association(DataRead, a, "sourceRef", "dataInput")
                for a in self.node.iterfind(_q("dataInputAssociation"))]

    def parse_outgoing_data_references(self) -> list[DataWrite]:
        return [self._association(DataWrite, a, "targetRef", "dataOutput")
                for a in self.node.iterfind(_q("dataOutputAssociation"))]

    def _association(self, cls: type[DataAssociation], association: etree._Element,
                     outer_end: str, io_tag: str) -> DataAssociation:
        root = self.node.getroottree().getroot()
        refs = [(r.text or "").strip() for r in association.iterfind(_q(outer_end))]
        found = _source(root, refs[0] if refs else None)
        if found is None:
            raise ValidationException(
                f"the data association '{association.get('id')}' names no data object or "
                "data store", node=self.node, file_name=self.filename)
        kind, ref = found
        target = _by_id(root, ref) if kind == "object" else None
        variable = data_object_variable(root, target) if target is not None else ref
        if kind == "variable":
            variable = ref
        inner_end = "targetRef" if outer_end == "sourceRef" else "sourceRef"
        inner = association.find(_q(inner_end))
        inner_id = (inner.text or "").strip() if inner is not None else ""
        own = [el for el in self.node.iterfind(f"{_q('ioSpecification')}/{_q(io_tag)}")
               if el.get("id") == inner_id]
        if own:
            variable = io_variable(own[0])  # the task's own data input or output
        return cls(str(association.get("id")), None, kind, ref, variable)

    def parse_io_spec(self) -> BpmnIoSpecification:
        return _io_specification(self.node)

    def parse_node(self) -> Any:
        parsed = super().parse_node()  # type: ignore[misc]
        outer = self.task
        io = outer.io_specification
        if io is not None:
            # sertiflow runs it (io_start, io_end), not SpiffWorkflow, which would
            # leave only the outputs as the variables after the task.
            outer.io_specification = None
            body = (self.spec.task_specs[outer.task_spec] if isinstance(outer, LoopTask)
                    else outer)
            body.extensions = {**(getattr(body, "extensions", None) or {}), IO: {
                "inputs": [d.bpmn_id for d in io.data_inputs],
                "outputs": [d.bpmn_id for d in io.data_outputs],
                "optional": _optional(self.node)}}
        return parsed


def ignore_data_store_elements(_parser: Any, _bpmn: Any) -> None:
    """``BpmnParser._add_data_stores``: stores are named by the associations (above).

    SpiffWorkflow wants a Python class registered for each ``bpmn:dataStore`` name
    and refuses the file otherwise; here every data store is a database entry.
    """


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


# -- validation -----------------------------------------------------------------------

def data_problems(name: str, process: etree._Element) -> Iterator[Problem]:
    """Refuse data objects, stores and ioSpecification entries that could not run."""
    root = process.getroottree().getroot()
    yield from _association_problems(name, root, process)
    yield from _data_object_problems(name, root, process)
    for io in process.iter(_q("ioSpecification")):
        owner = io.getparent()
        for item in io:
            if _local(item) not in ("dataInput", "dataOutput"):
                continue
            variable = io_variable(item)
            if not is_variable_name(variable):
                what = "data input" if _local(item) == "dataInput" else "data output"
                yield Problem(name, f"the {what} '{item.get('id')}' of the ioSpecification "
                              f"is the variable '{variable}', which is not a variable name: "
                              "name it like one (letters, digits and _, e.g. "
                              "application_number)", owner.get("id"), item.sourceline)


def _association_problems(name: str, root: etree._Element, process: etree._Element
                          ) -> Iterator[Problem]:
    for tag, end, verb in (("dataInputAssociation", "sourceRef", "reads"),
                           ("dataOutputAssociation", "targetRef", "writes")):
        for association in process.iter(_q(tag)):
            owner = association.getparent()
            owner_id = owner.get("id") if owner is not None else None
            line = association.sourceline
            if (association.find(_q("transformation")) is not None
                    or association.find(_q("assignment")) is not None):
                yield Problem(name, "data association transformations and assignments are "
                              "not supported: copy or compute the value in a script task or a "
                              "camunda:inputOutput mapping", owner_id, line)
                continue
            refs = [(r.text or "").strip() for r in association.iterfind(_q(end))]
            found = _source(root, refs[0] if refs else None)
            if found is None:
                yield Problem(name, f"a data association {verb} '{refs[0] if refs else ''}', "
                              "which is neither a data object, a named data store nor a data "
                              "input or output of the process: draw it to a data object or "
                              "data store reference", owner_id, line)
                continue
            kind, ref = found
            if kind == "store" and not is_variable_name(ref):
                yield Problem(name, f"the data store '{ref}' is the variable of its name, "
                              "which is not a variable name: name it like one (letters, "
                              f"digits and _, e.g. {_variable_like(ref)})", owner_id, line)


def _variable_like(name: str) -> str:
    """A variable name close to ``name``: "Order register" -> "order_register"."""
    suggested = re.sub(r"\W+", "_", name.strip()).strip("_").lower()
    if not suggested or suggested[0].isdigit():
        suggested = f"store_{suggested}".rstrip("_")
    return suggested


def _data_object_problems(name: str, root: etree._Element, process: etree._Element
                          ) -> Iterator[Problem]:
    used = set()
    for association in [*process.iter(_q("dataInputAssociation")),
                        *process.iter(_q("dataOutputAssociation"))]:
        for end in ("sourceRef", "targetRef"):
            for ref in association.iterfind(_q(end)):
                found = _source(root, (ref.text or "").strip())
                if found is not None and found[0] == "object":
                    used.add(found[1])
    for container in [process, *(el for el in process.iterdescendants()
                                 if _local(el) in ("subProcess", "transaction",
                                                   "adHocSubProcess"))]:
        seen: dict[str, str] = {}
        for data_object in container.iterfind(_q("dataObject")):
            object_id = str(data_object.get("id"))
            variable = data_object_variable(root, data_object)
            labels = {str(r.get("name")) for r in root.iter(_q("dataObjectReference"))
                      if r.get("dataObjectRef") == object_id and r.get("name")}
            if not data_object.get("name") and len(labels) > 1:
                yield Problem(name, f"the references of data object '{object_id}' are "
                              f"labelled {', '.join(sorted(labels))}: one data object is one "
                              "variable, so give them one name", object_id,
                              data_object.sourceline)
            elif object_id in used and not is_variable_name(variable):
                yield Problem(name, f"the data object '{variable}' is read or written by a "
                              "task, and its name is the variable's name, which this is not: "
                              "name it like a variable (letters, digits and _, e.g. "
                              "berita_acara)", object_id, data_object.sourceline)
            if variable in seen:
                yield Problem(name, f"the data objects '{seen[variable]}' and '{object_id}' "
                              f"are both named '{variable}' in one process or sub-process: "
                              "give each its own name", object_id, data_object.sourceline)
            seen[variable] = object_id
