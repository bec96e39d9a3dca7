"""The hooks sertiflow runs on SpiffWorkflow's tasks to behave as Camunda 7.

Camunda's input/output mappings and listeners are kept by the parser in each
task spec's ``extensions`` (see :func:`engine.bpmn.parser.read_mappings_and_listeners`);
:func:`install` turns them into two hooks SpiffWorkflow already calls on every
task spec:

- ``pre_assign`` runs when the task becomes ready: the input mappings, then
  the ``start`` execution listeners, then, for a user task, the ``create`` task
  listeners and, when the task has an assignee, the ``assignment`` ones;
- ``post_assign`` runs after the task's own work, before it completes: the
  ``complete`` task listeners, the output mappings (read in the task's scope),
  the ``end`` execution listeners; then the input variables leave the process
  data again (they were local to the element), and the outputs are set.

A sub-process or call activity never becomes ready before its end, so its
start runs when it starts its child workflow (:class:`MappedCallActivity`),
which also applies ``camunda:in``/``camunda:out``.

By what they do:

- :mod:`.start_end`: the mappings and listeners of an element's start and end;
- :mod:`.call_activity`: sub-processes and call activities, ``camunda:in``/``out``;
- :mod:`.sharing`: one set of variables per instance, across branches, joins
  and embedded and event sub-processes (:func:`publish`);
- :mod:`.event_subprocesses`: what an interrupting event subprocess ends, and
  the event subprocesses that never started once their scope has ended;
- :mod:`.wiring`: the hooks put on a process spec, and a failed start run again.
"""

from .call_activity import MappedCallActivity, mapped_variables
from .event_subprocesses import end_idle_event_subprocesses, interrupt_scopes
from .sharing import changed_values, inner_changes, publish
from .start_end import TASK_CHANGES, context_info, run_process_end
from .wiring import failed_at_start, install, restart

__all__ = [
    "TASK_CHANGES",
    "MappedCallActivity",
    "changed_values",
    "context_info",
    "end_idle_event_subprocesses",
    "failed_at_start",
    "inner_changes",
    "install",
    "interrupt_scopes",
    "mapped_variables",
    "publish",
    "restart",
    "run_process_end",
]
