"""The customer's view, and starting a process from the pages.

A customer sees the instances of their own company (the engine's
``Queries.instances`` applies that rule), the step each stands at, the tasks
asked of them, and what the loaded extensions add (the LSPro: certificates and
bills). On an instance's page a customer sees its progress in milestones
(:mod:`.progress`), not its diagrams; :func:`instance_view` builds that, and the
names of elements and fields every reader of the page sees in place of ids.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.composition import Services
from engine.errors import Forbidden
from engine.identity.access import Actor
from engine.models import Document, FormDefinition, ProcessInstance, Task, Timer
from engine.queries.lists import may_act_on

from ..context import engine
from ..v1.definitions import may_start
from . import bp, i18n
from .bpmn_outline import Outline
from .progress import element_names, message_labels, milestones_of, outlines_for, progress
from .session import reading, writing


@bp.get("/applications")
def applications() -> ResponseReturnValue:
    with reading() as (services, actor):
        page = services.queries.instances(actor, per_page=100)
        steps = services.queries.open_tasks_of_instances(actor, [i.id for i in page.items])
        mine = services.queries.tasks(actor, per_page=100).items
        # What the loaded extensions add to a customer's page (certificates, bills...).
        sections = [(section.template, section.build(services, actor))
                    for section in engine().setup.customer_sections]
        return render_template(
            "applications.html", page=page, steps=steps, my_tasks=mine, sections=sections,
            may_act={t.id: may_act_on(actor, t) for ts in steps.values() for t in ts})


@bp.get("/start")
def start_page() -> ResponseReturnValue:
    with reading() as (services, actor):
        startable = [d for d in services.deployments.definitions(latest=True)
                     if may_start(actor, services, d)]
        return render_template("start.html", definitions=startable,
                               staff=not actor.is_customer)


@bp.post("/start/<key>")
def start(key: str) -> ResponseReturnValue:
    business_key = (request.form.get("business_key") or "").strip()[:255] or None
    company = (request.form.get("company") or "").strip()[:255] or None
    with writing() as (services, actor):
        definition = services.deployments.latest(key)
        if not may_start(actor, services, definition):
            raise Forbidden(f"you may not start {key}")
        started = services.start_instance(
            key, definition_id=definition.id, variables={}, business_key=business_key,
            actor=actor.username, company=actor.company if actor.is_customer else company)
        follow = [t for t in services.queries.tasks(actor, instance_id=started.id).items
                  if may_act_on(actor, t)]
        instance_id = started.id
    flash(i18n.translate(i18n.current(), "start.started", name=definition.name or key), "ok")
    if follow:
        return redirect(url_for("web.task_page", task_id=follow[0].id))
    return redirect(url_for("web.instance_page", instance_id=instance_id))


# -- one instance's page: what a customer sees in place of diagrams, and names for all --

# History kinds a customer reads as events of their application.
RECENT_KINDS = ("instance_started", "task_completed", "message_received", "timer_fired",
                "document_generated", "instance_completed", "instance_cancelled",
                "business_key_assigned")
RECENT = 8


def field_labels(services: Services, outlines: dict[str, Outline]) -> dict[str, str]:
    """Form field key -> its label, over the forms the instance's user tasks show."""
    return form_words(services, outlines)[0]


def form_words(services: Services, outlines: dict[str, Outline]
               ) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Over the forms the instance's user tasks show: field key -> its label, and
    field key -> {value: label} of the fields offering choices (select, radio...)."""
    form_ids = {e.form for o in outlines.values() for e in o.elements.values() if e.form}
    labels: dict[str, str] = {}
    choices: dict[str, dict[str, str]] = {}
    if not form_ids:
        return labels, choices
    rows = services.session.scalars(
        sa.select(FormDefinition).where(FormDefinition.form_id.in_(form_ids))
        .order_by(FormDefinition.form_id, FormDefinition.version.desc()))
    seen: set[str] = set()
    for form in rows:
        if form.form_id in seen:
            continue  # only the latest version of each form
        seen.add(form.form_id)
        _labels_of(form.schema.get("components") or [], labels, choices)
    return labels, choices


def _labels_of(components: list[Any], labels: dict[str, str],
               choices: dict[str, dict[str, str]]) -> None:
    for component in components:
        if not isinstance(component, dict):
            continue
        key, label = component.get("key"), component.get("label")
        if isinstance(key, str) and isinstance(label, str) and label.strip():
            labels.setdefault(key, label.strip())
        values = component.get("values")
        if isinstance(key, str) and isinstance(values, list):
            offered = choices.setdefault(key, {})
            for entry in values:
                if isinstance(entry, dict) and isinstance(entry.get("label"), str):
                    offered.setdefault(str(entry.get("value")), entry["label"])
        _labels_of(component.get("components") or [], labels, choices)


def value_word(key: str, value: Any, lang: str,
               choices: dict[str, dict[str, str]]) -> str | None:
    """The words for a coded value of field ``key``: the extension's (page words
    ``value.<key>.<value>``, e.g. a bill's state), else the label a form offers the
    value under (a scheme type's description); None when there are none."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    word = i18n.translate(lang, f"value.{key}.{value}", default="")
    return word or choices.get(key, {}).get(str(value))


def instance_view(services: Services, actor: Actor, instance: ProcessInstance, *,
                  marks: dict[str, set[str]], history: list[Any], timers: list[Timer],
                  tasks: list[Task], variables: dict[str, Any],
                  documents: list[Document]) -> dict[str, Any]:
    """What the instance page shows besides its facts: names for element ids and
    fields, and for a customer the progress view (``_progress.html``)."""
    outlines = outlines_for(services, instance)
    names = element_names(outlines.values())
    labels, choices = form_words(services, outlines)
    view: dict[str, Any] = {"element_names": names, "field_labels": labels,
                            "message_labels": message_labels(outlines.values()),
                            "customer_view": actor.is_customer}
    if not actor.is_customer:
        view["variable_rows"] = variable_rows(variables, labels, choices, i18n.current(),
                                              {d.id: d.name for d in documents})
        return view
    own = outlines[services.deployments.get(instance.definition_id).key]
    milestones = milestones_of(outlines, own.key)
    asked = [t for t in tasks if may_act_on(actor, t)]
    view["progress"] = progress(milestones, marks,
                                running=instance.status in ("running", "error", "suspended"))
    view["asked"] = asked
    view["deadlines"] = _deadlines(outlines, names, asked, timers)
    recent = [e for e in history if e.kind in RECENT_KINDS]
    view["recent"] = list(reversed(recent[-RECENT:]))
    return view


def _deadlines(outlines: dict[str, Outline], names: dict[str, str], asked: list[Task],
               timers: list[Timer]) -> list[tuple[str, datetime]]:
    """The customer's deadlines: their tasks' due times, and the timers they race
    against (a timer event the flow waits at, or one on a task of theirs)."""
    found = [(t.title or names.get(t.element_id) or "", t.due_at) for t in asked if t.due_at]
    elements = {e.id: e for o in outlines.values() for e in o.elements.values()}
    theirs = {t.element_id for t in asked}
    for timer in timers:
        element = elements.get(timer.element_id)
        if element is None or not element.name:
            continue
        if element.kind == "intermediateCatchEvent" or element.attached_to in theirs:
            found.append((element.name, timer.due_at))
    return sorted(found, key=lambda pair: pair[1])


def shown_value(value: Any, lang: str, documents: dict[str, str] | None = None) -> str:
    """A variable's value as a person reads it: yes/no, a document's name (for its
    reference or its id), a list joined, an object's entries; never JSON."""
    documents = documents or {}
    if isinstance(value, bool):
        return i18n.translate(lang, "yes" if value else "no")
    if value is None or value == "" or value == [] or value == {}:
        return "\u2013"  # an en dash: nothing
    if isinstance(value, dict):
        if "name" in value and "id" in value:
            return str(value["name"])  # a document reference
        return "; ".join(f"{_humane(str(k))}: {shown_value(v, lang, documents)}"
                         for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(shown_value(item, lang, documents) for item in value)
    if isinstance(value, str) and value in documents:
        return documents[value]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _humane(key: str) -> str:
    """A variable name without a label, made readable: ``batas_bayar`` -> ``Batas bayar``."""
    words = key.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else key


def variable_rows(variables: dict[str, Any], labels: dict[str, str],
                  choices: dict[str, dict[str, str]], lang: str,
                  documents: dict[str, str]) -> list[tuple[str, str, str]]:
    """(label, key, value in words) for each variable, labelled ones first."""
    rows = [(labels.get(k) or _humane(k), k,
             value_word(k, v, lang, choices) or shown_value(v, lang, documents))
            for k, v in variables.items()]
    return sorted(rows, key=lambda row: (row[1] not in labels, row[0].lower()))
