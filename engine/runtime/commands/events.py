"""The commands that bring an event to instances: messages, signals, conditions.

A message goes to the one instance that waits for it, or starts the process
whose start event waits for it; a signal is given to one waiting instance, or
starts one whose signal start event catches it (:mod:`engine.runtime.routing`
broadcasts it to all); conditional start events start every process whose
condition holds. :class:`~engine.runtime.commands.runtime.Runtime`'s methods of
the same names call these functions; what each promises is documented there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.bpmn import conditional
from engine.bpmn.workflow import start_events
from engine.deployment.service import latest_definitions, no_definition
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import EventSubscription, ProcessDefinition, ProcessInstance
from engine.runtime.commands.variables import check_variables
from engine.runtime.store import InstanceRow

if TYPE_CHECKING:
    from engine.runtime.commands.runtime import Runtime


# -- messages ---------------------------------------------------------------------------

def waiting_instance(rt: Runtime, name: str, *, business_key: str | None,
                     instance_id: str | None, exclude: str | None) -> str | None:
    query = (sa.select(EventSubscription.instance_id).distinct()
             .join(ProcessInstance, ProcessInstance.id == EventSubscription.instance_id)
             .where(EventSubscription.kind == "message", EventSubscription.name == name))
    if exclude is not None:
        query = query.where(ProcessInstance.id != exclude)
    if instance_id is not None:
        query = query.where(ProcessInstance.id == instance_id)
    if business_key is not None:
        query = query.where(ProcessInstance.business_key == business_key)
    matches = list(rt.session.scalars(query.limit(2)))
    if len(matches) > 1:
        raise Conflict(f"several instances wait for message '{name}'; "
                       "name the instance or a unique business key")
    return matches[0] if matches else None


def correlate_message(
    rt: Runtime, name: str, *, business_key: str | None, instance_id: str | None,
    variables: Mapping[str, Any] | None, actor: str | None, exclude: str | None,
) -> InstanceRow:
    variables = dict(variables or {})
    check_variables(variables)
    waiting = waiting_instance(rt, name, business_key=business_key, instance_id=instance_id,
                               exclude=exclude)
    if waiting is None:
        if instance_id is None:
            starter = _message_start_definition(rt, name)
            if starter is not None:
                return _start_by_message(rt, starter, name, variables, business_key, actor)
        raise NotFound(f"no instance waits for message '{name}'"
                       + (f" with business key '{business_key}'" if business_key else ""))
    instance = rt.loader.running_instance(waiting)
    run = rt.loader.workflow(instance)
    ready_before = run.ready_user_task_ids()
    if run.correlate_message(name, variables) == 0:
        raise Conflict(f"instance {instance.id} no longer waits for message '{name}'")
    rt.history.record(instance.id, "message_received", actor=actor,
                      data={"message": name, "variables": variables})
    rt.advance_and_save(instance, run, actor, ready_before)
    return instance


def _message_start_definition(rt: Runtime, name: str) -> ProcessDefinition | None:
    for definition in latest_definitions(rt.session):
        if name in _start_messages(rt.loader.stored_spec(definition.id)):
            return definition
    return None


def _start_messages(stored_spec: Mapping[str, Any]) -> list[str]:
    return [str(e.name) for e in start_events(stored_spec)
            if e.kind and "Message" in e.kind]


def _start_by_message(rt: Runtime, definition: ProcessDefinition, name: str,
                      variables: dict[str, Any], business_key: str | None,
                      actor: str | None) -> InstanceRow:
    instance = rt.start_instance(definition.key, definition_id=definition.id,
                                 business_key=business_key, actor=actor)
    run = rt.loader.take_saved(instance.id)
    ready_before = run.ready_user_task_ids()
    run.correlate_message(name, variables)
    rt.history.record(instance.id, "message_received", actor=actor,
                      data={"message": name, "variables": variables})
    rt.advance_and_save(instance, run, actor, ready_before)
    return instance


# -- signals ----------------------------------------------------------------------------

def deliver_signal(rt: Runtime, instance_id: str, name: str, variables: Mapping[str, Any], *,
                   actor: str | None) -> bool:
    instance = rt.loader.instance(instance_id)
    if instance.status != "running":
        return False
    run = rt.loader.workflow(instance)
    ready_before = run.ready_user_task_ids()
    if run.correlate_signal(name, variables) == 0:
        return False  # the subscription was stale; the next command reloads it
    rt.history.record(instance.id, "signal_received", actor=actor,
                      data={"signal": name, "variables": dict(variables)})
    rt.advance_and_save(instance, run, actor, ready_before)
    return True


def start_by_signal(rt: Runtime, definition: ProcessDefinition, name: str,
                    variables: Mapping[str, Any], *, actor: str | None) -> InstanceRow:
    instance = rt.start_instance(definition.key, definition_id=definition.id, actor=actor)
    run = rt.loader.take_saved(instance.id)
    ready_before = run.ready_user_task_ids()
    run.correlate_signal(name, variables)
    rt.history.record(instance.id, "signal_received", actor=actor,
                      data={"signal": name, "variables": dict(variables)})
    rt.advance_and_save(instance, run, actor, ready_before)
    return instance


# -- conditions -------------------------------------------------------------------------

def start_by_conditions(
    rt: Runtime, variables: Mapping[str, Any] | None, *, business_key: str | None,
    definition_id: str | None, actor: str | None, company: str | None,
    may_start: Callable[[ProcessDefinition], bool],
) -> list[InstanceRow]:
    variables = dict(variables or {})
    check_variables(variables)
    started = []
    # Each process starts as soon as its condition holds, before the next is evaluated.
    for definition in _conditions_holding(rt, variables, business_key, definition_id):
        if not may_start(definition):
            raise Forbidden(f"you may not start {definition.key}")
        started.append(rt.start_instance(
            definition.key, definition_id=definition.id, variables=variables,
            business_key=business_key, actor=actor, company=company))
    return started


def _conditions_holding(rt: Runtime, variables: dict[str, Any], business_key: str | None,
                        definition_id: str | None) -> Iterator[ProcessDefinition]:
    """The definitions, one per conditional start event, whose condition holds on ``variables``.

    :raises InvalidInput: when no process (or not the one named) has a conditional
        start event, or a condition cannot be evaluated.
    """
    if definition_id is not None:
        found = rt.session.get(ProcessDefinition, definition_id)
        if found is None:
            raise no_definition(definition_id)
        candidates = [found]
    else:
        candidates = latest_definitions(rt.session)
    subscribed = [(definition, event) for definition in candidates
                  for event in conditional.start_conditions(rt.loader.stored_spec(definition.id))]
    if not subscribed:
        raise InvalidInput("no process has a conditional start event"
                           + (f" (not {definition_id})" if definition_id else ""))
    for definition, (element, expression, variable_name) in subscribed:
        if variable_name is not None and variable_name not in variables:
            continue
        context = {"processInstanceId": None, "businessKey": business_key,
                   "processDefinitionId": definition.key, "activityId": element,
                   "activityName": None, "activityInstanceId": None,
                   "eventName": None, "now": rt.clock.now().isoformat()}
        try:
            holds = conditional.condition_holds(rt.sandbox, expression, variables, context)
        except conditional.ConditionFailed as exc:
            raise InvalidInput(f"the conditional start event '{element}' of process "
                               f"'{definition.key}': {exc.message}") from exc
        if holds:
            yield definition
