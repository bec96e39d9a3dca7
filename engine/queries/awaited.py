"""Awaited messages as work: the messages instances wait for that people record.

A message normally arrives from another system. When a person records it
instead (the bank's notice is on paper, the laboratory mails its report), the
process says who: the catching element (an intermediate catch event, a receive
task, or a catch event after an event-based gateway) carries the Camunda
extension property ``recordedBy`` naming a role, which an analyst sets in
Camunda Modeler's "Extension properties" panel::

    <camunda:properties><camunda:property name="recordedBy" value="finance"/></camunda:properties>

Its deadline is the due time of a timer racing the message: the timer after
the same event-based gateway, or a timer boundary event on the receive task.

What the process files say is read once per definition version from its stored
spec (specs never change once deployed) into a :class:`Catalogue`; a page of
the list is then one query with its count, whatever the number of rows.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.identity.access import Actor
from engine.models import EventSubscription, ProcessDefinition, ProcessInstance, Timer
from engine.queries.lists import Page, page_bounds

RECORDED_BY = "recordedBy"


@dataclass(frozen=True)
class Catch:
    """One element of a definition that waits for a message a person records."""

    element_id: str
    message: str
    role: str
    #: The element's name in the diagram ("Payment received").
    label: str
    #: Timer elements racing this message; the earliest one due is its deadline.
    timers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AwaitedMessage:
    """A message an instance waits for, as an entry of a task list."""

    instance_id: str
    message: str
    element_id: str
    label: str
    role: str
    definition_key: str
    business_key: str | None
    company: str | None
    waiting_since: datetime
    deadline: datetime | None


@dataclass
class Catalogue:
    """The catching elements with ``recordedBy`` of each definition version seen so far."""

    _by_definition: dict[str, dict[tuple[str, str], Catch]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def catches(self, definition_id: str, load: Callable[[], Mapping[str, Any]]
                ) -> dict[tuple[str, str], Catch]:
        """(element id, message name) -> catch, read from the stored spec once."""
        found = self._by_definition.get(definition_id)
        if found is None:
            built = catches_of(load())
            with self._lock:
                found = self._by_definition.setdefault(definition_id, built)
        return found


def catches_of(stored: Mapping[str, Any]) -> dict[tuple[str, str], Catch]:
    """The message catches with a ``recordedBy`` property in a stored definition spec.

    A message after an event-based gateway is listed under its event's id and the
    gateway's, with the timers after the same gateway as its racers.
    """
    found: dict[tuple[str, str], Catch] = {}
    processes = [stored.get("spec") or {}, *(stored.get("subprocess_specs") or {}).values()]
    for process in processes:
        specs: Mapping[str, Any] = process.get("task_specs") or {}
        for name, spec in specs.items():
            if spec.get("typename") == "WaitingEventBasedGateway":
                _gateway(name, spec, specs, found)
                continue
            message = _message_name(spec.get("event_definition"))
            role = _role(spec)
            if message and role:
                found[(name, message)] = Catch(name, message, role, spec.get("bpmn_name") or "",
                                               _racing_timers(name, spec, specs))
    return found


def _gateway(name: str, spec: Mapping[str, Any], specs: Mapping[str, Any],
             found: dict[tuple[str, str], Catch]) -> None:
    # The gateway's event definitions follow the order of its outgoing events.
    definitions = (spec.get("event_definition") or {}).get("event_definitions") or []
    outputs = list(spec.get("outputs") or [])
    timers = frozenset(out for out, definition in zip(outputs, definitions, strict=False)
                       if _is_timer(definition))
    for output, definition in zip(outputs, definitions, strict=False):
        message = _message_name(definition)
        role = _role(specs.get(output) or {})
        if message and role:
            label = (specs.get(output) or {}).get("bpmn_name") or ""
            # The subscription names the event (or, in older specs, the gateway).
            for element in (output, name):
                found[(element, message)] = Catch(element, message, role, label, timers)


def _racing_timers(name: str, spec: Mapping[str, Any], specs: Mapping[str, Any]
                   ) -> frozenset[str]:
    """Timer events that share the element's incoming split (its boundary timers)."""
    inputs = set(spec.get("inputs") or [])
    return frozenset(
        other for other, candidate in specs.items()
        if other != name and inputs & set(candidate.get("inputs") or [])
        and _is_timer(candidate.get("event_definition")))


def _is_timer(definition: Any) -> bool:
    """Whether a stored event definition is a timer's (date, duration or cycle)."""
    typename = str(definition.get("typename", "")) if isinstance(definition, Mapping) else ""
    return any(word in typename for word in ("Time", "Clock", "Duration", "Cycle"))


def _message_name(definition: Any) -> str | None:
    if not isinstance(definition, Mapping) or "Message" not in str(definition.get("typename")):
        return None
    name = definition.get("name")
    return str(name) if name else None


def _role(spec: Mapping[str, Any]) -> str | None:
    properties = (spec.get("extensions") or {}).get("properties") or {}
    value = str(properties.get(RECORDED_BY) or "").strip()
    return value or None


class AwaitedWork:
    """The awaited messages a person may record, as a paged list."""

    def __init__(self, session: Session, catalogue: Catalogue,
                 stored_spec: Callable[[str], Mapping[str, Any]]) -> None:
        self.session = session
        self.catalogue = catalogue
        self.stored_spec = stored_spec

    def recorded_by(self, definition_ids: Iterable[str]) -> dict[tuple[str, str, str], Catch]:
        """(definition id, element id, message) -> catch, for these definitions."""
        found: dict[tuple[str, str, str], Catch] = {}
        for definition_id in definition_ids:
            load = functools.partial(self.stored_spec, definition_id)
            for (element, message), catch in self.catalogue.catches(definition_id, load).items():
                found[(definition_id, element, message)] = catch
        return found

    def of_instance(self, instance_id: str) -> dict[str, Catch]:
        """Message name -> the catch that records it, for one instance's current waits."""
        row = self.session.execute(
            sa.select(ProcessInstance.definition_id).where(ProcessInstance.id == instance_id)
        ).first()
        if row is None:
            return {}
        names = self.session.execute(
            sa.select(EventSubscription.element_id, EventSubscription.name)
            .where(EventSubscription.instance_id == instance_id,
                   EventSubscription.kind == "message"))
        catches = self.recorded_by([row[0]])
        return {name: catches[(row[0], element, name)] for element, name in names
                if (row[0], element, name) in catches}

    def list(self, actor: Actor, *, role: str | None = None, page: int = 1,
             per_page: int = 50) -> Page[AwaitedMessage]:
        """The awaited messages ``actor`` records (an admin: all), earliest deadline first.

        A customer records none. ``role`` narrows the list to one role's.
        """
        offset, limit = page_bounds(page, per_page)
        if actor.is_customer:
            return Page([], 0, page, per_page)
        definitions = list(self.session.scalars(sa.select(ProcessDefinition.id)))
        catches = {key: catch for key, catch in self.recorded_by(definitions).items()
                   if (actor.is_admin or catch.role in actor.roles)
                   and (role is None or catch.role == role)}
        if not catches:
            return Page([], 0, page, per_page)
        timers = sorted({t for catch in catches.values() for t in catch.timers})
        deadline = (sa.select(sa.func.min(Timer.due_at))
                    .where(Timer.instance_id == EventSubscription.instance_id,
                           Timer.element_id.in_(timers or [""]))
                    .scalar_subquery().label("deadline"))
        pair = sa.tuple_(ProcessInstance.definition_id, EventSubscription.element_id,
                         EventSubscription.name)
        where = [EventSubscription.kind == "message", ProcessInstance.status == "running",
                 pair.in_(list(catches))]
        joined = sa.join(EventSubscription, ProcessInstance,
                         ProcessInstance.id == EventSubscription.instance_id)
        rows = self.session.execute(
            sa.select(EventSubscription.instance_id, EventSubscription.element_id,
                      EventSubscription.name, ProcessInstance.definition_id,
                      ProcessInstance.definition_key, ProcessInstance.business_key,
                      ProcessInstance.company, ProcessInstance.updated_at, deadline)
            .select_from(joined).where(*where)
            .order_by(sa.case((deadline.is_(None), 1), else_=0), deadline,
                      ProcessInstance.updated_at, EventSubscription.id)
            .offset(offset).limit(limit)).all()
        if offset == 0 and len(rows) < limit:
            total = len(rows)
        else:
            total = int(self.session.scalar(
                sa.select(sa.func.count()).select_from(joined).where(*where)) or 0)
        items = []
        for row in rows:
            catch = catches[(row.definition_id, row.element_id, row.name)]
            items.append(AwaitedMessage(
                instance_id=row.instance_id, message=row.name, element_id=row.element_id,
                label=catch.label, role=catch.role, definition_key=row.definition_key,
                business_key=row.business_key, company=row.company,
                waiting_since=row.updated_at, deadline=row.deadline))
        return Page(items, total, page, per_page)
