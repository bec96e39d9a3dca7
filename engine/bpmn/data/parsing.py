"""Reading data objects, data associations and ioSpecification into SpiffWorkflow's specs.

Data objects and data inputs and outputs get the variable names the package
docstring gives them; a task's ioSpecification goes into its spec's
extensions (:data:`.io_specification.IO`), which sertiflow runs, instead of
SpiffWorkflow's own.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ProcessParser import ProcessParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_task_spec import BpmnIoSpecification
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask

from .associations import DataAssociation, DataRead, DataWrite, NamedDataObject
from .elements import by_id, data_object_variable, far_end, io_variable, local_name, q
from .io_specification import IO


class DataProcessParser(ProcessParser):
    """SpiffWorkflow's process parser, with data objects and data inputs named as the
    package docstring says."""

    def parse_data_object(self, obj: etree._Element) -> NamedDataObject:
        return NamedDataObject(obj.get("id"), obj.get("name"),
                               data_object_variable(self.document_root, obj))

    def parse_io_spec(self) -> BpmnIoSpecification:
        # A process's optional inputs and outputs are simply not checked.
        return _io_specification(self.node, skip=set(_optional(self.node)))


def _io_specification(node: etree._Element, skip: set[str] | None = None
                      ) -> BpmnIoSpecification:
    io = node.find(q("ioSpecification"))
    skip = skip or set()

    def refs(tag: str) -> list[TaskDataReference]:
        items = io.iterfind(q(tag)) if io is not None else []
        return [TaskDataReference(io_variable(i), i.get("id")) for i in items
                if io_variable(i) not in skip]

    return BpmnIoSpecification(refs("dataInput"), refs("dataOutput"))


def _optional(node: etree._Element) -> list[str]:
    """The variables of the inputs and outputs an ioSpecification marks optional."""
    io = node.find(q("ioSpecification"))
    if io is None:
        return []
    by_id = {el.get("id"): io_variable(el) for el in io
             if local_name(el) in ("dataInput", "dataOutput")}
    refs = [*io.iterfind(f"{q('inputSet')}/{q('optionalInputRefs')}"),
            *io.iterfind(f"{q('outputSet')}/{q('optionalOutputRefs')}")]
    return [by_id[r.text.strip()] for r in refs if r.text and r.text.strip() in by_id]


class DataParsing:
    """Task-parser mixin: data associations and ioSpecification as the package docstring
    describes them."""

    node: etree._Element
    task: Any
    spec: Any
    filename: str | None

    def parse_incoming_data_references(self) -> list[DataRead]:
        return [self._association(DataRead, a, "sourceRef", "dataInput")
                for a in self.node.iterfind(q("dataInputAssociation"))]

    def parse_outgoing_data_references(self) -> list[DataWrite]:
        return [self._association(DataWrite, a, "targetRef", "dataOutput")
                for a in self.node.iterfind(q("dataOutputAssociation"))]

    def _association(self, cls: type[DataAssociation], association: etree._Element,
                     outer_end: str, io_tag: str) -> DataAssociation:
        root = self.node.getroottree().getroot()
        refs = [(r.text or "").strip() for r in association.iterfind(q(outer_end))]
        found = far_end(root, refs[0] if refs else None)
        if found is None:
            raise ValidationException(
                f"the data association '{association.get('id')}' names no data object or "
                "data store", node=self.node, file_name=self.filename)
        kind, ref = found
        target = by_id(root, ref) if kind == "object" else None
        variable = data_object_variable(root, target) if target is not None else ref
        if kind == "variable":
            variable = ref
        inner_end = "targetRef" if outer_end == "sourceRef" else "sourceRef"
        inner = association.find(q(inner_end))
        inner_id = (inner.text or "").strip() if inner is not None else ""
        own = [el for el in self.node.iterfind(f"{q('ioSpecification')}/{q(io_tag)}")
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
    """``BpmnParser._add_data_stores``: stores are named by the associations
    (:class:`DataParsing`).

    SpiffWorkflow wants a Python class registered for each ``bpmn:dataStore`` name
    and refuses the file otherwise; here every data store is a database entry.
    """
