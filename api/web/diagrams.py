"""Which BPMN diagrams to draw for an instance, and which of their elements to mark.

An instance runs its own definition version; the user tasks of a called
process (call activity) belong to the calling instance but are drawn in the
called process's own file. So the instance's diagram comes first, then the
diagram of every called process that holds a marked element the first lacks.
Customers get none: their pages show the progress in milestones instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.composition import Services
from engine.errors import NotFound
from engine.identity.access import Actor
from engine.models import HistoryEvent, Incident, ProcessInstance, Timer

ACTIVE = "sf-active"
COMPLETED = "sf-completed"
FAILED = "sf-failed"
TIMER = "sf-timer"
# History kinds that say an element ran to its end.
DONE_KINDS = frozenset({"element_completed", "task_completed", "timer_fired", "message_received"})


@dataclass
class Diagram:
    key: str
    version: int
    name: str | None
    xml: str
    markers: dict[str, list[str]] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {"key": self.key, "version": self.version, "name": self.name, "xml": self.xml,
                "markers": self.markers}


def _declares(xml: str, element_id: str) -> bool:
    return re.search(rf'\bid="{re.escape(element_id)}"', xml) is not None


def element_marks(*, active: Iterable[str], history: Iterable[HistoryEvent],
                  incidents: Iterable[Incident], timers: Iterable[Timer]) -> dict[str, set[str]]:
    """Element id -> marker classes: completed, active, failed, waiting on a timer."""
    marks: dict[str, set[str]] = {}
    for event in history:
        if event.kind in DONE_KINDS and event.element_id:
            marks.setdefault(event.element_id, set()).add(COMPLETED)
    for element in active:
        marks.setdefault(element, set()).add(ACTIVE)
    for timer in timers:
        marks.setdefault(timer.element_id, set()).add(TIMER)
    for incident in incidents:
        if incident.status == "open" and incident.element_id:
            marks.setdefault(incident.element_id, set()).add(FAILED)
    for classes in marks.values():
        if ACTIVE in classes or FAILED in classes:
            classes.discard(COMPLETED)  # a loop may come back to a step done before
        if TIMER in classes or FAILED in classes:
            classes.discard(ACTIVE)  # "waiting on a timer" or "failed" says more
    return marks


def diagrams_for(services: Services, instance: ProcessInstance,
                 marks: dict[str, set[str]], actor: Actor | None = None) -> list[Diagram]:
    """The instance's diagram and those of called processes with marked elements.

    None for a customer (``actor``): they read the progress view (``progress.py``);
    the diagrams are the staff's.
    """
    if actor is not None and actor.is_customer:
        return []
    own = services.deployments.get(instance.definition_id)
    diagrams = [Diagram(own.key, own.version, own.name, own.bpmn_xml)]
    unplaced = {e for e in marks if not _declares(own.bpmn_xml, e)}
    called = list((own.spec or {}).get("subprocess_specs") or {})
    for key in called:
        if not unplaced:
            break
        try:
            definition = services.deployments.latest(key)
        except NotFound:
            continue  # an embedded subprocess: drawn in the instance's own diagram
        found = {e for e in unplaced if _declares(definition.bpmn_xml, e)}
        if found:
            diagrams.append(Diagram(definition.key, definition.version, definition.name,
                                    definition.bpmn_xml))
            unplaced -= found
    for diagram in diagrams:
        diagram.markers = {e: sorted(c) for e, c in marks.items()
                           if _declares(diagram.xml, e)}
    return diagrams
