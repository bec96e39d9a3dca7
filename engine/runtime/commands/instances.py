"""The commands on a whole instance: start, set variables, suspend, resume, cancel, retry.

:class:`~engine.runtime.commands.runtime.Runtime`'s methods of the same names
call these functions; what each command promises is documented there.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from engine.bpmn.workflow import ProcessRun
from engine.documents.rendering import RENDER_INCIDENT, requeue
from engine.errors import Conflict, InstanceNotRunning, InvalidInput, NotFound
from engine.models import Incident
from engine.runtime.commands.variables import (
    check_start_inputs,
    check_variables,
    initiator_variable,
)
from engine.runtime.projection import waits_digest
from engine.runtime.store import InstanceRow

if TYPE_CHECKING:
    from engine.runtime.commands.runtime import Runtime

# What an instance that waits for nothing has as its waits digest.
_NO_WAITS = waits_digest([], [])


def start_instance(
    rt: Runtime, key: str, *, variables: Mapping[str, Any] | None, business_key: str | None,
    actor: str | None, company: str | None, definition_id: str | None, by_start_timer: bool,
) -> InstanceRow:
    definition = rt.loader.definition(key, definition_id)
    if variables is not None:  # started by a caller, not by an event that brings them
        check_start_inputs(key, rt.loader.stored_spec(definition.id), variables)
    variables = dict(variables or {})
    check_variables(variables)
    now = rt.clock.now()
    instance = InstanceRow(
        id=str(uuid.uuid4()), definition_id=definition.id, definition_key=definition.key,
        business_key=business_key, status="running", revision=1,
        waits_digest=_NO_WAITS, state=b"", started_by=actor, company=company,
        started_at=now,
    )
    initiator = initiator_variable(rt.loader.stored_spec(definition.id))
    if initiator and actor:
        variables.setdefault(initiator, actor)
    run = ProcessRun.start(rt.loader.definition_specs(definition.id), variables,
                           rt.loader.script_engine(instance))
    if by_start_timer:
        run.advance()  # up to the waiting start event
        run.fire_start_timers()
    rt.store.insert(instance, now)
    rt.history.record(instance.id, "instance_started", actor=actor,
                      data={"variables": variables, "business_key": business_key,
                            "definition_id": definition.id})
    rt.advance_and_save(instance, run, actor, set())
    return instance


def set_variables(rt: Runtime, instance_id: str, variables: Mapping[str, Any] | None, *,
                  deletions: Sequence[str], actor: str | None) -> InstanceRow:
    variables = dict(variables or {})
    check_variables(variables)
    removed = list(dict.fromkeys(deletions))
    check_variables({name: None for name in removed})
    if not variables and not removed:
        raise InvalidInput("give variables to set or delete",
                           {"variables": "no variable given"})
    instance = rt.loader.running_instance(instance_id)
    run = rt.loader.workflow(instance)
    ready_before = run.ready_user_task_ids()
    run.set_variables(variables, removed)
    rt.history.record(instance.id, "variables_set", actor=actor,
                      data={"variables": variables,
                            **({"deletions": removed} if removed else {})})
    rt.advance_and_save(instance, run, actor, ready_before)
    return instance


def suspend(rt: Runtime, instance_id: str, *, actor: str | None, reason: str | None
            ) -> InstanceRow:
    instance = rt.loader.running_instance(instance_id)
    instance.status = "suspended"
    rt.history.record(instance.id, "instance_suspended", actor=actor,
                      data={"reason": reason} if reason else None)
    rt.loader.save_without_state(instance)
    return instance


def resume(rt: Runtime, instance_id: str, *, actor: str | None, reason: str | None
           ) -> InstanceRow:
    instance = rt.loader.instance(instance_id)
    if instance.status != "suspended":
        raise InstanceNotRunning(f"instance {instance_id} is {instance.status}, not suspended")
    instance.status = "error" if rt.store.has_open_incidents(instance.id) else "running"
    rt.history.record(instance.id, "instance_resumed", actor=actor,
                      data={"reason": reason} if reason else None)
    rt.loader.save_without_state(instance)
    return instance


def cancel(rt: Runtime, instance_id: str, *, actor: str | None, reason: str | None
           ) -> InstanceRow:
    instance = rt.loader.instance(instance_id)
    if instance.status in ("completed", "cancelled"):
        raise InstanceNotRunning(f"instance {instance_id} is already {instance.status}")
    run = rt.loader.workflow(instance)
    run.cancel()
    now = rt.clock.now()
    instance.status = "cancelled"
    instance.ended_at = now
    for task in rt.store.cancel_ready_tasks(instance.id, now):
        rt.history.record(instance.id, "task_cancelled", actor=actor,
                          element=task.element_id, task_id=task.id)
    rt.projection.waits(instance, [], [])
    rt.store.resolve_incidents(instance.id, now, actor)
    rt.history.record(instance.id, "instance_cancelled", actor=actor,
                      data={"reason": reason} if reason else None)
    rt.loader.save(instance, run)
    return instance


def retry_incident(rt: Runtime, incident_id: int, *, actor: str | None,
                   variables: Mapping[str, Any] | None) -> InstanceRow:
    variables = dict(variables or {})
    check_variables(variables)
    incident = rt.session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    instance = rt.loader.instance(incident.instance_id)
    rt.session.refresh(incident)  # current as of the instance lock
    if incident.status != "open":
        raise Conflict(f"incident {incident_id} is already resolved")
    if incident.kind == RENDER_INCIDENT:
        # A document that could not be made: back in the render queue. The instance
        # went on meanwhile; its state and status are not the incident's.
        requeue(rt.session, incident.id, rt.clock.now())
        rt.store.resolve_incidents(instance.id, rt.clock.now(), actor, incident.id)
        rt.history.record(instance.id, "incident_retried", actor=actor,
                          data={"incident": incident.id, "variables": {}})
        return instance
    if instance.status == "suspended":
        raise InstanceNotRunning(f"instance {instance.id} is suspended; resume it first")
    run = rt.loader.workflow(instance)
    ready_before = run.ready_user_task_ids()
    if incident.task_id is not None and incident.task_id in run.failed_task_ids():
        run.retry(incident.task_id, variables)
    rt.store.resolve_incidents(instance.id, rt.clock.now(), actor, incident.id)
    instance.status = "running"
    rt.history.record(instance.id, "incident_retried", actor=actor,
                      element=incident.element_id, task_id=incident.task_id,
                      data={"incident": incident.id, "variables": variables})
    rt.advance_and_save(instance, run, actor, ready_before)
    return instance
