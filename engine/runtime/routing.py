"""Messages and signals that leave their instance: delivered to the others, as Camunda does.

SpiffWorkflow delivers a thrown event inside its own instance and hands back
what nothing there caught (:meth:`engine.bpmn.workflow.ProcessRun.take_thrown`).
The runtime defers the delivery to after the thrower is saved, in the same
transaction (:meth:`engine.runtime.commands.Runtime.defer`): the throw and every
delivery commit together or not at all, so an event is never lost and never
delivered twice, whatever stops the server.

- A **signal** reaches every instance that waits for it (catch events,
  boundary events, event-based gateways, event subprocess starts) and starts
  an instance of every latest definition with a signal start event of that
  name. Nobody listening is not an error.
- A **message** goes to the one instance that waits for it (by name; when
  several wait, the one with the thrower's business key), or starts the one
  definition with that message start event. A message nobody can take is an
  incident on the element that threw it, as Camunda fails the throw.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.bpmn.workflow import StepFailure, ThrownEvent, start_events
from engine.deployment.service import latest_definitions
from engine.errors import Conflict, NotFound
from engine.models import EventSubscription, ProcessDefinition, ProcessInstance

if TYPE_CHECKING:
    from engine.runtime.commands import Runtime
    from engine.runtime.store import InstanceRow

# How many instances one command's events may reach, through the events those
# instances throw in turn; past it the chain is taken for a loop.
MAX_DELIVERIES = 200


def deliver(runtime: Runtime, thrower: InstanceRow, events: list[ThrownEvent]) -> None:
    """Deliver what ``thrower`` threw (a deferred effect of its command)."""
    budget = runtime.session.info.setdefault("sertiflow_deliveries", [0])
    for event in events:
        budget[0] += 1
        if budget[0] > MAX_DELIVERIES:
            _fail(runtime, thrower, event, f"more than {MAX_DELIVERIES} messages and signals "
                  "in one chain of instances: the processes probably send them in a loop")
            return
        if event.kind == "signal":
            # The thrower's own catch events too: SpiffWorkflow hands a signal back
            # only when none of them waited for it when it was thrown (one reached
            # later in the same step, as a parallel branch's, gets it now).
            broadcast_signal(runtime, event.name, event.variables, actor=None)
        else:
            _send_message(runtime, thrower, event)


def broadcast_signal(runtime: Runtime, name: str, variables: Mapping[str, Any], *,
                     actor: str | None) -> int:
    """Deliver signal ``name`` to every waiting instance and start those it starts.

    Returns how many instances it reached (delivered or started).
    """
    reached = 0
    waiting = list(runtime.session.scalars(
        sa.select(EventSubscription.instance_id).distinct()
        .join(ProcessInstance, ProcessInstance.id == EventSubscription.instance_id)
        .where(EventSubscription.kind == "signal", EventSubscription.name == name,
               ProcessInstance.status == "running")
        .order_by(EventSubscription.instance_id)))
    for instance_id in waiting:
        if runtime.deliver_signal(instance_id, name, variables, actor=actor):
            reached += 1
    for definition in _signal_start_definitions(runtime, name):
        runtime.start_by_signal(definition, name, variables, actor=actor)
        reached += 1
    return reached


def _signal_start_definitions(runtime: Runtime, name: str) -> list[ProcessDefinition]:
    return [d for d in latest_definitions(runtime.session)
            if any(e.kind and "Signal" in e.kind and e.name == name
                   for e in start_events(runtime.stored_spec(d.id)))]


def _send_message(runtime: Runtime, thrower: InstanceRow, event: ThrownEvent) -> None:
    waiting = list(runtime.session.scalars(
        sa.select(EventSubscription.instance_id).distinct()
        .join(ProcessInstance, ProcessInstance.id == EventSubscription.instance_id)
        .where(EventSubscription.kind == "message", EventSubscription.name == event.name,
               ProcessInstance.id != thrower.id)
        .order_by(EventSubscription.instance_id)))
    business_key = None
    if len(waiting) > 1 and thrower.business_key:
        business_key = thrower.business_key
    try:
        runtime.correlate_message(event.name, business_key=business_key,
                                  variables=event.variables, actor=None,
                                  exclude=thrower.id)
    except Conflict as exc:
        _fail(runtime, thrower, event, str(exc))
    except NotFound:
        _fail(runtime, thrower, event, "no process waits for it and none starts with it: "
              "deploy the receiving process, or check the message's name")


def _fail(runtime: Runtime, thrower: InstanceRow, event: ThrownEvent, reason: str) -> None:
    runtime.open_incident(thrower, StepFailure(
        task_id=event.task_id, element_id=event.element_id, kind="message",
        message=f"the {event.kind} '{event.name}' was not delivered: {reason}", traceback=""))
