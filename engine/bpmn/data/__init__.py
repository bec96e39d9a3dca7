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

By job: the names and references in the document (:mod:`.elements`), parsing
(:mod:`.parsing`), checking a deployment (:mod:`.validation`), data objects and
stores at run time (:mod:`.associations`), ioSpecification at run time
(:mod:`.io_specification`), and what is put on a process spec (:mod:`.wiring`).
"""

from .associations import (
    CONVERTERS,
    DataStoreAccess,
    start,
    take_written,
    visible_data_objects,
    without_data_objects,
)
from .io_specification import required_inputs
from .parsing import DataParsing, DataProcessParser, ignore_data_store_elements
from .validation import data_problems
from .wiring import install

__all__ = [
    "CONVERTERS",
    "DataParsing",
    "DataProcessParser",
    "DataStoreAccess",
    "data_problems",
    "ignore_data_store_elements",
    "install",
    "required_inputs",
    "start",
    "take_written",
    "visible_data_objects",
    "without_data_objects",
]
