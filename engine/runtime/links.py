"""Service topics that connect process instances: start another process, hold and release one.

They are how processes hand work to each other when a call activity does not
fit, because the other process has a life of its own:

- ``process.start`` starts a process once this instance is saved. An approval can
  start a yearly review cycle this way, which outlives the request that made it.
- ``instance.hold`` and ``instance.release`` suspend and resume the instance with a
  given business key. A dispute can hold the customer's request until it is
  settled, and its timers and service clock stop meanwhile.

The work happens after the calling instance is saved, in the same transaction. If
it fails, the whole command fails, so nothing is left half done. The checks that
can be made at once are made inside the handler, so a mistake in the model becomes
an incident on the calling instance.

Properties on the service task (``camunda:property``):

``processKey``
    ``process.start``: the key of the process to start. ``instance.hold`` and
    ``instance.release`` may use it to narrow the search.
``businessKey``
    The *name of the variable* that holds the business key: the business key of the
    started instance, or of the instance to hold or release.
``variables``
    ``process.start``: comma-separated names of the variables passed to the new
    instance. Without it, none are passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from engine.deployment.service import latest_definition
from engine.errors import InvalidInput, NotFound
from engine.models import ProcessInstance
from engine.runtime.commands import Runtime
from engine.runtime.handlers import HandlerContext, TopicRegistry, context_of, property_of
from engine.runtime.service_call import ServiceCall

START = "process.start"
HOLD = "instance.hold"
RELEASE = "instance.release"


def register_links(registry: TopicRegistry) -> None:
    registry.register(START, start_process)
    registry.register(HOLD, hold_instance)
    registry.register(RELEASE, release_instance)


def start_process(call: ServiceCall) -> Mapping[str, Any] | None:
    context = context_of(call)
    key = property_of(call, "processKey")
    if latest_definition(context.session, key) is None:
        raise NotFound(f"{START}: process '{key}' is not deployed")
    business_key = _business_key(call) if call.properties.get("businessKey") else None
    names = [n.strip() for n in call.properties.get("variables", "").split(",") if n.strip()]
    missing = [n for n in names if n not in call.variables]
    if missing:
        raise InvalidInput(f"{START}: the variables {', '.join(missing)} are not set")
    variables = {n: call.variables[n] for n in names}
    caller, company = context.instance_id, context.company

    def start(runtime: Runtime) -> None:
        started = runtime.start_instance(key, variables=variables, business_key=business_key,
                                         company=company)
        runtime.history.record(caller, "process_started", element=call.element_id,
                               data={"process": key, "instance_id": started.id,
                                     "business_key": business_key})

    context.after_command(start)
    return None


def hold_instance(call: ServiceCall) -> Mapping[str, Any] | None:
    context = context_of(call)
    target = _target(call, context, status="running")
    reason = f"{call.element_id} of instance {context.instance_id}"
    context.after_command(lambda runtime: runtime.suspend(target, actor=None, reason=reason))
    return None


def release_instance(call: ServiceCall) -> Mapping[str, Any] | None:
    context = context_of(call)
    target = _target(call, context, status="suspended")
    reason = f"{call.element_id} of instance {context.instance_id}"
    context.after_command(lambda runtime: runtime.resume(target, actor=None, reason=reason))
    return None


def _business_key(call: ServiceCall) -> str:
    variable = property_of(call, "businessKey")
    value = call.variables.get(variable)
    if value in (None, ""):
        raise InvalidInput(f"{call.topic}: variable '{variable}' (the business key) is not set")
    return str(value)


def _target(call: ServiceCall, context: HandlerContext, *, status: str) -> str:
    """The one other instance with the business key, in ``status``."""
    key = _business_key(call)
    query = sa.select(ProcessInstance.id).where(
        ProcessInstance.business_key == key, ProcessInstance.status == status,
        ProcessInstance.id != context.instance_id)
    if call.properties.get("processKey"):
        query = query.where(ProcessInstance.definition_key == call.properties["processKey"])
    found = list(context.session.scalars(query))
    if len(found) != 1:
        what = "no" if not found else f"{len(found)}"
        raise NotFound(f"{call.topic}: {what} {status} instance with business key '{key}'")
    return found[0]
