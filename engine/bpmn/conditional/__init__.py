"""Conditional events as Camunda 7 runs them.

A conditional event waits until its condition, a JUEL ``${...}`` or Python
expression on the process variables, is true. Camunda evaluates it when its
scope begins (the token reaches an intermediate event, the activity of a
boundary event starts, the process or sub-process of an event sub-process
starts) and again after every step that changes a variable the event can
see; ``camunda:variableName`` limits that to one variable and
``camunda:variableEvents`` to some kinds of change (``create``, ``update``,
``delete``). A condition that names a variable nobody has set is false, as
Camunda's ``tryEvaluate`` has it.

SpiffWorkflow 3.2 evaluates a conditional event only when its task is updated
(``ConditionalEventDefinition.has_fired``), which happens when the token
arrives and never again: a boundary event or an event sub-process whose
condition became true later was never taken. This package does the rest:

- :class:`CamundaConditionalEventDefinition` evaluates once on arrival and
  remembers that it did (``sertiflow_conditional_armed``, the moment it began
  to listen, in the task's internal data); a condition that raises fails the
  event's task, and the engine opens an incident on it;
- :func:`step_done`, called after every step (``ProcessRun.advance``, a user
  task's completion, ``ProcessRun.set_variables``), evaluates the event
  sub-process starts of a scope that begins, and after a change the waiting
  events and the event sub-process starts that see it, top-down (a scope's
  event sub-processes before the events inside it);
- an interrupting event ends what it interrupts at once (the engine's loop,
  :func:`run_engine_steps`, runs no task that was ended meanwhile), not after
  the rest of the step;
- a non-interrupting boundary event stays attached: each firing leaves a copy
  of it waiting (``engine.bpmn.specs.RearmedBoundaryEvent``), which does not
  evaluate on arrival but on the next change, so it fires again then (Camunda:
  each change that satisfies the condition triggers it again); a
  non-interrupting event sub-process starts again in the same way. One that
  fires 50 times in one command (its own path changes what it reads) is an
  incident rather than a loop without end.

What counts as one change: one step (a script, a user task's completion with
its form, a message's arrival, one ``set_variables`` call), whatever number of
variables it sets; Camunda evaluates per variable. A join that merges the
branches sets nothing.

The upstream counterpart would be a ``ConditionalEventDefinition`` that takes
part in SpiffWorkflow's ``refresh_waiting_tasks`` whenever task data changes,
a ``StartEvent`` trigger for conditional event sub-processes (``BpmnStartTask.
trigger_wf`` only reacts to caught events), and ``do_engine_steps`` skipping
tasks cancelled during the loop.

By job: the definition, how it is parsed and stored (:mod:`.definition`);
checking a deployment (:mod:`.validation`); evaluating a condition and failing
its task (:mod:`.evaluation`); firing (:mod:`.firing`); the conditional starts
of event sub-processes (:mod:`.event_subprocesses`); changes and what listens
to them, variables set from outside, an incident's retry (:mod:`.changes`);
the engine's loop (:mod:`.engine_loop`).
"""

from .changes import failed, retry, set_variables, step_done
from .definition import (
    CONVERTERS,
    CamundaConditionalEventDefinition,
    ConditionalEvents,
    start_conditions,
    upgrade_plain_definitions,
)
from .engine_loop import run_engine_steps
from .evaluation import ConditionError, ConditionFailed, condition_holds
from .validation import problems

__all__ = [
    "CONVERTERS",
    "CamundaConditionalEventDefinition",
    "ConditionError",
    "ConditionFailed",
    "ConditionalEvents",
    "condition_holds",
    "failed",
    "problems",
    "retry",
    "run_engine_steps",
    "set_variables",
    "start_conditions",
    "step_done",
    "upgrade_plain_definitions",
]
