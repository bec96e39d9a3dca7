"""Where an instance stands, told as milestones: the customer's view of their application.

A customer does not read BPMN diagrams. Their instance page shows instead the
procedure's milestones in order (done, current, to come; step *n* of *N*), what
is asked of them now, their deadlines and the recent events in words.

The milestones come from the diagrams, not from a list in code: an analyst
marks an element customer-visible in Camunda Modeler with the extension
property ``milestone`` (*Properties panel → Extension properties*,
``<camunda:property name="milestone" value="Pembayaran"/>``); its value is the
milestone's label. Several elements with the same label are one milestone (a
check and its correction loop, a payment and its deadline). A call activity
without the property stands for the milestones of the process it calls, in
its place; with it, for one milestone covering everything the called process
does. Milestones are ordered as the flow first reaches them. A process that
marks nothing shows its user tasks and call activities by name instead, so any
deployed process has a progress view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from engine.composition import Services
from engine.errors import NotFound
from engine.models import ProcessInstance

from .bpmn_outline import Outline, outline
from .diagrams import ACTIVE, COMPLETED, FAILED, TIMER

MILESTONE = "milestone"
DONE = "done"
CURRENT = "current"
TO_COME = "to-come"
NOT_REACHED = "not-reached"
# An element with one of these marks is where the instance stands now.
_NOW = frozenset({ACTIVE, FAILED, TIMER})
# The user-task and call-activity kinds shown when a process marks no milestone.
_FALLBACK_KINDS = frozenset({"userTask", "callActivity"})


@dataclass
class Milestone:
    """One step of the procedure as its customer knows it."""

    label: str
    elements: set[str] = field(default_factory=set)
    state: str = TO_COME


@dataclass
class Progress:
    milestones: list[Milestone]
    #: 1-based number of the current milestone (the last one reached), 0 before any.
    step: int

    @property
    def total(self) -> int:
        return len(self.milestones)


def outlines_for(services: Services, instance: ProcessInstance) -> dict[str, Outline]:
    """The outline of the instance's own process and of every process it may call."""
    own = services.deployments.get(instance.definition_id)
    found = {own.key: outline(own.id, own.key, own.bpmn_xml)}
    pending = [e.called for e in found[own.key].elements.values() if e.called]
    while pending:
        key = pending.pop()
        if key in found:
            continue
        try:
            definition = services.deployments.latest(key)
        except NotFound:
            continue
        found[key] = outline(definition.id, definition.key, definition.bpmn_xml)
        pending.extend(e.called for e in found[key].elements.values() if e.called)
    return found


def element_names(outlines: Iterable[Outline]) -> dict[str, str]:
    """Element id -> its name, over the given processes (for history and timers)."""
    names: dict[str, str] = {}
    for each in outlines:
        for element in each.elements.values():
            if element.name:
                names.setdefault(element.id, element.name)
    return names


def message_labels(outlines: Iterable[Outline]) -> dict[str, str]:
    """Message name -> the name of the event that waits for it (a payment received...)."""
    labels: dict[str, str] = {}
    for each in outlines:
        for element in each.elements.values():
            if element.message and element.name:
                labels.setdefault(element.message, element.name)
    return labels


def _everything(outlines: dict[str, Outline], key: str, seen: frozenset[str]) -> set[str]:
    """Every element of process ``key`` and of what it calls."""
    if key in seen or key not in outlines:
        return set()
    ids = set(outlines[key].elements)
    for element in outlines[key].elements.values():
        if element.called:
            ids |= _everything(outlines, element.called, seen | {key})
    return ids


def _collect(outlines: dict[str, Outline], key: str, seen: frozenset[str],
             pick: Callable[[str, str], str | None], add: Callable[[str, set[str]], None]
             ) -> None:
    each = outlines.get(key)
    if each is None or key in seen:
        return
    for element_id in each.order:
        element = each.elements[element_id]
        label = pick(key, element_id)
        if element.called and element.called in outlines:
            inner = _everything(outlines, element.called, seen | {key})
            if label:
                add(label, {element_id} | inner)
            else:
                _collect(outlines, element.called, seen | {key}, pick, add)
        elif label:
            add(label, {element_id})


def milestones_of(outlines: dict[str, Outline], top: str) -> list[Milestone]:
    """The milestones of process ``top`` (with what it calls), in flow order."""
    found: dict[str, Milestone] = {}

    def add(label: str, ids: set[str]) -> None:
        found.setdefault(label, Milestone(label)).elements.update(ids)

    def marked(key: str, element_id: str) -> str | None:
        return outlines[key].elements[element_id].properties.get(MILESTONE) or None

    _collect(outlines, top, frozenset(), marked, add)
    if not found:
        def plain(key: str, element_id: str) -> str | None:
            element = outlines[key].elements[element_id]
            if key != top or element.kind not in _FALLBACK_KINDS:
                return None
            return element.name or None
        _collect(outlines, top, frozenset(), plain, add)
    return list(found.values())


def progress(milestones: list[Milestone], marks: dict[str, set[str]],
             running: bool) -> Progress:
    """Each milestone's state from the diagram's marks (``diagrams.element_marks``).

    The current milestones are those with an element active, failed or waiting
    on a timer; everything before the last of them is done (a step the flow
    went around, too: the instance is past it). An ended instance has no
    current milestone; those it never reached are shown as not reached.
    """
    def has(milestone: Milestone, wanted: frozenset[str]) -> bool:
        return any(marks.get(e, set()) & wanted for e in milestone.elements)

    now = [i for i, m in enumerate(milestones) if has(m, _NOW)] if running else []
    reached = [i for i, m in enumerate(milestones) if has(m, frozenset({COMPLETED}))]
    last = max(now) if now else (max(reached) if reached else -1)
    for index, milestone in enumerate(milestones):
        if index in now:
            milestone.state = CURRENT
        elif index < last or (index == last and not running) or index in reached:
            milestone.state = DONE
        else:
            milestone.state = TO_COME if running else NOT_REACHED
    return Progress(milestones, last + 1)
