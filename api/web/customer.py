"""The customer's view, and starting a process from the pages.

A customer sees the instances of their own company (the engine's
``Queries.instances`` applies that rule), the step each stands at, the tasks
asked of them, and what the loaded extensions add (the LSPro: certificates and
bills).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import Forbidden
from engine.queries.lists import may_act_on

from ..context import engine
from ..v1.definitions import may_start
from . import bp, i18n
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
