"""Checking a deployment's compensation and cancel events: one problem each for what
the engine would otherwise run wrongly or not at all."""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from ...errors import Problem
from .elements import (
    ACTIVITY_TAGS,
    SUBPROCESS_TAGS,
    compensation_event_subprocess,
    definition_of,
    is_compensation_boundary,
    linked_handlers,
    local_name,
    q,
)


def compensation_problems(name: str, process: etree._Element) -> Iterator[Problem]:
    """Compensation and cancel events drawn so that they cannot run: one problem each."""
    root = process.getroottree().getroot()
    handlers_linked: set[str] = set()
    for el in process.iter():
        tag = local_name(el)
        compensate = definition_of(el) is not None
        cancel = definition_of(el, "cancelEventDefinition") is not None
        if compensate and tag == "boundaryEvent":
            found = list(_boundary_problems(name, el, root))
            yield from found
            handlers_linked.update(str(h.get("id")) for h in linked_handlers(el, root))
        elif compensate and tag == "intermediateCatchEvent":
            yield _problem(name, el, "a compensation catch event must be a boundary event on "
                           "the activity it undoes, linked to its handler by an association")
        elif compensate and tag == "startEvent":
            yield from _start_problems(name, el)
        elif compensate and tag in ("intermediateThrowEvent", "endEvent"):
            yield from _throw_problems(name, el)
        if cancel:
            yield from _cancel_problems(name, el, tag)
        if compensate and _inside(el, "adHocSubProcess"):
            yield _problem(name, el, "compensation inside an ad-hoc sub-process is not "
                           "supported: use an embedded sub-process")
    for el in process.iter():
        if el.get("isForCompensation") == "true" and local_name(el) in ACTIVITY_TAGS:
            yield from _handler_problems(name, el, str(el.get("id")) in handlers_linked)


def _problem(name: str, el: etree._Element, message: str) -> Problem:
    return Problem(name, message, el.get("id"), el.sourceline)


def _inside(el: etree._Element, tag: str) -> bool:
    parent = el.getparent()
    while parent is not None:
        if local_name(parent) == tag:
            return True
        parent = parent.getparent()
    return False


def _flows(container: etree._Element, attribute: str, element_id: str) -> list[str]:
    return [str(f.get("id")) for f in container.iterfind(q("sequenceFlow"))
            if f.get(attribute) == element_id]


def _boundary_problems(name: str, boundary: etree._Element, root: etree._Element
                       ) -> Iterator[Problem]:
    boundary_id = str(boundary.get("id"))
    container = boundary.getparent()
    activity_id = boundary.get("attachedToRef")
    outgoing = _flows(container, "sourceRef", boundary_id)
    if outgoing:
        yield _problem(name, boundary, f"compensation boundary event '{boundary_id}' has an "
                       f"outgoing sequence flow ({', '.join(outgoing)}): it starts no flow; "
                       "link its handler with an association instead")
    handlers = linked_handlers(boundary, root)
    if not handlers:
        yield _problem(name, boundary, f"compensation boundary event '{boundary_id}' has no "
                       "handler: draw an association from it to the activity that undoes "
                       f"'{activity_id}', and mark that activity 'For compensation'")
    elif len(handlers) > 1:
        names = ", ".join(str(h.get("id")) for h in handlers)
        yield _problem(name, boundary, f"compensation boundary event '{boundary_id}' is linked "
                       f"to {len(handlers)} handlers ({names}); it has exactly one")
    for handler in handlers:
        handler_id = handler.get("id")
        if handler.get("isForCompensation") != "true":
            yield _problem(name, handler, f"'{handler_id}' is linked to compensation boundary "
                           f"event '{boundary_id}' but is not marked for compensation: tick "
                           "'For compensation' (isForCompensation=\"true\") on it")
        elif handler.getparent() is not container:
            yield _problem(name, handler, f"compensation handler '{handler_id}' must be in the "
                           f"same process or sub-process as the activity '{activity_id}' "
                           "it undoes")
    siblings = [b for b in container if is_compensation_boundary(b)
                and b.get("attachedToRef") == activity_id]
    if len(siblings) > 1 and siblings[0] is not boundary:
        yield _problem(name, boundary, f"activity '{activity_id}' has more than one "
                       "compensation boundary event; one handler undoes it")
    activity = next((a for a in container if a.get("id") == activity_id), None)
    if activity is not None and local_name(activity) in SUBPROCESS_TAGS and (
            compensation_event_subprocess(activity) is not None):
        yield _problem(name, boundary, f"sub-process '{activity_id}' has both a compensation "
                       "boundary event and a compensation event sub-process: keep one of them")


def _handler_problems(name: str, handler: etree._Element, linked: bool) -> Iterator[Problem]:
    handler_id = str(handler.get("id"))
    container = handler.getparent()
    flows = [*_flows(container, "targetRef", handler_id),
             *_flows(container, "sourceRef", handler_id)]
    if flows:
        yield _problem(name, handler, f"compensation handler '{handler_id}' is part of the "
                       f"sequence flow ({', '.join(flows)}): a handler runs only when its "
                       "activity is compensated; remove its sequence flows")
    if not linked:
        yield _problem(name, handler, f"compensation handler '{handler_id}' is linked to no "
                       "compensation boundary event: draw an association from the "
                       "compensation boundary event of the activity it undoes")
    attached = [str(b.get("id")) for b in container.iterfind(q("boundaryEvent"))
                if b.get("attachedToRef") == handler_id]
    if attached:
        yield _problem(name, handler, f"compensation handler '{handler_id}' has boundary "
                       f"events ({', '.join(attached)}), which a handler cannot have")


def _start_problems(name: str, start: etree._Element) -> Iterator[Problem]:
    event_subprocess = start.getparent()
    if not (local_name(event_subprocess) == "subProcess"
            and event_subprocess.get("triggeredByEvent") == "true"):
        yield _problem(name, start, "a compensation start event belongs to an event "
                       "sub-process inside a sub-process (it runs when that sub-process "
                       "is compensated)")
        return
    scope = event_subprocess.getparent()
    if local_name(scope) not in SUBPROCESS_TAGS:
        yield _problem(name, start, "a compensation event sub-process runs when the "
                       "sub-process it is in is compensated; draw it inside a sub-process, "
                       "not at the top of the process")
    elif compensation_event_subprocess(scope) is not event_subprocess:
        yield _problem(name, start, f"sub-process '{scope.get('id')}' has more than one "
                       "compensation event sub-process; keep one")


def _throw_problems(name: str, event: etree._Element) -> Iterator[Problem]:
    definition = definition_of(event)
    ref = definition.get("activityRef") if definition is not None else None
    if not ref:
        return
    scope = event.getparent()
    start = next((s for s in scope if local_name(s) == "startEvent"), None)
    if (local_name(scope) == "subProcess" and start is not None
            and definition_of(start) is not None):
        scope = scope.getparent()  # a compensation event sub-process's own sub-process
    activities = {str(a.get("id")): a for a in scope if local_name(a) in ACTIVITY_TAGS
                  and a.get("isForCompensation") != "true"
                  and a.get("triggeredByEvent") != "true"}
    target = activities.get(ref)
    if target is None:
        known = ", ".join(sorted(activities)) or "none"
        yield _problem(name, event, f"the compensation event's activityRef '{ref}' names no "
                       f"activity of its process or sub-process (its activities: {known})")
        return
    compensable = any(is_compensation_boundary(b) and b.get("attachedToRef") == ref
                      for b in scope) or local_name(target) in SUBPROCESS_TAGS
    if not compensable:
        yield _problem(name, event, f"the compensation event's activityRef '{ref}' names an "
                       "activity without a compensation boundary event: nothing would undo it")


def _cancel_problems(name: str, el: etree._Element, tag: str) -> Iterator[Problem]:
    parent = el.getparent()
    if tag == "endEvent":
        if local_name(parent) != "transaction":
            yield _problem(name, el, "a cancel end event ends a transaction: draw it inside a "
                           "transaction sub-process")
            return
        container = parent.getparent()
        boundaries = [b for b in container if local_name(b) == "boundaryEvent"
                      and b.get("attachedToRef") == parent.get("id")
                      and definition_of(b, "cancelEventDefinition") is not None]
        if not boundaries:
            yield _problem(name, el, f"transaction '{parent.get('id')}' has a cancel end event "
                           "but no cancel boundary event to leave by: attach one to it")
    elif tag == "boundaryEvent":
        container = parent
        host = next((a for a in container if a.get("id") == el.get("attachedToRef")), None)
        if host is None or local_name(host) != "transaction":
            yield _problem(name, el, "a cancel boundary event belongs on a transaction "
                           "sub-process")
            return
        others = [b for b in container if local_name(b) == "boundaryEvent"
                  and b.get("attachedToRef") == host.get("id")
                  and definition_of(b, "cancelEventDefinition") is not None]
        if others[0] is not el:
            yield _problem(name, el, f"transaction '{host.get('id')}' has more than one cancel "
                           "boundary event; keep one")
    else:
        yield _problem(name, el, "cancel events are the end events of a transaction and the "
                       "boundary event on it; use one of those")
