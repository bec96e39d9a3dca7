"""Process instances: the monitor's list, one instance, its documents, admin commands.

Who sees what follows the engine's rules (``Queries.instance``: staff see every
instance, a customer their company's); the commands are the admin commands of
``api/v1/instances.py`` and ``api/v1/incidents.py``, with the same services.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import Forbidden, InvalidInput
from engine.queries.lists import INSTANCE_STATUSES

from .. import incident_view, jsonio
from ..context import engine
from ..v1.documents import send_document
from . import bp, i18n
from .customer import instance_view
from .diagrams import diagrams_for, element_marks
from .layout import page_arg, page_count
from .session import reading, writing

PER_PAGE = 25
# A person who suspends, resumes or cancels an instance says why, in a few sentences:
# the history keeps it for the audit and shows it to whoever reads the instance.
REASON_MAX = 500
DONE_MESSAGES = {"suspend": "instance.suspended", "resume": "instance.resumed",
                 "cancel": "instance.cancelled"}


@bp.get("/instances")
def instance_list() -> ResponseReturnValue:
    status = request.args.get("status") if request.args.get("status") in INSTANCE_STATUSES \
        else None
    key = request.args.get("key") or None
    business_key = (request.args.get("business_key") or "").strip() or None
    overdue = request.args.get("overdue") == "1"
    incidents = request.args.get("incidents") == "1"
    search = (request.args.get("q") or "").strip()[:100] or None
    with reading() as (services, actor):
        if actor.is_customer:
            return redirect(url_for("web.applications"))
        page = services.queries.instances(
            actor, status=status, key=key, business_key=business_key, search=search,
            overdue_at=engine().clock.now() if overdue else None,
            with_open_incidents=incidents, page=page_arg(), per_page=PER_PAGE)
        ids = [i.id for i in page.items]
        steps = services.queries.open_tasks_of_instances(actor, ids)
        awaited = services.queries.awaited_messages_of(ids)
        processes = [(d.key, d.name or d.key)
                     for d in services.deployments.definitions(latest=True)]
        return render_template(
            "instances.html", page=page, steps=steps, awaited=awaited, processes=processes,
            statuses=INSTANCE_STATUSES, status=status, key=key, business_key=business_key or "",
            overdue=overdue, incidents=incidents, q=search or "",
            pages=page_count(page.total, PER_PAGE))


@bp.get("/instances/<instance_id>")
def instance_page(instance_id: str) -> ResponseReturnValue:
    with reading() as (services, actor):
        instance = services.queries.instance(actor, instance_id)
        tasks = services.queries.open_tasks_seen_by(actor, instance.id)
        lang = i18n.current()
        history = incident_view.history_for(
            actor, services.queries.history(actor, instance.id, per_page=200).items, lang)
        incidents = incident_view.incidents_for(
            actor, services.queries.incidents(instance_id=instance.id, status=None,
                                              per_page=200).items, lang)
        timers = services.queries.instance_timers(instance.id)
        active = services.runtime.active_elements(instance)
        marks = element_marks(active=active, history=history, incidents=incidents,
                              timers=timers)
        variables = services.runtime.variables(instance) if not actor.is_customer else {}
        every = services.documents.list_for_instance(instance.id)
        documents = services.documents.visible_to(actor, every)
        awaited = (services.queries.awaited_messages(instance.id)
                   if not actor.is_customer and instance.status == "running" else [])
        fixes = _fixes(services, actor, instance, incidents, history, variables)
        return render_template(
            "instance.html", instance=instance, tasks=tasks, history=history,
            incidents=incidents, timers=timers, variables=variables, awaited=awaited,
            variables_json={k: jsonio.dumps(v, ensure_ascii=False, default=str)
                            for k, v in sorted(variables.items())},
            documents=documents, hidden_documents={d.id for d in every} - {d.id for d in documents},
            clock=services.service_clocks.of(instance) if not actor.is_customer else None,
            # A customer reads the progress view (customer.instance_view), not diagrams.
            diagrams=[d.as_json() for d in diagrams_for(services, instance, marks, actor)],
            is_admin=actor.is_admin, fixes=fixes, reason_max=REASON_MAX,
            **instance_view(services, actor, instance, marks=marks, history=history,
                            timers=timers, tasks=tasks, variables=variables,
                            documents=every))


def _fixes(services: Any, actor: Any, instance: Any, incidents: list[Any], history: list[Any],
           variables: dict[str, Any]) -> dict[int, list[incident_view.FixField]]:
    """Per open incident caused by values, the value form ``actor`` may use to fix it."""
    found: dict[int, list[incident_view.FixField]] = {}
    for incident in incidents:
        fields = incident_view.fix_fields(incident, history, variables)
        roles = incident_view.step_roles(services.runtime.stored_spec(instance.definition_id),
                                         incident.element_id) if fields else set()
        if fields and incident_view.may_fix(actor, roles):
            found[incident.id] = [f for f in fields if actor.is_admin or f.kind != "json"]
    return found


def _reason() -> str:
    """The reason sent with a command: required, at most :data:`REASON_MAX` characters."""
    reason = (request.form.get("reason") or "").strip()
    lang = i18n.current()
    if not reason:
        message = i18n.translate(lang, "instance.reason_required")
        raise InvalidInput(message, {"reason": message})
    if len(reason) > REASON_MAX:
        message = i18n.translate(lang, "instance.reason_too_long", limit=REASON_MAX)
        raise InvalidInput(message, {"reason": message})
    return reason


def _admin_command(instance_id: str, what: str) -> ResponseReturnValue:
    with writing() as (services, actor):
        if not actor.is_admin:
            raise Forbidden(f"you may not {what} instances")
        reason = _reason()  # after the permission: a clerk is told they may not, first
        services.queries.instance(actor, instance_id)
        if what == "suspend":
            services.runtime.suspend(instance_id, actor=actor.username, reason=reason)
        elif what == "resume":
            services.runtime.resume(instance_id, actor=actor.username, reason=reason)
        else:
            services.runtime.cancel(instance_id, actor=actor.username, reason=reason)
    flash(i18n.translate(i18n.current(), DONE_MESSAGES[what]), "ok")
    return redirect(url_for("web.instance_page", instance_id=instance_id))


@bp.post("/instances/<instance_id>/suspend")
def suspend(instance_id: str) -> ResponseReturnValue:
    return _admin_command(instance_id, "suspend")


@bp.post("/instances/<instance_id>/resume")
def resume(instance_id: str) -> ResponseReturnValue:
    return _admin_command(instance_id, "resume")


@bp.post("/instances/<instance_id>/cancel")
def cancel(instance_id: str) -> ResponseReturnValue:
    return _admin_command(instance_id, "cancel")


@bp.post("/incidents/<int:incident_id>/retry")
def retry_incident(incident_id: int) -> ResponseReturnValue:
    text = (request.form.get("variables") or "").strip()
    try:
        variables: Any = jsonio.loads(text) if text else {}
    except jsonio.RefusedJSON as exc:
        raise InvalidInput(f"the corrected variables are not JSON: {exc}",
                           {"variables": str(exc)}) from None
    except ValueError:
        variables = None
    if not isinstance(variables, dict):
        raise InvalidInput("the corrected variables must be a JSON object",
                           {"variables": "a JSON object such as {\"nilai\": 3}"})
    with writing() as (services, actor):
        if not actor.is_admin:
            raise Forbidden("you may not retry incidents")
        incident = services.queries.incident(incident_id)
        services.runtime.retry_incident(incident_id, actor=actor.username, variables=variables)
        instance_id = incident.instance_id
    flash(i18n.translate(i18n.current(), "incident.retried"), "ok")
    return redirect(url_for("web.instance_page", instance_id=instance_id))


@bp.post("/incidents/<int:incident_id>/fix")
def fix_incident(incident_id: int) -> ResponseReturnValue:
    """Set the variables an incident's step refused and run the step again, in one command.

    Only the variables the step named are taken, each parsed as its current
    value's type; admins and staff of the step's role may (``incident_view``).
    """
    with writing() as (services, actor):
        instance, fields = incident_view.fixable(services, actor, incident_id)
        values = incident_view.parse_fix(fields, request.form, admin=actor.is_admin)
        services.runtime.retry_incident(incident_id, actor=actor.username, variables=values)
        instance_id = instance.id
    flash(i18n.translate(i18n.current(), "incident.fixed"), "ok")
    return redirect(url_for("web.instance_page", instance_id=instance_id))


@bp.get("/documents/<document_id>")
def download(document_id: str) -> ResponseReturnValue:
    """Download a document; whoever may see its instance may (as ``GET /api/v1/documents``)."""
    with reading() as (services, actor):
        return send_document(services, actor, document_id)
