"""Compensation and transactions (BPMN 2.0.2 §10.6 and §13.5.7, as Camunda 7 runs them).

SpiffWorkflow 3.2 has no compensation. sertiflow adds it here:

**The model.** An activity with a compensation boundary event is compensable;
the activity that undoes it (its *handler*, ``isForCompensation="true"``) is
linked to the boundary event by an association and is not part of any
sequence flow. A sub-process may instead hold a *compensation event
sub-process* (an event sub-process whose start event is a compensation
event): it is what runs when the sub-process is compensated.

**Parsing.** :class:`CompensationProcessParser` (the parser's process parser)
leaves compensation boundary events out of SpiffWorkflow's boundary-event
structure (they catch nothing while the activity runs) and, once a
(sub-)process is parsed, builds each handler as a small process spec of its
own (``<handler id>.Compensation``: start, the handler, end, parsed in the
handler's own container) and names it in the compensable activity's spec
``extensions`` (``compensationHandler``; for a loop, on the spec of one
iteration). :meth:`SertiflowParser.get_subprocess_specs` adds those specs to
the definition. Compensation throw and end events and cancel end events get
the spec classes of :mod:`.running` (:class:`CompensationEvents`).

**Running.** A compensation throw or end event, when it runs, plans what to
compensate in its scope (the process or sub-process it is in): every
completed activity with a handler, newest completion first, each completion
once (so a loop's activity once per iteration), only ``activityRef``'s when
the event names one; a completed embedded sub-process without a handler of
its own stands for the activities inside it, recursively. Activities not
completed yet, or compensated by an earlier throw, are left out. It then runs
the handlers one after the other, each as a subworkflow of the throwing task
(the throw stays STARTED, as a sub-process does, so the instance can wait at
a user-task handler and be stored and restored there), and completes when
the last one has ended (Camunda's ``waitForCompletion``). A cancel end event
in a transaction first interrupts the rest of the transaction, compensates
its completed activities in the same way, and then throws the cancel event
that the transaction's cancel boundary event catches.

**State.** Everything lives in the throwing task's ``internal_data``
(``sertiflow_compensation``: the planned targets, the current one, those
done) and in its handler subworkflow, which the state serializer stores
under the throwing task (see :mod:`engine.bpmn.serializer`). The order of
completion is each completed task's ``last_state_change``, which SpiffWorkflow
sets once when the task completes and keeps with the task.

**Checking.** :func:`compensation_problems` refuses, by element and line,
what the engine would otherwise run wrongly or not at all.

**Upstream.** SpiffWorkflow (3.2 and before) has no compensation: it reads a
compensation throw or end event as a plain event and cannot parse a
compensation boundary event. No upstream change corresponds to the classes
here; they can give way if SpiffWorkflow gains compensation.

By job: the elements and keys shared by all (:mod:`.elements`), the rewrite
and the parsers (:mod:`.parsing`), the run time (:mod:`.running`), the checks
(:mod:`.validation`).
"""

from .elements import linked_handler_ids
from .parsing import (
    CompensationEvents,
    CompensationProcessParser,
    handler_specs,
    needs_rewrite,
    rewrite,
)
from .running import (
    STATE,
    CancelEndEvent,
    CompensationEndEvent,
    CompensationThrowEvent,
    reconnect,
    runs_handlers,
)
from .validation import compensation_problems

__all__ = [
    "STATE",
    "CancelEndEvent",
    "CompensationEndEvent",
    "CompensationEvents",
    "CompensationProcessParser",
    "CompensationThrowEvent",
    "compensation_problems",
    "handler_specs",
    "linked_handler_ids",
    "needs_rewrite",
    "reconnect",
    "rewrite",
    "runs_handlers",
]
